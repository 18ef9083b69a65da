/*
 * Saying something in the chat. A message carries an id like an action does: sending the same
 * text again after a failure reuses its id (the server keeps one copy), a new text gets a new
 * one. Unlike actions nothing is re-sent by itself: the viewer reads why it failed and decides.
 * The socket, the input and the parts it moves are arguments (static/test/chat.test.js).
 */
import { errorCode } from './session.js';
import { ACK_TIMEOUT } from './retry.js';
import { uuid } from './storage.js';

const SAY_ERRORS = ['rate_limited', 'too_large', 'invalid', 'not_joined', 'unavailable'];

/**   input: the chat input; state: {mode}; the parts: createView(), createSession(), createMessages() */
export function createChat(socket, input, state, { view, session, messages, t }) {
  let draft = null; // {id, text}: sending the same text again after a failure reuses its id

  function say() {
    const text = input.value.trim();
    if (!text) return;
    if (state.mode !== 'live') return view.chatNote(t('chat.not_joined'));
    if (!draft || draft.text !== text) draft = { id: uuid(), text };
    const sent = draft;
    socket.timeout(ACK_TIMEOUT).emit('say', { id: sent.id, text: sent.text }, (err, res) => {
      if (err) return view.chatNote(t('chat.failed'));
      if (res?.ok) {
        if (draft === sent) draft = null;
        if (input.value.trim() === sent.text) input.value = '';
        view.chatNote('');
        if (res.message) messages.add(res.message);
        return;
      }
      const code = errorCode(res);
      if (code === 'inactive') return view.inactiveFrom(res);
      if (res?.error?.closed) return session.regroup(res.error.reason);
      if (code === 'not_joined') session.join();
      if (code === 'unavailable') session.unavailable();
      view.chatNote(t(SAY_ERRORS.includes(code) ? `chat.${code}` : 'chat.failed'));
    });
  }

  // Enter sends (not Shift+Enter, nor an IME's Enter while composing), and so does the form.
  input.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    say();
  });
  input.form?.addEventListener('submit', (event) => {
    event.preventDefault();
    say();
  });

  return { say };
}
