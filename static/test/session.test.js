// Joining and joining again, with a fake socket: one join at a time, the snapshot, and every
// way a join can fail ending in a group of our own, an inactive unit or a retry.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { createSession } from '../src/live/session.js';
import { fakeClock, fakeMessages, fakePage, fakeSocket, fakeT, fakeView } from './fakes.js';

let clock;
beforeEach(() => {
  clock = fakeClock({ random: 0.5 });
  fakePage('https://ads.example/w/c_test#o=https://news.example');
});
afterEach(() => clock.restore());

function unit({ session = null, name = '', mode = 'connecting' } = {}) {
  const socket = fakeSocket();
  const state = { mode, session, name, selfId: null };
  const view = fakeView(state);
  const messages = fakeMessages();
  const resends = [];
  const parts = { view, messages, resend: () => resends.push(state.session), t: fakeT };
  const joins = createSession(socket, { campaign: 'c_test' }, state, parts);
  return { socket, state, view, messages, resends, session: joins };
}

const ok = (extra) => ({ ok: true, session: 's_1', members: [], messages: [], total: 5, ...extra });
const refused = (code, extra) => ({ ok: false, error: { code, message: 'English for the API', ...extra } });

test('a join sends the campaign, this viewer, and the page origin, with an ack timeout', () => {
  const { socket, session } = unit();
  session.join();
  const [sent] = socket.of('join');
  assert.equal(sent.timeout, 8000);
  assert.deepEqual(Object.keys(sent.payload), ['campaign', 'viewer', 'origin']);
  assert.equal(sent.payload.campaign, 'c_test');
  assert.match(sent.payload.viewer, /^[A-Za-z0-9_-]{8,64}$/);
  assert.equal(sent.payload.origin, 'https://news.example');
});

test('a rejoin names the session, the viewer name and the last message seen', () => {
  const { socket, session, messages } = unit({ session: 's_1', name: 'Ana' });
  messages.last = 41;
  session.join();
  const { payload } = socket.of('join')[0];
  assert.deepEqual(Object.keys(payload), ['campaign', 'viewer', 'session', 'name', 'since', 'origin']);
  assert.deepEqual([payload.session, payload.name, payload.since], ['s_1', 'Ana', 41]);
  messages.last = 0; // message id 0 is still an id
  session.forget();
  session.join();
  assert.equal(socket.of('join')[1].payload.since, 0);
});

test('the snapshot: session kept, view and messages filled, live, totals, then the re-send', () => {
  const { socket, session, state, view, messages, resends } = unit();
  session.join();
  socket.answer('join', ok({ messages: [{ id: 1 }, { id: 2 }] }));
  assert.equal(state.session, 's_1');
  assert.equal(state.mode, 'live');
  assert.deepEqual(
    view.calls.map(([name]) => name),
    ['joined', 'setMode', 'applyTotals'],
  );
  assert.deepEqual(messages.added, [{ id: 1 }, { id: 2 }]);
  assert.deepEqual(resends, ['s_1']);
  assert.equal(messages.cleared, 1); // a new group (we had none): its log starts afresh
});

test('rejoining the same session keeps its log and count; a different one starts afresh', () => {
  const { socket, session, view, messages } = unit({ session: 's_1' });
  view.totals.session_total = 7;
  session.join();
  socket.answer('join', ok());
  assert.equal(messages.cleared, 0);
  assert.equal(view.totals.session_total, 7);
  session.join();
  socket.answer('join', ok({ session: 's_2' }));
  assert.equal(messages.cleared, 1);
  assert.equal(view.totals.session_total, 0);
});

test('one join at a time: one asked for meanwhile goes after the answer', () => {
  const { socket, session, state } = unit();
  session.join();
  session.join();
  session.join();
  assert.equal(socket.of('join').length, 1);
  socket.answer('join', ok());
  assert.equal(state.session, 's_1'); // the answer still counts
  assert.equal(socket.of('join').length, 2);
  assert.equal(socket.of('join')[1].payload.session, 's_1'); // the second joins the group the first made
});

