// Copy-to-clipboard buttons: <button data-copy="#id-of-element-with-the-text">.
document.addEventListener('click', async (event) => {
  const button = event.target.closest?.('[data-copy]');
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = 'value' in source ? source.value : source.textContent;
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    source.select?.();
    try {
      ok = document.execCommand('copy');
    } catch {}
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = ok ? 'Copied' : 'Press Ctrl+C to copy';
  setTimeout(() => (button.textContent = label), 2000);
});
