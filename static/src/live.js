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
 */
import { io } from 'socket.io-client';

const ACK_TIMEOUT = 8000;
const RETRY_DELAY = 3000;
const MAX_MESSAGES = 200;
const VIEWER_KEY = 'socialads:viewer';
const NAME_KEY = 'socialads:name';

const INACTIVE = ['draft', 'paused', 'ended'];
const SAY_ERRORS = ['rate_limited', 'too_large', 'invalid', 'not_joined', 'unavailable'];

const root = document.documentElement;
const $ = (selector) => document.querySelector(selector);
const $$ = (selector) => Array.from(document.querySelectorAll(selector));
const isCount = (n) => typeof n === 'number' && Number.isFinite(n) && n >= 0;

function readConfig() {
  try {
    return JSON.parse($('#socialad-config').textContent);
  } catch {
    return null;
  }
}

const CONFIG = readConfig();
const TEXTS = (CONFIG && CONFIG.texts) || {};

/** A count with the campaign language's thousands separator (the server's n() does the same). */
export function fmt(n) {
  const group = TEXTS['number.group'] ?? ',';
  return String(Math.trunc(Number(n) || 0)).replace(/\B(?=(\d{3})+(?!\d))/g, group);
}

/** A text of the campaign's language with its {fields} filled in. */
export function t(key, fields = {}) {
  let text = TEXTS[key] ?? key;
  if (text && typeof text === 'object') text = fields.n === 1 ? text.one : text.other;
  return String(text).replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in fields)) return whole;
    const value = fields[name];
    return typeof value === 'number' ? fmt(value) : String(value);
  });
}

