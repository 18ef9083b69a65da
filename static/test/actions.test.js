// The exactly-once queue: an action keeps its id until the server acknowledges it, is re-sent
// with that id after a lost answer, a rejoin or an unavailable store, and is dropped only when
// refused for good.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import { createActions } from '../src/live/actions.js';
import { fakeClock, fakeSocket, fakeT, fakeView } from './fakes.js';

let clock;
beforeEach(() => (clock = fakeClock({ random: 0.5 })));
afterEach(() => clock.restore());

const button = (action = '', data = {}) => ({ dataset: data, getAttribute: () => action });

/** A live unit whose session is a recorder (its retryLater is the real one's contract). */
function unit(activity = {}, { mode = 'live' } = {}) {
  const socket = fakeSocket();
  const state = { mode };
  const view = fakeView(state);
  const counted = [];
  const refusals = [];
  const hooks = {
    onAction: (ack, btn, root) => counted.push({ ack, btn, root }),
    onError: (error, btn, res) => refusals.push({ error, btn, res }),
    ...activity,
  };
  const session = {
    calls: [],
    connected: () => socket.connected && state.mode !== 'inactive',
    retryLater: (fn) => setTimeout(() => session.connected() && fn(), 3000),
    join: () => session.calls.push('join'),
    regroup: (reason) => session.calls.push(['regroup', reason]),
    unavailable: () => session.calls.push('unavailable'),
  };
  const actions = createActions(socket, hooks, state, { view, session, t: fakeT });
  return { socket, state, view, session, actions, counted, refusals };
}

test('a click sends an action with a fresh id and its kind, kept until acknowledged', () => {
  const { socket, actions, view, counted } = unit();
  const btn = button('pledge');
  actions.act(btn);
  const [sent] = socket.of('act');
  assert.equal(sent.timeout, 8000);
  assert.deepEqual(Object.keys(sent.payload), ['id', 'kind']);
  assert.equal(sent.payload.kind, 'pledge');
  assert.deepEqual([...actions.pending.keys()], [sent.payload.id]);
  socket.answer('act', { ok: true, total: 6 });
  assert.equal(actions.pending.size, 0);
  assert.deepEqual(view.calls, [['applyTotals', { ok: true, total: 6 }]]);
  assert.equal(counted.length, 1);
  assert.equal(counted[0].btn, btn);
  assert.equal(counted[0].root, view.root);
});

test("the activity's payload: a kind that is a string, data that is an object", () => {
  const payloads = [
    [{ kind: 'vote', data: { option: 2 } }, { kind: 'vote', data: { option: 2 } }],
    [{ kind: '', data: 'x' }, {}],
    [{ kind: 3, data: null }, {}],
    [undefined, {}],
  ];
  for (const [given, expected] of payloads) {
    const { socket, actions } = unit({ actionPayload: () => given });
    actions.act(button('ignored when actionPayload exists'));
    const { id, ...rest } = socket.of('act')[0].payload;
    assert.deepEqual(rest, expected, JSON.stringify(given));
  }
  const { socket, actions } = unit();
  actions.act(button(''));
  assert.deepEqual(Object.keys(socket.of('act')[0].payload), ['id']);
});

test('no action while not live', () => {
  for (const mode of ['connecting', 'reconnecting', 'inactive']) {
    const { socket, actions } = unit({}, { mode });
    actions.act(button('pledge'));
    assert.equal(socket.sent.length, 0);
    assert.equal(actions.pending.size, 0);
  }
});

test('a lost answer re-sends the same id later, while live; the counted copy says duplicate', () => {
  const { socket, actions, counted } = unit();
  actions.act(button('pledge'));
  const { id } = socket.of('act')[0].payload;
  socket.answer('act', undefined, { err: new Error('operation has timed out') });
  assert.equal(actions.pending.size, 1);
  assert.deepEqual(clock.delays, [3000]);
  clock.run();
  assert.equal(socket.of('act').length, 2);
  assert.equal(socket.of('act')[1].payload.id, id);
  assert.equal(socket.of('act')[1].payload, socket.of('act')[0].payload); // the very same action
  socket.answer('act', { ok: true, duplicate: true, total: 6 });
  assert.equal(actions.pending.size, 0);
  assert.equal(counted.length, 0); // counted once already: the activity is not told twice
});

