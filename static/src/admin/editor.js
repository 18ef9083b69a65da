// The campaign editor: show only the chosen activity's settings, and refresh the preview
// (an iframe of /admin/campaigns/preview?<the form's fields>) shortly after each change.
const DELAY = 250;

const form = document.querySelector('form[data-campaign-editor]');
const frame = document.querySelector('[data-preview-frame]');

function chosenSettings() {
  const activity = form.querySelector('[data-activity-select]')?.value;
  for (const fieldset of form.querySelectorAll('[data-activity-settings]')) {
    const chosen = fieldset.dataset.activitySettings === activity;
    fieldset.hidden = !chosen;
    fieldset.disabled = !chosen; // a disabled fieldset's inputs are not sent
  }
}

function previewUrl() {
  const url = new URL(frame.dataset.previewUrl, window.location.href);
  for (const [name, value] of new FormData(form)) {
    // never put the CSRF token in a URL; empty values mean "default", as in the form
    if (name === 'csrf_token' || typeof value !== 'string' || value === '') continue;
    url.searchParams.append(name, value);
  }
  return url.pathname + url.search;
}

if (form) {
  let timer = 0;
  const refresh = () => {
    if (!frame) return;
    const next = previewUrl();
    if (frame.getAttribute('src') !== next) frame.setAttribute('src', next);
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, DELAY);
  };
  chosenSettings();
  form.addEventListener('input', schedule);
  form.addEventListener('change', (event) => {
    if (event.target.matches('[data-activity-select]')) chosenSettings();
    schedule();
  });
}
