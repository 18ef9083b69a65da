// The challenge activity: the shared live core plus a per-person cooldown ("Next in 7 s"), a
// countdown to the campaign's end and a leaderboard of groups (names and totals only).
import { start, t, fmt } from 'socialads-live';

const $ = (selector) => document.querySelector(selector);
const root = document.documentElement;
const calm = () => window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
const MAX_WAIT = 3600 * 1000; // the longest cooldown a campaign can set

const box = $('[data-challenge]');
const button = $('[data-socialad-action]');
const ui = {
  meter: $('[data-challenge-cooldown]'),
  bar: $('[data-challenge-cooldown-bar]'),
  ready: $('[data-challenge-ready]'),
  board: $('[data-challenge-board]'),
  boardEmpty: $('[data-challenge-board-empty]'),
  ends: $('[data-challenge-ends]'),
  endsLabel: $('[data-challenge-ends-label]'),
  end: $('[data-challenge-end]'),
};
const label = button ? button.textContent.trim() : '';
const verb = box?.dataset.verb || label;
let cooldown = Number(box?.dataset.cooldown) || 0; // seconds; the server's state may update it

/** "2 h 13 min", "4 min 05 s", "7 s": a duration in milliseconds, rounded up to the second. */
function duration(ms) {
  const all = Math.max(0, Math.ceil(ms / 1000));
  const d = Math.floor(all / 86400);
  const h = Math.floor((all % 86400) / 3600);
  const m = Math.floor((all % 3600) / 60);
  const s = all % 60;
  if (d) return t('challenge.time.d_h', { d, h });
  if (h) return t('challenge.time.h_min', { h, m });
  if (m) return t('challenge.time.min_s', { m, s: String(s).padStart(2, '0') });
  return t('challenge.time.s', { s });
}

// -- the cooldown --------------------------------------------------------------------------------
// The server counts one action per person per cooldown (the viewer id lives in this browser's
// storage), so the end of the wait is kept there too: a reload or a second tab waits it out as well.

let campaign = '';
try {
  campaign = JSON.parse($('#socialad-config').textContent).campaign || '';
} catch {}
const READY_KEY = `socialads:challenge:${campaign}:ready`;
const stored = {
  get() {
    try {
      return Number(localStorage.getItem(READY_KEY)) || 0;
    } catch {
      return 0;
    }
  },
  set(value) {
    try {
      localStorage.setItem(READY_KEY, String(value));
    } catch {}
  },
};

let readyAt = 0; // when this person may act again (epoch ms)
let span = 0; // the length of the current wait, for the bar
let timer = 0;
let hadFocus = false;

const remaining = () => Math.max(0, readyAt - Date.now());

/** Wait `seconds` from now, unless a longer wait is already running. */
function waitFor(seconds, save = true) {
  const until = Date.now() + Math.min(seconds * 1000, MAX_WAIT);
  if (!(seconds > 0) || until <= readyAt) return;
  if (!remaining()) {
    hadFocus = document.activeElement === button;
    span = until - Date.now();
    if (ui.ready) ui.ready.textContent = ''; // the next "ready" is news again
  } else {
    span = Math.max(span, until - Date.now());
  }
  readyAt = until;
  if (save) stored.set(until);
  if (!timer) timer = setInterval(renderCooldown, 250);
  renderCooldown();
}

function renderCooldown() {
  if (!button) return;
  const left = remaining();
  if (left > 0) {
    button.disabled = true;
    const text = t('challenge.next_in', { left: duration(left) });
    if (button.textContent !== text) button.textContent = text;
    if (box) box.dataset.cooling = 'true';
    if (ui.meter) ui.meter.hidden = false;
    if (ui.bar) {
      ui.bar.classList.toggle('ch-smooth', !calm());
      ui.bar.style.width = `${Math.min(100, (left * 100) / Math.max(span, 1))}%`;
    }
    return;
  }
  clearInterval(timer);
  timer = 0;
  if (box?.dataset.cooling !== 'true') return;
  delete box.dataset.cooling;
  button.textContent = label;
  if (ui.meter) ui.meter.hidden = true;
  if (root.dataset.state === 'live') button.disabled = false;
  // Announced once, when it matters: not every second of the wait.
  if (ui.ready) ui.ready.textContent = t('challenge.ready', { verb });
  const focus = document.activeElement;
  if (hadFocus && !button.disabled && (!focus || focus === document.body || focus === button)) {
    button.focus();
  }
}