// localStorage can throw (disabled storage, sandboxed frames): fall back to memory for this page.
const memory = {};
const store = {
  get(key) {
    let value = null;
    try {
      value = localStorage.getItem(key);
    } catch {}
    return value ?? memory[key] ?? null;
  },
  set(key, value) {
    if (value == null) delete memory[key];
    else memory[key] = value;
    try {
      if (value == null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {}
  },
};

function uuid() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID(); // secure contexts only
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function viewerId() {
  let id = store.get(VIEWER_KEY);
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    id = uuid();
    store.set(VIEWER_KEY, id);
  }
  return id;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}

/**
 * The origin of the page showing the unit, for the brand's analytics: the embed passes the
 * publisher's (#o=...); on our own invite landing page it is this page's. Null when unknown.
 */
function pageOrigin(config) {
  const told = new URLSearchParams(location.hash.slice(1)).get('o');
  const origin = told || (config?.landing && window.parent === window ? location.origin : '');
  return origin.length <= 200 && /^https?:\/\/[^/?#\s]+$/.test(origin) ? origin : null;
}

/** Our own origin, whatever name the page was loaded under: the server accepts same-origin
 * sockets only. The configured base may add a path prefix. */
function openSocket(config) {
  const base = new URL(config.base || location.origin, location.href);
  return io(location.origin, {
    path: `${base.pathname.replace(/\/$/, '')}/socket.io`,
    transports: ['websocket'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
  });
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {}
  const area = element('textarea', 'sa-offscreen');
  area.value = text;
  area.setAttribute('readonly', '');
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {}
  area.remove();
  return ok;
}

export function start(activity = {}) {
  const config = CONFIG;
  // The socket before anything else here (in a new frame even the first look at localStorage
  // can take tens of milliseconds): its handshake runs while the unit is wired, and nothing it
  // hears is handled before this function returns.
  let socket = config?.status === 'live' ? openSocket(config) : null;
  const ui = {
    status: $('[data-socialad-status]'),
    note: $('[data-socialad-note]'),
    presence: $('[data-socialad-presence]'),
    members: $('[data-socialad-members]'),
    invite: $('[data-socialad-invite]'),
    log: $('[data-socialad-chat-log]'),
    chatInput: $('[data-socialad-chat-input]'),
    chatNote: $('[data-socialad-chat-note]'),
    nameForm: $('[data-socialad-name-form]'),
    progress: $('[data-socialad-progress]'),
  };
  const view = {
    total: isCount(config?.total) ? config.total : 0,
    session_total: isCount(config?.session_total) ? config.session_total : 0,
    goal: isCount(config?.goal) ? config.goal : 0,
  };
  let mode = 'connecting';
  let session = config?.session || null; // remembered after the first join: reconnects rejoin it
  let selfId = null;
  let lastMessageId = null;
  const seenMessages = new Set();
  const pending = new Map(); // action id -> payload, until the server acknowledges it
  let name = (store.get(NAME_KEY) || '').slice(0, 40);
  let joinAttempt = 0;
  let joining = false; // a join is on its way
  let joinAgain = false; // another was asked for meanwhile
  const retryTimers = new Map(); // one pending retry per kind of work (join, resend)
  let noteTimer = 0;

  // -- rendering ---------------------------------------------------------------------------------

  function note(text, ms) {
    if (!ui.note) return;
    clearTimeout(noteTimer);
    ui.note.textContent = text;
    if (ms) noteTimer = setTimeout(() => (ui.note.textContent = ''), ms);
  }

  function chatNote(text) {
    if (ui.chatNote) ui.chatNote.textContent = text;
  }

  function setMode(next, text) {
    mode = next;
    root.dataset.state = next;
    if (ui.status) ui.status.textContent = text || t(`status.${next}`);
    const live = next === 'live';
    for (const button of $$('[data-socialad-action]')) button.disabled = !live;
    for (const control of $$('[data-socialad-chat-input], [data-socialad-chat-send]')) {
      control.disabled = !live;
    }
    if (ui.invite) ui.invite.disabled = next === 'inactive' || !ui.invite.dataset.inviteUrl;
  }

  function goInactive(status, message) {
    setMode('inactive', INACTIVE.includes(status) ? t(`status.${status}`) : message || t('status.inactive'));
  }

  /** Totals never go backwards: an ack can arrive after a newer progress event. */
  function applyTotals(data) {
    if (isCount(data.total)) view.total = Math.max(view.total, data.total);
    if (isCount(data.session_total)) {
      view.session_total = Math.max(view.session_total, data.session_total);
    }
    if (isCount(data.goal) && data.goal > 0) view.goal = data.goal;
    for (const el of $$('[data-socialad-total]')) el.textContent = fmt(view.total);
    for (const el of $$('[data-socialad-session-total]')) el.textContent = fmt(view.session_total);
    const bar = ui.progress;
    if (bar && view.goal > 0) {
      const unit = bar.dataset.unit ? ` ${bar.dataset.unit}` : '';
      bar.setAttribute('aria-valuenow', String(Math.min(view.total, view.goal)));
      bar.setAttribute('aria-valuemax', String(view.goal));
      bar.setAttribute('aria-valuetext', `${t('unit.of_goal', { total: view.total, goal: view.goal })}${unit}`);
      const fill = bar.querySelector('[data-socialad-progress-bar]') || bar.firstElementChild;
      if (fill) fill.style.width = `${Math.min(100, Math.floor((view.total * 100) / view.goal))}%`;
    }
    // The goal reached is a designed state: a banner, a full bar; taking part goes on.
    const reached = view.goal > 0 && view.total >= view.goal;
    if (reached) root.dataset.goal = 'reached';
    const banner = $('[data-socialad-goal]');
    if (banner && reached) banner.hidden = false;
    activity.onState?.({ ...data, ...view }, root);
  }

  function renderPresence(members, count) {
    const n = isCount(count) ? count : members.length;
    if (ui.presence) ui.presence.textContent = t('presence.count', { n });
    if (!ui.members) return;
    ui.members.replaceChildren(
      ...members.map((member) => {
        const mine = member.self === true || (selfId != null && member.id === selfId);
        const item = element('li', mine ? 'sa-member sa-member-self' : 'sa-member');
        const shown = member.name || t('member.guest');
        item.textContent = mine ? t('member.you', { name: shown }) : shown;
        return item;
      }),
    );
  }

  function clearMessages() {
    seenMessages.clear();
    lastMessageId = null;
    ui.log?.replaceChildren();
  }

  /** The brand's people hid a message (the reason is in the public moderation log). */
  function removeMessage(data) {
    const id = Number(data?.id);
    if (!ui.log || !Number.isFinite(id)) return;
    seenMessages.add(id); // a late copy of it must not come back
    for (const item of Array.from(ui.log.children)) {
      if (item.dataset.id === String(id)) item.remove();
    }
  }

  /** Insert a message in id order; ids the log has already seen are skipped. */
  function addMessage(message) {
    const id = Number(message?.id);
    if (!ui.log || !Number.isFinite(id) || seenMessages.has(id)) return;
    seenMessages.add(id);
    lastMessageId = lastMessageId == null ? id : Math.max(lastMessageId, id);

    const author = message.author || {};
    const item = element('div', 'sa-msg');
    item.dataset.id = String(id);
    if (author.id != null && author.id === selfId) item.classList.add('sa-msg-self');
    item.append(element('span', 'sa-msg-author', author.name || t('member.guest')));
    if (author.brand_person) {
      item.classList.add('sa-msg-brand');
      item.append(
        element('span', 'sa-badge', author.role ? t('chat.brand_role', { role: author.role }) : t('chat.brand')),
      );
    }
    if (isCount(message.ts)) {
      const time = element('time', 'sa-msg-time');
      const when = new Date(message.ts);
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleTimeString(root.lang || [], { hour: 'numeric', minute: '2-digit' });
      item.append(time);
    }
    item.append(element('p', 'sa-msg-text', String(message.text ?? '')));

    const log = ui.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    let before = log.lastElementChild;
    while (before && Number(before.dataset.id) > id) before = before.previousElementSibling;
    if (before) before.after(item);
    else log.prepend(item);
    while (log.childElementCount > MAX_MESSAGES) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // -- talking to the server -------------------------------------------------------------------

  const errorCode = (res) => res?.error?.code;
  const blockedText = (reason) =>
    typeof reason === 'string' ? `${t('note.blocked')} ${t('note.blocked_reason', { reason })}` : t('note.blocked');
  const inactiveFrom = (res) =>
    res?.error?.blocked
      ? goInactive(null, blockedText(res.error.reason))
      : goInactive(res?.error?.status ?? res?.status, res?.error?.message);
  const connected = () => socket?.connected && mode !== 'inactive';

  /** Try again after about `ms` (jittered, so a crowd does not come back in step). */
  function retryLater(fn, ms = RETRY_DELAY) {
    clearTimeout(retryTimers.get(fn));
    retryTimers.set(fn, setTimeout(() => connected() && fn(), ms * (0.75 + Math.random() / 2)));
  }

  /** The server is up but cannot reach its store: say so honestly, and join again soon (the
   *  join's snapshot restores everything and re-sends what was not acknowledged). */
  function unavailable() {
    if (mode !== 'inactive') setMode('reconnecting');
    retryLater(join);
  }

  /** One join at a time: a join asked for while another is on its way waits for its answer
   *  (a join without a session starts a group, and must not start two). */
  function join() {
    if (joining) {
      joinAgain = true;
      return;
    }
    joining = true;
    const attempt = ++joinAttempt;
    const payload = { campaign: config.campaign, viewer: viewerId() };
    if (session) payload.session = session;
    if (name) payload.name = name;
    if (lastMessageId != null) payload.since = lastMessageId;
    const origin = pageOrigin(config);
    if (origin) payload.origin = origin;
    socket.timeout(ACK_TIMEOUT).emit('join', payload, (err, res) => {
      if (attempt !== joinAttempt) return; // from before a disconnect: a newer join is on its way
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
        session = null;
        clearMessages();
        note(t('note.expired_invite'));
        return join();
      }
      if (code === 'inactive' || code === 'not_found') {
        if (code === 'inactive') inactiveFrom(res);
        else goInactive('ended');
        socket.disconnect();
        return;
      }
      if (code === 'unavailable') return unavailable();
      const wait = res?.error?.retry_after ?? res?.retry_after;
      retryLater(join, code === 'rate_limited' && isCount(wait) ? wait * 1000 : RETRY_DELAY);
    });
  }

  /** The brand closed our group: say so (and why), and start a new group (once: the late
   *  answers about the closed group find us already on our way). */
  function regroup(reason) {
    if (session == null) return;
    session = null;
    clearMessages();
    view.session_total = 0;
    const why = typeof reason === 'string' && reason ? reason : '';
    note(why ? t('note.group_closed_reason', { reason: why }) : t('note.group_closed'));
    if (mode !== 'inactive') join();
  }

  function joined(res) {
    if (res.session !== session) {
      clearMessages();
      view.session_total = 0;
    }
    session = res.session || session;
    if (res.room_full) {
      // A designed state, not an error: the friend's room was full, so this is a new room of
      // the same group, with its own invite link.
      root.dataset.roomFull = 'true';
      note(t('note.room_full', { group: res.room_full.group, n: res.room_full.size }));
    }
    if (ui.invite && res.invite_url) ui.invite.dataset.inviteUrl = res.invite_url;
    const members = Array.isArray(res.members) ? res.members : [];
    selfId = members.find((m) => m.self === true)?.id ?? selfId;
    renderPresence(members, members.length);
    for (const message of res.messages || []) addMessage(message);
    setMode('live');
    applyTotals(res);
    for (const action of pending.values()) sendAction(action);
  }

  function sendAction(action, button) {
    if (!connected()) return; // stays pending: re-sent after the next join
    socket.timeout(ACK_TIMEOUT).emit('act', action, (err, res) => {
      if (err) return retryLater(resendPending);
      if (res?.ok) {
        pending.delete(action.id);
        applyTotals(res);
        if (!res.duplicate) activity.onAction?.(res, button, root);
        return;
      }
      const code = errorCode(res);
      if (code === 'not_joined') return join(); // the server forgot us (restart): join re-sends
      if (res?.error?.closed) return regroup(res.error.reason); // not counted: start anew
      if (code === 'unavailable') return unavailable(); // stays pending: re-sent after the join
      pending.delete(action.id); // rejected for good: sending it again cannot help
      // The server's message is for the API (English); the viewer reads the catalog's words,
      // the activity's own when onError returns them.
      const told = activity.onError?.(res?.error || {}, button, res);
      if (code === 'inactive') inactiveFrom(res);
      else if (typeof told === 'string') note(told, 4000);
      else if (code === 'rate_limited') note(t('note.slow_down'), 2500);
      else if (res?.error?.capped) note(t('note.capped'), 4000);
      else if (res?.error?.already) note(t('note.already'), 4000);
      else note(t('note.failed'), 4000);
    });
  }

  function resendPending() {
    if (mode === 'live') for (const action of pending.values()) sendAction(action);
  }

  function act(button) {
    if (mode !== 'live') return;
    const extra = activity.actionPayload
      ? activity.actionPayload(button) || {}
      : { kind: button.getAttribute('data-socialad-action') || undefined };
    const action = { id: uuid() };
    if (typeof extra.kind === 'string' && extra.kind) action.kind = extra.kind;
    if (extra.data && typeof extra.data === 'object') action.data = extra.data;
    pending.set(action.id, action);
    sendAction(action, button);
  }

  let draft = null; // {id, text}: sending the same text again after a failure reuses its id
  function say() {
    const input = ui.chatInput;
    const text = input.value.trim();
    if (!text) return;
    if (mode !== 'live') return chatNote(t('chat.not_joined'));
    if (!draft || draft.text !== text) draft = { id: uuid(), text };
    const sent = draft;
    socket.timeout(ACK_TIMEOUT).emit('say', { id: sent.id, text: sent.text }, (err, res) => {
      if (err) return chatNote(t('chat.failed'));
      if (res?.ok) {
        if (draft === sent) draft = null;
        if (input.value.trim() === sent.text) input.value = '';
        chatNote('');
        if (res.message) addMessage(res.message);
        return;
      }
      const code = errorCode(res);
      if (code === 'inactive') return inactiveFrom(res);
      if (res?.error?.closed) return regroup(res.error.reason);
      if (code === 'not_joined') join();
      if (code === 'unavailable') unavailable();
      chatNote(t(SAY_ERRORS.includes(code) ? `chat.${code}` : 'chat.failed'));
    });
  }

  async function invite(button) {
    const url = button.dataset.inviteUrl;
    if (!url) return;
    if (navigator.share) {
      try {
        await navigator.share({ url, title: document.title });
        return note(t('note.shared'), 3000);
      } catch (error) {
        if (error?.name === 'AbortError') return; // the viewer closed the share sheet
      }
    }
    if (await copyText(url)) {
      button.focus();
      if (!button.dataset.label) button.dataset.label = button.textContent;
      button.textContent = t('note.copied');
      note(t('note.copied'), 3000);
      setTimeout(() => (button.textContent = button.dataset.label), 2500);
    } else {
      note(t('note.copy_this', { url }));
    }
  }

  // -- wiring ----------------------------------------------------------------------------------

  if (!config) {
    setMode('inactive', t('status.broken'));
    return { note };
  }
  if (config.status !== 'live') {
    applyTotals({});
    goInactive(config.status);
    return { note };
  }

  // What the socket hears, before any widget code runs: a widget that throws leaves a unit
  // that still joins, never a socket that connects and does nothing.
  setMode('connecting');
  // Python Socket.IO has no connection state recovery: every (re)connect simply joins again.
  socket.on('connect', join);
  socket.on('disconnect', (reason) => {
    joining = false; // its answer will not come: the next connect joins afresh
    joinAttempt += 1;
    if (mode === 'inactive') return;
    setMode('reconnecting');
    if (reason === 'io server disconnect') socket.connect(); // the client does not retry this one
  });
  socket.on('connect_error', (err) => {
    if (mode !== 'inactive') setMode('reconnecting');
    // The server refused this connect (too many from this address): the client does not
    // retry a refusal by itself, so try again once the server says it may succeed.
    if (!socket.active && mode !== 'inactive') {
      const wait = err?.data?.retry_after;
      setTimeout(() => socket.connect(), (isCount(wait) ? wait : 5) * 1000 * (1 + Math.random()));
    }
  });
  socket.on('presence', (data) => {
    if (Array.isArray(data?.members)) renderPresence(data.members, data.count);
  });
  socket.on('progress', (data) => {
    if (!data) return;
    applyTotals(data);
    if (data.status && data.status !== 'live') goInactive(data.status);
    else if (data.status === 'live' && mode === 'inactive') join(); // resumed
  });
  socket.on('message', addMessage);
  socket.on('hidden', removeMessage);
  socket.on('closed', (data) => regroup(data?.reason));
  socket.on('blocked', (data) => {
    goInactive(null, blockedText(data?.reason));
    socket.disconnect();
  });

  applyTotals({});
  document.addEventListener('click', (event) => {
    const button = event.target.closest?.('[data-socialad-action]');
    if (button && !button.disabled) act(button);
  });
  ui.invite?.addEventListener('click', () => invite(ui.invite));
  if (ui.chatInput) {
    ui.chatInput.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      say();
    });
    ui.chatInput.form?.addEventListener('submit', (event) => {
      event.preventDefault();
      say();
    });
  }
  if (ui.nameForm) {
    const input = ui.nameForm.querySelector('input');
    if (input) input.value = name;
    ui.nameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      name = (input?.value || '').trim().slice(0, 40);
      store.set(NAME_KEY, name || null);
      note(name ? t('note.name_saved', { name }) : t('note.name_cleared'), 3000);
      if (mode === 'live') join(); // same session: updates presence
    });
  }

  return { note };
}
