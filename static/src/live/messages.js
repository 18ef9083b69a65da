/*
 * The chat log ([data-socialad-chat-log]): messages in id order, each shown once, at most
 * MAX_MESSAGES of them. It remembers the last id seen, which a rejoin sends as `since` so the
 * server sends only what was missed. Its own module because the log is the one view that
 * keeps state of its own (the ids seen, so a late or hidden copy never comes back).
 */
import { isCount } from './config.js';
import { element } from './dom.js';

const MAX_MESSAGES = 200;

/**   log: the log element or null; state: {selfId} */
export function createMessages(log, state, t) {
  const root = document.documentElement;
  const seen = new Set();
  let lastId = null;

  function clear() {
    seen.clear();
    lastId = null;
    log?.replaceChildren();
  }

  /** The brand's people hid a message (the reason is in the public moderation log). */
  function remove(data) {
    const id = Number(data?.id);
    if (!log || !Number.isFinite(id)) return;
    seen.add(id); // a late copy of it must not come back
    for (const item of Array.from(log.children)) {
      if (item.dataset.id === String(id)) item.remove();
    }
  }

  /** Insert a message in id order; ids the log has already seen are skipped. */
  function add(message) {
    const id = Number(message?.id);
    if (!log || !Number.isFinite(id) || seen.has(id)) return;
    seen.add(id);
    lastId = lastId == null ? id : Math.max(lastId, id);

    const author = message.author || {};
    const item = element('div', 'sa-msg');
    item.dataset.id = String(id);
    if (author.id != null && author.id === state.selfId) item.classList.add('sa-msg-self');
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

    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    let before = log.lastElementChild;
    while (before && Number(before.dataset.id) > id) before = before.previousElementSibling;
    if (before) before.after(item);
    else log.prepend(item);
    while (log.childElementCount > MAX_MESSAGES) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  return { add, remove, clear, since: () => lastId };
}