/** A refused action. `rate_limited` (another tab, a reload without storage) shows the real
 *  wait. Returns the catalog's words for the live core to show. */
function onError(error, _button, res) {
  if (error?.code === 'rate_limited') {
    const wait = Number(res?.retry_after ?? error.retry_after);
    if (wait > 0) {
      waitFor(wait);
      return t('challenge.wait', { left: duration(wait * 1000) });
    }
  } else if (error?.code === 'invalid') {
    return t('challenge.not_counted');
  }
  return undefined;
}

window.addEventListener('storage', (event) => {
  if (event.key === READY_KEY) waitFor((Number(event.newValue) - Date.now()) / 1000, false);
});

// -- the leaderboard -----------------------------------------------------------------------------
// The join acknowledgement names our group (`group_name`); a full room's new room shares its
// name, so among equal names ours is the one with our total.

let groupName = null;
let lastBoard = [];
let sessionTotal = 0;

function renderBoard(board) {
  if (!ui.board) return;
  const mine = board.filter((row) => groupName != null && row.name === groupName);
  const ours = mine.length > 1 ? mine.filter((row) => row.total === sessionTotal) : mine;
  ui.board.replaceChildren(
    ...board.map((row) => {
      const item = document.createElement('li');
      item.className = ours.includes(row) ? 'ch-entry ch-entry-mine' : 'ch-entry';
      const line = document.createElement('span');
      line.className = 'ch-entry-line';
      const name = document.createElement('span');
      name.className = 'ch-entry-name';
      name.textContent = String(row.name ?? t('challenge.a_group'));
      if (ours.includes(row)) {
        const tag = document.createElement('span');
        tag.className = 'ch-entry-tag';
        tag.textContent = ` ${t('challenge.your_group')}`;
        name.append(tag);
      }
      const score = document.createElement('span');
      score.className = 'ch-entry-total';
      score.textContent = fmt(Number(row.total) || 0);
      line.append(name, score);
      item.append(line);
      return item;
    }),
  );
  if (ui.boardEmpty) ui.boardEmpty.hidden = board.length > 0;
}

// -- the end of the challenge --------------------------------------------------------------------

const endsAt = Date.parse(ui.end?.getAttribute('datetime') || '');
let endTimer = 0;

function renderEnd() {
  if (!ui.ends || !Number.isFinite(endsAt)) return;
  const left = endsAt - Date.now();
  if (left <= 0) {
    clearInterval(endTimer);
    ui.ends.textContent = t('challenge.over');
    return;
  }
  if (ui.endsLabel) ui.endsLabel.textContent = t('challenge.ends_in');
  const text = duration(left);
  if (ui.end.textContent !== text) ui.end.textContent = text;
}

if (Number.isFinite(endsAt)) {
  renderEnd();
  endTimer = setInterval(renderEnd, 1000);
}

// -- wiring --------------------------------------------------------------------------------------

const live = start({
  onState(view) {
    const state = view.state && typeof view.state === 'object' ? view.state : null;
    if (state && Number.isFinite(state.cooldown) && state.cooldown >= 0) cooldown = state.cooldown;
    if (typeof view.group_name === 'string') groupName = view.group_name;
    if (Number.isFinite(view.session_total)) sessionTotal = view.session_total;
    if (state && Array.isArray(state.board)) lastBoard = state.board;
    renderBoard(lastBoard);
    // live.js enables every action button when it goes live (again): a wait still runs.
    if (remaining()) renderCooldown();
  },
  onAction() {
    live.note(t('challenge.thanks'), 3000);
    waitFor(cooldown);
  },
  onError,
});

waitFor((stored.get() - Date.now()) / 1000, false);