test('the answer to a join from before a disconnect is ignored', () => {
  const { socket, session, state } = unit();
  session.join();
  session.forget(); // disconnected
  session.join(); // reconnected
  socket.answer('join', ok({ session: 's_old' }), { i: 0 });
  assert.equal(state.session, null);
  socket.answer('join', ok({ session: 's_new' }), { i: 1 });
  assert.equal(state.session, 's_new');
});

test('a lost answer joins again later, while connected', () => {
  const { socket, session } = unit();
  session.join();
  socket.answer('join', undefined, { err: new Error('operation has timed out') });
  assert.deepEqual(clock.delays, [3000]);
  clock.run();
  assert.equal(socket.of('join').length, 2);
  socket.connected = false;
  socket.answer('join', undefined, { err: new Error('operation has timed out') });
  clock.run();
  assert.equal(socket.of('join').length, 2); // the next connect joins instead
});

test('an expired invite starts a group of our own, saying so', () => {
  const { socket, session, state, view, messages } = unit({ session: 's_gone' });
  session.join();
  socket.answer('join', refused('not_found'));
  assert.equal(state.session, null);
  assert.equal(messages.cleared, 1);
  assert.deepEqual(view.notes, [['note.expired_invite']]);
  const again = socket.of('join')[1];
  assert.equal('session' in again.payload, false);
});

test('a group the brand closed: the reason is told, and a new group starts', () => {
  const { socket, session, state, view, messages } = unit({ session: 's_closed', mode: 'live' });
  view.totals.session_total = 4;
  session.join();
  socket.answer('join', refused('not_found', { closed: true, reason: 'spam' }));
  assert.equal(state.session, null);
  assert.equal(messages.cleared, 1);
  assert.equal(view.totals.session_total, 0);
  assert.deepEqual(view.notes, [['note.group_closed_reason{"reason":"spam"}']]);
  assert.equal(socket.of('join').length, 2);
  session.regroup('again'); // late answers about the closed group: already on our way
  assert.equal(view.notes.length, 1);
});

test('regroup without a reason, and while inactive no join', () => {
  const { socket, session, view, state } = unit({ session: 's_1', mode: 'inactive' });
  session.regroup(undefined);
  assert.deepEqual(view.notes, [['note.group_closed']]);
  assert.equal(state.session, null);
  assert.equal(socket.of('join').length, 0);
});

test('an inactive campaign ends the unit and the socket', () => {
  const { socket, session, view } = unit();
  session.join();
  const res = refused('inactive', { status: 'paused' });
  socket.answer('join', res);
  assert.deepEqual(view.calls, [['inactiveFrom', res]]);
  assert.equal(socket.disconnects, 1);
});

test('a campaign that is not found (no invite involved) is ended', () => {
  const { socket, session, view } = unit();
  session.join();
  socket.answer('join', refused('not_found'));
  assert.deepEqual(view.calls, [['goInactive', 'ended', undefined]]);
  assert.equal(socket.disconnects, 1);
  assert.equal(socket.of('join').length, 1);
});

test('an unavailable store: reconnecting, and a join again soon', () => {
  const { socket, session, state } = unit({ mode: 'live' });
  session.join();
  socket.answer('join', refused('unavailable'));
  assert.equal(state.mode, 'reconnecting');
  assert.deepEqual(clock.delays, [3000]);
  clock.run();
  assert.equal(socket.of('join').length, 2);
});

test('rate limited: joins again after the retry_after the server gave', () => {
  const { socket, session } = unit();
  session.join();
  socket.answer('join', { ...refused('rate_limited', { retry_after: 2 }), retry_after: 2 });
  assert.deepEqual(clock.delays, [2000]);
  clock.run();
  socket.answer('join', { ok: false, error: { code: 'rate_limited' }, retry_after: 0.5 });
  assert.deepEqual(clock.delays, [500]); // the top-level one when the error has none
  clock.run();
  socket.answer('join', refused('invalid'));
  assert.deepEqual(clock.delays, [3000]); // anything else: the usual delay
});

test('connected() is the socket connected and the unit not inactive', () => {
  const { socket, session, state } = unit({ mode: 'live' });
  assert.equal(session.connected(), true);
  state.mode = 'inactive';
  assert.equal(session.connected(), false);
  state.mode = 'live';
  socket.connected = false;
  assert.equal(session.connected(), false);
});
