/*
 * The invite button: the viewer's own share sheet where there is one, else the link copied to
 * the clipboard (or, failing both, shown to copy by hand). Invites are sent by people, never by
 * the server; this only hands the link over.
 */
import { element } from './dom.js';

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

/** Share or copy the button's data-invite-url (set from the join ack). */
export async function invite(button, note, t) {
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
