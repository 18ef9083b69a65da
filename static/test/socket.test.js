// The connection's states: every connect joins; a lost one says so and comes back.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { followConnection } from '../src/live/socket.js';
import { fakeClock, fakeSocket, fakeView } from './fakes.js';

let clock;
afterEach(() => clock?.restore());

function follow(mode = 'live', options) {
  const socket = fakeSocket(options);
  const state = { mode };
  const view = fakeView(state);
  const session = { joins: 0, forgets: 0 };
  session.join = () => (session.joins += 1);
  session.forget = () => (session.forgets += 1);
  followConnection(socket, state, view, session);
  return { socket, state, view, session };
}

test('every connect joins (Python Socket.IO has no state recovery)', () => {
  const { socket, session } = follow();
  socket.fire('connect');
  socket.fire('connect');
  assert.equal(session.joins, 2);
});

test('a disconnect forgets the join on its way and shows reconnecting', () => {
  const { socket, state, session } = follow();
  socket.fire('disconnect', 'transport close');
  assert.equal(session.forgets, 1);
  assert.equal(state.mode, 'reconnecting');
  assert.equal(socket.connects, 0); // the client reconnects by itself
});

test('a disconnect by the server is reconnected by us', () => {
  const { socket } = follow();
  socket.fire('disconnect', 'io server disconnect');
  assert.equal(socket.connects, 1);
});

test('an inactive unit stays inactive and does not reconnect', () => {
  const { socket, state, session, view } = follow('inactive');
  socket.fire('disconnect', 'io server disconnect');
  assert.equal(session.forgets, 1);
  assert.equal(state.mode, 'inactive');
  assert.equal(socket.connects, 0);
  clock = fakeClock();
  socket.active = false;
  socket.fire('connect_error', { data: { retry_after: 2 } });
  assert.deepEqual(clock.delays, []);
  assert.deepEqual(view.calls, []);
});

test('a refused connect is tried again when the server says, jittered up to twice that', () => {
  clock = fakeClock({ random: 0.5 });
  const { socket, state } = follow('connecting', { active: false });
  socket.fire('connect_error', { message: 'rate_limited', data: { error: 'rate_limited', retry_after: 2 } });
  assert.equal(state.mode, 'reconnecting');
  assert.deepEqual(clock.delays, [3000]);
  clock.run();
  assert.equal(socket.connects, 1);
  socket.fire('connect_error', new Error('refused'));
  assert.deepEqual(clock.delays, [7500]); // 5 s without a retry_after
});

test('a connect error the client retries itself is left to it', () => {
  clock = fakeClock();
  const { socket, state } = follow('live', { active: true });
  socket.fire('connect_error', new Error('websocket error'));
  assert.equal(state.mode, 'reconnecting');
  assert.deepEqual(clock.delays, []);
});

test('WebSocket at once, long-polling only when the WebSocket cannot open', async () => {
  globalThis.location = new URL('https://ads.example/w/abc');
  try {
    const { socketOptions } = await import('../src/live/socket.js');
    const options = socketOptions({ base: 'https://ads.example/prefix/' });
    assert.deepEqual(options.transports, ['websocket', 'polling']);
    assert.equal(options.tryAllTransports, true);
    assert.equal(options.path, '/prefix/socket.io');
  } finally {
    delete globalThis.location;
  }
});