test('a retry due when no longer live waits for the next join', () => {
  const { socket, state, actions } = unit();
  actions.act(button('pledge'));
  socket.answer('act', undefined, { err: new Error('timeout') });
  state.mode = 'reconnecting';
  clock.run();
  assert.equal(socket.of('act').length, 1);
  assert.equal(actions.pending.size, 1);
});

test('sent while disconnected it stays pending; the join re-sends every pending id', () => {
  const { socket, actions } = unit();
  socket.connected = false;
  actions.act(button('a'));
  actions.act(button('b'));
  assert.equal(socket.sent.length, 0);
  assert.equal(actions.pending.size, 2);
  socket.connected = true;
  actions.sendPending();
  const ids = socket.of('act').map((s) => s.payload.id);
  assert.deepEqual(ids, [...actions.pending.keys()]);
  socket.answer('act', { ok: true }, { i: 0 });
  socket.answer('act', { ok: true }, { i: 1 });
  assert.equal(actions.pending.size, 0);
  actions.sendPending();
  assert.equal(socket.of('act').length, 2);
});

test('not joined (the server restarted): join, and the action stays for its re-send', () => {
  const { socket, actions, session, refusals } = unit();
  actions.act(button('pledge'));
  socket.answer('act', { ok: false, error: { code: 'not_joined' } });
  assert.deepEqual(session.calls, ['join']);
  assert.equal(actions.pending.size, 1);
  assert.equal(refusals.length, 0);
});

test('an unavailable store keeps the action; the session joins again', () => {
  const { socket, actions, session } = unit();
  actions.act(button('pledge'));
  socket.answer('act', { ok: false, error: { code: 'unavailable' } });
  assert.deepEqual(session.calls, ['unavailable']);
  assert.equal(actions.pending.size, 1);
});

test('a closed group: not counted, the session starts anew and the action goes with it', () => {
  const { socket, actions, session } = unit();
  actions.act(button('pledge'));
  socket.answer('act', { ok: false, error: { code: 'not_found', closed: true, reason: 'spam' } });
  assert.deepEqual(session.calls, [['regroup', 'spam']]);
  assert.equal(actions.pending.size, 1);
});

test('refused for good: dropped, the activity asked, the catalog note shown', () => {
  const cases = [
    [{ code: 'rate_limited', retry_after: 1 }, ['note.slow_down', 2500]],
    [{ code: 'invalid', capped: true }, ['note.capped', 4000]],
    [{ code: 'invalid', already: 'vote' }, ['note.already', 4000]],
    [{ code: 'invalid' }, ['note.failed', 4000]],
  ];
  for (const [error, note] of cases) {
    const { socket, actions, view, refusals } = unit();
    const btn = button('pledge');
    actions.act(btn);
    const res = { ok: false, error };
    socket.answer('act', res);
    assert.equal(actions.pending.size, 0);
    assert.deepEqual(refusals, [{ error, btn, res }]);
    assert.deepEqual(view.notes, [note], error.code);
  }
});

test("the activity's own words win over the core's note", () => {
  const { socket, actions, view } = unit({ onError: () => 'Wait 7 s' });
  actions.act(button('go'));
  socket.answer('act', { ok: false, error: { code: 'rate_limited' } });
  assert.deepEqual(view.notes, [['Wait 7 s', 4000]]);
});

test('an inactive answer ends the unit instead of a note; a refusal without error still asks', () => {
  const { socket, actions, view, refusals } = unit();
  actions.act(button('go'));
  const res = { ok: false, error: { code: 'inactive', status: 'ended' } };
  socket.answer('act', res);
  assert.deepEqual(view.calls, [['inactiveFrom', res]]);
  assert.deepEqual(view.notes, []);
  assert.equal(refusals.length, 1);
  const other = unit();
  other.actions.act(button('go'));
  other.socket.answer('act', undefined);
  assert.deepEqual(other.refusals[0].error, {});
  assert.deepEqual(other.view.notes, [['note.failed', 4000]]);
});

test('a re-sent action that is counted tells the activity without a button', () => {
  const { socket, actions, counted } = unit();
  actions.act(button('pledge'));
  socket.answer('act', undefined, { err: new Error('timeout') });
  actions.sendPending(); // after the rejoin
  socket.answer('act', { ok: true, total: 1 });
  assert.equal(counted.length, 1);
  assert.equal(counted[0].btn, undefined);
});
