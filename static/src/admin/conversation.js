// The conversation page, live. New viewer messages, replies and moderation arrive over the
// /admin Socket.IO namespace (authenticated by the admin's session cookie); the reply, hide and
// block forms go out with fetch. Without JavaScript the same forms post and redirect.
// Viewer text only ever reaches the DOM through textContent.
import { io } from 'socket.io-client';

const root = document.querySelector('[data-conversation]');
if (root) start(root);

function localTime(ms) {
  return new Date(ms).toLocaleString([], {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

function setTime(time, ms) {
  time.dateTime = new Date(ms).toISOString();
  time.dataset.ts = String(ms);
  time.textContent = localTime(ms);
}

function newId() {
  if (window.crypto.randomUUID) return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function start(root) {
  const campaign = root.dataset.campaign;
  const sessions = root.querySelector('[data-sessions]');
  const status = root.querySelector('[data-live-status]');
  const sessionTemplate = root.querySelector('template[data-session-template]');
  const messageTemplate = root.querySelector('template[data-message-template]');
  const replyCount = root.querySelector('[data-reply-count]');
  // On an older page, new conversations belong on the first page, not here.
  const firstPage = !new URLSearchParams(location.search).has('before');

  for (const time of root.querySelectorAll('time[data-ts]')) setTime(time, Number(time.dataset.ts));

  const card = (token) =>
    Array.from(sessions.querySelectorAll('[data-session]')).find((el) => el.dataset.session === token);

  function sessionCard(token, firstTs) {
    let found = card(token);
    if (found || !firstPage) return found;
    found = sessionTemplate.content.firstElementChild.cloneNode(true);
    found.dataset.session = token;
    found.id = `s-${token}`;
    setTime(found.querySelector('.session-head time'), firstTs);
    found.querySelector('input[name="session"]').value = token;
    found.querySelector('[data-reply-id]').value = newId();
    const text = found.querySelector('textarea');
    text.id = `reply-${token}`;
    found.querySelector('label[for]').htmlFor = text.id;
    sessions.querySelector('[data-empty]')?.remove();
    sessions.prepend(found);
    return found;
  }

  function addMessage(token, message) {
    const id = Number(message?.id);
    const author = message?.author || {};
    if (!token || !Number.isFinite(id)) return;
    const where = sessionCard(token, message.ts);
    if (!where) return;
    const list = where.querySelector('[data-messages]');
    if (Array.from(list.children).some((li) => li.dataset.id === String(id))) return;

    const item = messageTemplate.content.firstElementChild.cloneNode(true);
    item.dataset.id = String(id);
    item.dataset.member = String(author.id ?? '');
    item.querySelector('[data-author]').textContent = author.name || 'Guest';
    item.querySelector('[data-text]').textContent = String(message.text ?? '');
    setTime(item.querySelector('time'), Number(message.ts) || Date.now());
    if (author.brand_person) {
      item.classList.add('msg-brand');
      const badge = item.querySelector('[data-badge]');
      badge.textContent = author.role ? `Brand · ${author.role}` : 'Brand';
      badge.hidden = false;
      item.querySelector('[data-moderate]')?.remove();
    } else {
      for (const input of item.querySelectorAll('input[name="session"]')) input.value = token;
      for (const input of item.querySelectorAll('input[name="message"]')) input.value = String(id);
      if (isBlocked(author.id)) markBlocked(item);
    }
    let before = list.lastElementChild;
    while (before && Number(before.dataset.id) > id) before = before.previousElementSibling;
    if (before) before.after(item);
    else list.prepend(item);

    const waiting = where.querySelector('[data-waiting]');
    if (waiting) waiting.hidden = Boolean(author.brand_person);
    if (author.brand_person && replyCount) {
      replyCount.textContent = (Number(replyCount.textContent.replace(/\D/g, '')) + 1).toLocaleString();
    }
    if (firstPage && sessions.firstElementChild !== where) sessions.prepend(where);
  }

  function hideMessage(token, id, hidden) {
    const item = Array.from(card(token)?.querySelectorAll('[data-id]') || []).find(
      (li) => li.dataset.id === String(id),
    );
    if (!item || !hidden) return;
    item.classList.add('msg-hidden');
    const text = item.querySelector('[data-text]');
    text.classList.add('msg-hidden-note');
    text.textContent = `Hidden by ${hidden.by?.name || 'the brand'}: ${hidden.reason || ''}`;
    item.querySelector('form[data-async="hide"]')?.remove();
  }

  const blockedMembers = new Set();
  const isBlocked = (member) => member != null && blockedMembers.has(String(member));

  function markBlocked(item) {
    const form = item.querySelector('[data-block-form]');
    if (form) form.hidden = true;
    const note = item.querySelector('[data-blocked-note]');
    if (note) note.hidden = false;
  }

  function blockMember(member) {
    blockedMembers.add(String(member));
    for (const item of sessions.querySelectorAll('[data-member]')) {
      if (item.dataset.member === String(member)) markBlocked(item);
    }
  }

  // -- forms -----------------------------------------------------------------------------------

  function showError(form, text) {
    const error = form.querySelector('[data-form-error]');
    if (!error) return;
    error.textContent = text || '';
    error.hidden = !text;
  }

  function applied(kind, data, form) {
    if (kind === 'reply') {
      addMessage(data.session, data.message);
      form.querySelector('textarea').value = '';
      form.querySelector('[data-reply-id]').value = newId();
    } else if (kind === 'hide') {
      hideMessage(data.session, data.id, data.hidden);
    } else if (kind === 'block') {
      blockMember(data.member);
      status.textContent = 'Viewer blocked. Reload to see the list of blocked viewers.';
    }
  }

  root.addEventListener('submit', async (event) => {
    const form = event.target.closest('form[data-async]');
    if (!form) return;
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    showError(form, '');
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        body: new FormData(form),
        credentials: 'same-origin',
        headers: { Accept: 'application/json', 'X-CSRFToken': form.elements.csrf_token.value },
      });
      const data = await response.json().catch(() => null);
      if (response.ok && data?.ok) return applied(form.dataset.async, data, form);
      if (data?.error?.message) return showError(form, data.error.message);
      if (response.status === 400) return showError(form, 'This page has expired. Reload it and try again.');
      if (response.status === 404) return showError(form, 'That conversation or person is gone. Reload the page.');
      showError(form, "That didn't go through. Try again.");
    } catch {
      showError(form, 'No connection. Try again.');
    } finally {
      if (button) button.disabled = false;
    }
  });

  // Whoever you last chose to speak as is chosen everywhere on the page.
  root.addEventListener('change', (event) => {
    const select = event.target.closest?.('select[data-person-select]');
    if (!select) return;
    for (const other of root.querySelectorAll('select[data-person-select]')) other.value = select.value;
  });

  // -- live ------------------------------------------------------------------------------------

  let dropped = false;
  const socket = io('/admin', { transports: ['websocket'] });
  socket.on('connect', () => {
    socket.timeout(8000).emit('watch', { campaign }, (err, ack) => {
      if (err || !ack?.ok) {
        status.textContent = 'Live updates are off. Reload to see new messages.';
        return;
      }
      status.textContent = dropped
        ? 'Live again. Reload to see anything said while the connection was down.'
        : 'Live: new messages appear here as they are written.';
      root.dataset.live = 'true';
    });
  });
  socket.on('disconnect', () => {
    dropped = true;
    root.dataset.live = 'false';
    status.textContent = 'Reconnecting…';
  });
  socket.on('connect_error', () => {
    status.textContent = 'Live updates are off. Reload to see new messages.';
  });
  socket.on('message', (data) => addMessage(data?.session, data?.message));
  socket.on('hidden', (data) => hideMessage(data?.session, data?.id, data?.hidden));
  socket.on('blocked', (data) => data?.member && blockMember(data.member));
}
