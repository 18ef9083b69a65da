/*
 * The live core every widget bundle imports as `socialads-live`.
 *
 * It reads the page's #socialad-config, joins the shared session over Socket.IO and keeps the
 * DOM hooks of CONTRACT §2 (data-socialad-*) in step with the server. Reconnecting is just joining
 * again: the join ack is a full snapshot, and actions not yet acknowledged are re-sent with their
 * original ids (the server counts an id once).
 *
 *   import { start } from 'socialads-live';
 *   start({
 *     onState(view, root) {},          // after the snapshot, every progress and every act ack
 *     actionPayload(button) {},        // -> {kind?, data?} for a click on [data-socialad-action]
 *     onAction(ack, button) {},        // an action was counted
 *     onError(error, button, res) {},  // an action was refused for good (error: {code, ...});
 *                                      // return a text to show it instead of the core's note
 *   });
 *
 * Every word comes from the campaign's language catalog in the page config (socialads.texts):
 * `t(key, fields)` fills `{named}` fields (numbers with the language's separators) and picks
 * `one`/`other` by `fields.n`; widgets import it too. User and brand text only ever reaches the
 * DOM through textContent.
 *
 * This file is the public face and the wiring; each part is a module of live/, and the logic
 * ones take their socket and the parts they move as arguments, so Node tests them with fakes
 * (static/test/, `npm test`):
 *   config.js   the page config, the page origin     session.js  join, rejoin, a new group
 *   texts.js    t() and fmt()                         actions.js  actions, exactly-once re-send
 *   storage.js  viewer id and name, ids               chat.js     saying something
 *   socket.js   the connection and its states         messages.js the chat log
 *   retry.js    ack timeout, jittered retries         view.js     the §2 hooks, totals, notes
 *   dom.js      DOM helpers                           invite.js   share or copy the invite
 */
import { initialTotals, readConfig } from './live/config.js';
import { createTexts } from './live/texts.js';
import { NAME_KEY, store } from './live/storage.js';
import { followConnection, openSocket } from './live/socket.js';
import { createSession } from './live/session.js';
import { createActions } from './live/actions.js';
import { createChat } from './live/chat.js';
import { createMessages } from './live/messages.js';
import { blockedText, createView, findHooks } from './live/view.js';
import { invite } from './live/invite.js';

const CONFIG = readConfig(document);
const texts = createTexts((CONFIG && CONFIG.texts) || {});

export const { t, fmt } = texts;

export function start(activity = {}) {
  const config = CONFIG;
  // The socket before anything else here (in a new frame even the first look at localStorage
  // can take tens of milliseconds): its handshake runs while the unit is wired, and nothing it
  // hears is handled before this function returns.
  const socket = config?.status === 'live' ? openSocket(config) : null;
  const ui = findHooks();
  const state = {
    mode: 'connecting',
    session: config?.session || null, // remembered after the first join: reconnects rejoin it
    selfId: null,
    name: (store.get(NAME_KEY) || '').slice(0, 40),
  };
  const view = createView(ui, state, initialTotals(config), activity, texts);
  const { note, setMode, goInactive, applyTotals } = view;

  if (!config) {
    setMode('inactive', t('status.broken'));
    return { note };
  }
  if (config.status !== 'live') {
    applyTotals({});
    goInactive(config.status);
    return { note };
  }

  const messages = createMessages(ui.log, state, t);
  const resend = () => actions.sendPending(); // after each join's snapshot
  const session = createSession(socket, config, state, { view, messages, resend, t });
  const actions = createActions(socket, activity, state, { view, session, t });

  // What the socket hears, before any widget code runs: a widget that throws leaves a unit
  // that still joins, never a socket that connects and does nothing.
  setMode('connecting');
  followConnection(socket, state, view, session);
  socket.on('presence', (data) => {
    if (Array.isArray(data?.members)) view.renderPresence(data.members, data.count);
  });
  socket.on('progress', (data) => {
    if (!data) return;
    applyTotals(data);
    if (data.status && data.status !== 'live') goInactive(data.status);
    else if (data.status === 'live' && state.mode === 'inactive') session.join(); // resumed
  });
  socket.on('message', messages.add);
  socket.on('hidden', messages.remove);
  socket.on('closed', (data) => session.regroup(data?.reason));
  socket.on('blocked', (data) => {
    goInactive(null, blockedText(t, data?.reason));
    socket.disconnect();
  });

  applyTotals({});
  document.addEventListener('click', (event) => {
    const button = event.target.closest?.('[data-socialad-action]');
    if (button && !button.disabled) actions.act(button);
  });
  ui.invite?.addEventListener('click', () => invite(ui.invite, note, t));
  if (ui.chatInput) createChat(socket, ui.chatInput, state, { view, session, messages, t });
  if (ui.nameForm) {
    const input = ui.nameForm.querySelector('input');
    if (input) input.value = state.name;
    ui.nameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      state.name = (input?.value || '').trim().slice(0, 40);
      store.set(NAME_KEY, state.name || null);
      note(state.name ? t('note.name_saved', { name: state.name }) : t('note.name_cleared'), 3000);
      if (state.mode === 'live') session.join(); // same session: updates presence
    });
  }

  return { note };
}
