/*
 * Joining the shared session, and joining it again.
 *
 * Reconnecting is just joining again: the join ack is a full snapshot (members, the messages
 * after `since`, totals), after which the actions not yet acknowledged are re-sent. Only one
 * join is on its way at a time: a join without a session starts a group, and must not start
 * two. An expired invite or a closed group ends in a group of our own, never a stranded viewer.
 *
 * The socket and the parts a join moves are arguments, so Node drives it with a fake socket
 * (static/test/session.test.js).
 */
import { isCount, pageOrigin } from './config.js';
import { ACK_TIMEOUT, RETRY_DELAY, createRetry } from './retry.js';
import { viewerId } from './storage.js';

export const errorCode = (res) => res?.error?.code;

/**
 *   state: {mode, session, name} shared with the other parts (this one keeps `session`)
 *   view: createView(); messages: createMessages(); resend(): re-send what is not acknowledged
 */
export function createSession(socket, config, state, { view, messages, resend, t }) {
  let attempt = 0;
  let joining = false; // a join is on its way
  let joinAgain = false; // another was asked for meanwhile

  const connected = () => socket?.connected && state.mode !== 'inactive';
  const retryLater = createRetry(connected);

  /** The server is up but cannot reach its store: say so honestly, and join again soon (the
   *  join's snapshot restores everything and re-sends what was not acknowledged). */
  function unavailable() {
    if (state.mode !== 'inactive') view.setMode('reconnecting');
    retryLater(join);
  }

  /** One join at a time: a join asked for while another is on its way waits for its answer. */
  function join() {
    if (joining) {
      joinAgain = true;
      return;
    }
    joining = true;
    const mine = ++attempt;
    const payload = { campaign: config.campaign, viewer: viewerId() };
    if (state.session) payload.session = state.session;
    if (state.name) payload.name = state.name;
    const since = messages.since();
    if (since != null) payload.since = since;
    const origin = pageOrigin(config);
    if (origin) payload.origin = origin;
    socket.timeout(ACK_TIMEOUT).emit('join', payload, (err, res) => {
      if (mine !== attempt) return; // from before a disconnect: a newer join is on its way
      joining = false;
      if (joinAgain) {
        joinAgain = false;
        if (res?.ok) joined(res);
        return join();
      }
      if (err) return retryLater(join);
      if (res?.ok) return joined(res);
      const code = errorCode(res);
      if (code === 'not_found' && payload.session) {
        // The invite expired (or the brand closed that group): start a group of our own
        // rather than leave the viewer stranded.
        if (res?.error?.closed) return regroup(res.error.reason);
        state.session = null;
        messages.clear();
        view.note(t('note.expired_invite'));
        return join();
      }
      if (code === 'inactive' || code === 'not_found') {
        if (code === 'inactive') view.inactiveFrom(res);
        else view.goInactive('ended');
        socket.disconnect();
        return;
      }
      if (code === 'unavailable') return unavailable();
      const wait = res?.error?.retry_after ?? res?.retry_after;
      retryLater(join, code === 'rate_limited' && isCount(wait) ? wait * 1000 : RETRY_DELAY);
    });
  }

  /** A group other than the one shown: its messages and its count start afresh. */
  function newGroup() {
    messages.clear();
    view.totals.session_total = 0;
  }

  /** The brand closed our group: say so (and why), and start a new group (once: the late
   *  answers about the closed group find us already on our way). */
  function regroup(reason) {
    if (state.session == null) return;
    state.session = null;
    newGroup();
    const why = typeof reason === 'string' && reason ? reason : '';
    view.note(why ? t('note.group_closed_reason', { reason: why }) : t('note.group_closed'));
    if (state.mode !== 'inactive') join();
  }

  function joined(res) {
    if (res.session !== state.session) newGroup();
    state.session = res.session || state.session;
    view.joined(res);
    for (const message of res.messages || []) messages.add(message);
    view.setMode('live');
    view.applyTotals(res);
    resend();
  }

  /** The connection dropped: the answer to a join on its way will not come. */
  function forget() {
    joining = false;
    attempt += 1;
  }

  return { join, regroup, unavailable, forget, connected, retryLater };
}
