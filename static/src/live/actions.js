/*
 * Actions and their re-send: the exactly-once half of the live core.
 *
 * A click becomes an action with a fresh id, kept in `pending` until the server acknowledges
 * it. After a lost answer, a reconnect or an unavailable store it is sent again with the same
 * id (the server counts an id once; a counted one answers `duplicate: true`); only a refusal
 * for good takes it out. No DOM here beyond the clicked button handed to the activity, so Node
 * drives the queue with a fake socket (static/test/actions.test.js).
 */
import { errorCode } from './session.js';
import { ACK_TIMEOUT } from './retry.js';
import { uuid } from './storage.js';

/**
 *   activity: the widget's hooks (actionPayload, onAction, onError); state: {mode};
 *   view: createView(); session: createSession()
 */
export function createActions(socket, activity, state, { view, session, t }) {
  const pending = new Map(); // action id -> payload, until the server acknowledges it

  function send(action, button) {
    if (!session.connected()) return; // stays pending: re-sent after the next join
    socket.timeout(ACK_TIMEOUT).emit('act', action, (err, res) => {
      if (err) return session.retryLater(resend);
      if (res?.ok) {
        pending.delete(action.id);
        view.applyTotals(res);
        if (!res.duplicate) activity.onAction?.(res, button, view.root);
        return;
      }
      const code = errorCode(res);
      if (code === 'not_joined') return session.join(); // the server forgot us (restart): join re-sends
      if (res?.error?.closed) return session.regroup(res.error.reason); // not counted: start anew
      if (code === 'unavailable') return session.unavailable(); // stays pending: re-sent after the join
      pending.delete(action.id); // rejected for good: sending it again cannot help
      // The server's message is for the API (English); the viewer reads the catalog's words,
      // the activity's own when onError returns them.
      const told = activity.onError?.(res?.error || {}, button, res);
      if (code === 'inactive') view.inactiveFrom(res);
      else if (typeof told === 'string') view.note(told, 4000);
      else if (code === 'rate_limited') view.note(t('note.slow_down'), 2500);
      else if (res?.error?.capped) view.note(t('note.capped'), 4000);
      else if (res?.error?.already) view.note(t('note.already'), 4000);
      else view.note(t('note.failed'), 4000);
    });
  }

  /** Every action not yet acknowledged, again with its id (after a join: its snapshot is in). */
  function sendPending() {
    for (const action of pending.values()) send(action);
  }

  /** After a lost answer: only while live (a join in between re-sends them itself). */
  function resend() {
    if (state.mode === 'live') sendPending();
  }

  /** A click on [data-socialad-action]: the activity says what it sends ({kind?, data?}). */
  function act(button) {
    if (state.mode !== 'live') return;
    const extra = activity.actionPayload
      ? activity.actionPayload(button) || {}
      : { kind: button.getAttribute('data-socialad-action') || undefined };
    const action = { id: uuid() };
    if (typeof extra.kind === 'string' && extra.kind) action.kind = extra.kind;
    if (extra.data && typeof extra.data === 'object') action.data = extra.data;
    pending.set(action.id, action);
    send(action, button);
  }

  return { act, sendPending, pending };
}
