/*
 * What the unit shows of the live state, through the DOM hooks of CONTRACT §2 (data-socialad-*):
 * the mode (connecting, live, reconnecting, inactive) on <html data-state> and the status line,
 * which controls are enabled, the totals and the progress bar, presence and members, and the
 * short notes. The logic modules only call these; this is where the DOM is written.
 */
import { isCount } from './config.js';
import { $, $$, element } from './dom.js';

const INACTIVE = ['draft', 'paused', 'ended'];

/** The unit's hooks, found once. */
export function findHooks() {
  return {
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
}

/** Why a blocked viewer cannot take part, in the catalog's words (the brand's reason after). */
export const blockedText = (t, reason) =>
  typeof reason === 'string' ? `${t('note.blocked')} ${t('note.blocked_reason', { reason })}` : t('note.blocked');

/**
 *   ui: findHooks(); state: {mode, selfId}; totals: initialTotals(config), kept here from then
 *   on; activity: the widget's hooks (onState); texts: {t, fmt}
 */
export function createView(ui, state, totals, activity, { t, fmt }) {
  const root = document.documentElement;
  let noteTimer = 0;

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
    state.mode = next;
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

  /** An `inactive` answer: the campaign's status, or this viewer blocked by the brand. */
  const inactiveFrom = (res) =>
    res?.error?.blocked
      ? goInactive(null, blockedText(t, res.error.reason))
      : goInactive(res?.error?.status ?? res?.status, res?.error?.message);

  /** Totals never go backwards: an ack can arrive after a newer progress event. */
  function applyTotals(data) {
    if (isCount(data.total)) totals.total = Math.max(totals.total, data.total);
    if (isCount(data.session_total)) {
      totals.session_total = Math.max(totals.session_total, data.session_total);
    }
    if (isCount(data.goal) && data.goal > 0) totals.goal = data.goal;
    for (const el of $$('[data-socialad-total]')) el.textContent = fmt(totals.total);
    for (const el of $$('[data-socialad-session-total]')) el.textContent = fmt(totals.session_total);
    const bar = ui.progress;
    if (bar && totals.goal > 0) {
      const unit = bar.dataset.unit ? ` ${bar.dataset.unit}` : '';
      bar.setAttribute('aria-valuenow', String(Math.min(totals.total, totals.goal)));
      bar.setAttribute('aria-valuemax', String(totals.goal));
      bar.setAttribute('aria-valuetext', `${t('unit.of_goal', { total: totals.total, goal: totals.goal })}${unit}`);
      const fill = bar.querySelector('[data-socialad-progress-bar]') || bar.firstElementChild;
      if (fill) fill.style.width = `${Math.min(100, Math.floor((totals.total * 100) / totals.goal))}%`;
    }
    // The goal reached is a designed state: a banner, a full bar; taking part goes on.
    const reached = totals.goal > 0 && totals.total >= totals.goal;
    if (reached) root.dataset.goal = 'reached';
    const banner = $('[data-socialad-goal]');
    if (banner && reached) banner.hidden = false;
    activity.onState?.({ ...data, ...totals }, root);
  }

  function renderPresence(members, count) {
    const n = isCount(count) ? count : members.length;
    if (ui.presence) ui.presence.textContent = t('presence.count', { n });
    if (!ui.members) return;
    ui.members.replaceChildren(
      ...members.map((member) => {
        const mine = member.self === true || (state.selfId != null && member.id === state.selfId);
        const item = element('li', mine ? 'sa-member sa-member-self' : 'sa-member');
        const shown = member.name || t('member.guest');
        item.textContent = mine ? t('member.you', { name: shown }) : shown;
        return item;
      }),
    );
  }

  /** What a join's snapshot shows before its messages: a full room, the invite, who is here. */
  function joined(res) {
    if (res.room_full) {
      // A designed state, not an error: the friend's room was full, so this is a new room of
      // the same group, with its own invite link.
      root.dataset.roomFull = 'true';
      note(t('note.room_full', { group: res.room_full.group, n: res.room_full.size }));
    }
    if (ui.invite && res.invite_url) ui.invite.dataset.inviteUrl = res.invite_url;
    const members = Array.isArray(res.members) ? res.members : [];
    state.selfId = members.find((m) => m.self === true)?.id ?? state.selfId;
    renderPresence(members, members.length);
  }

  return { root, totals, note, chatNote, setMode, goInactive, inactiveFrom, applyTotals, renderPresence, joined };
}
