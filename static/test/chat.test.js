// Saying something: the same text after a failure keeps its id, and each failure is told.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createChat } from '../src/live/chat.js';
import { fakeMessages, fakeSocket, fakeT, fakeView } from './fakes.js';

function fakeInput(value = '') {
  const listeners = {};
  return {
    value,
    listeners,
    form: { addEventListener: (type, fn) => (listeners[`form:${type}`] = fn) },
    addEventListener: (type, fn) => (listeners[type] = fn),
  };
}

function unit({ mode = 'live', value = 'hello' } = {}) {
  const socket = fakeSocket();
  const state = { mode };
  const view = fakeView(state);
  const messages = fakeMessages();
  const calls = [];
  const session = {
    join: () => calls.push('join'),
    regroup: (reason) => calls.push(['regroup', reason]),
    unavailable: () => calls.push('unavailable'),
  };
  const input = fakeInput(value);
  const chat = createChat(socket, input, state, { view, session, messages, t: fakeT });
  return { socket, state, view, messages, calls, input, chat };
}

test('a message is sent trimmed, with an id; an ok clears the input and shows it', () => {
  const { socket, chat, input, view, messages } = unit({ value: '  hello  ' });
  chat.say();
  const [sent] = socket.of('say');
  assert.equal(sent.timeout, 8000);
  assert.deepEqual(Object.keys(sent.payload), ['id', 'text']);
  assert.equal(sent.payload.text, 'hello');
  socket.answer('say', { ok: true, message: { id: 9, text: 'hello' } });
  assert.equal(input.value, '');
  assert.deepEqual(view.chatNotes, ['']);
  assert.deepEqual(messages.added, [{ id: 9, text: 'hello' }]);
});

test('the same text again after a failure keeps its id; a new text gets a new one', () => {
  const { socket, chat, input, view } = unit();
  chat.say();
  socket.answer('say', undefined, { err: new Error('timeout') });
  assert.deepEqual(view.chatNotes, ['chat.failed']);
  assert.equal(input.value, 'hello'); // kept for the viewer to send again
  chat.say();
  const [first, second] = socket.of('say');
  assert.equal(second.payload.id, first.payload.id);
  input.value = 'hello again';
  chat.say();
  assert.notEqual(socket.of('say')[2].payload.id, first.payload.id);
});

test('after an ok the same text is a new message', () => {
  const { socket, chat, input } = unit();
  chat.say();
  socket.answer('say', { ok: true });
  input.value = 'hello';
  chat.say();
  const [first, second] = socket.of('say');
  assert.notEqual(second.payload.id, first.payload.id);
});

test('an input edited while sending is left as it is', () => {
  const { socket, chat, input } = unit();
  chat.say();
  input.value = 'something else';
  socket.answer('say', { ok: true });
  assert.equal(input.value, 'something else');
});

test('nothing to say, or not live: nothing is sent', () => {
  const blank = unit({ value: '   ' });
  blank.chat.say();
  assert.equal(blank.socket.sent.length, 0);
  assert.deepEqual(blank.view.chatNotes, []);
  const offline = unit({ mode: 'reconnecting' });
  offline.chat.say();
  assert.equal(offline.socket.sent.length, 0);
  assert.deepEqual(offline.view.chatNotes, ['chat.not_joined']);
});

test('each refusal in its own words, and what the session does about it', () => {
  const cases = [
    ['rate_limited', 'chat.rate_limited', []],
    ['too_large', 'chat.too_large', []],
    ['invalid', 'chat.invalid', []],
    ['not_joined', 'chat.not_joined', ['join']],
    ['unavailable', 'chat.unavailable', ['unavailable']],
    ['something_new', 'chat.failed', []],
  ];
  for (const [code, note, calls] of cases) {
    const u = unit();
    u.chat.say();
    u.socket.answer('say', { ok: false, error: { code } });
    assert.deepEqual(u.view.chatNotes, [note], code);
    assert.deepEqual(u.calls, calls, code);
  }
});

test('inactive ends the unit, a closed group regroups, neither with a chat note', () => {
  const inactive = unit();
  inactive.chat.say();
  const res = { ok: false, error: { code: 'inactive', blocked: true, reason: 'abuse' } };
  inactive.socket.answer('say', res);
  assert.deepEqual(inactive.view.calls, [['inactiveFrom', res]]);
  assert.deepEqual(inactive.view.chatNotes, []);
  const closed = unit();
  closed.chat.say();
  closed.socket.answer('say', { ok: false, error: { code: 'not_found', closed: true, reason: 'spam' } });
  assert.deepEqual(closed.calls, [['regroup', 'spam']]);
  assert.deepEqual(closed.view.chatNotes, []);
});

test('Enter sends; Shift+Enter and an IME composing do not; the form submit sends', () => {
  const { socket, input } = unit();
  let prevented = 0;
  const key = (extra) => ({ key: 'Enter', preventDefault: () => (prevented += 1), ...extra });
  input.listeners.keydown(key({ shiftKey: true }));
  input.listeners.keydown(key({ isComposing: true }));
  input.listeners.keydown(key({ key: 'a' }));
  assert.equal(socket.sent.length, 0);
  input.listeners.keydown(key());
  assert.equal(socket.sent.length, 1);
  input.listeners['form:submit']({ preventDefault: () => (prevented += 1) });
  assert.equal(socket.sent.length, 2);
  assert.equal(prevented, 2);
});
