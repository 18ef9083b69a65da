// The quiz activity: one question at a time; an answer reveals whether it was right and what is
// true. The viewer's own answers come back on join (`mine`: {"q0": "2"}), so a return visit
// shows them as answered. Text only ever reaches the DOM through textContent.
import { start, t } from 'socialads-live';

const $ = (selector, within = document) => within.querySelector(selector);
const $$ = (selector, within = document) => Array.from(within.querySelectorAll(selector));

function readKey() {
  try {
    const key = JSON.parse($('[data-quiz-key]').textContent);
    return Array.isArray(key) ? key : [];
  } catch {
    return [];
  }
}

const key = readKey(); // [{answer, explanation}] by question
const items = $$('[data-quiz-question]');
const count = items.length;
const answered = new Map(); // question -> the option this viewer chose
const sending = new Map(); // question -> option, until the server counts it
const busyTimers = new Map();
let current = 0;
let crowd = []; // [{answered, correct}] by question, from the campaign's state
let score = 0; // the group's score, for the closing line
const BUSY_MS = 10000;

const item = (q) => items[q];
const optionsOf = (q) => $$('[data-socialad-action]', item(q));
const isLive = () => document.documentElement.dataset.state === 'live';
const labelOf = (q, option) => $('.sa-quiz-label', optionsOf(q)[option])?.textContent ?? '';

function announce(text) {
  const region = $('[data-quiz-announce]');
  if (!region) return;
  region.textContent = '';
  // a fresh text node after a tick, so the same words twice are announced twice
  setTimeout(() => (region.textContent = text), 50);
}

function rightCount() {
  let right = 0;
  for (const [q, option] of answered) if (key[q] && key[q].answer === option) right += 1;
  return right;
}

function renderProgress() {
  const line = $('[data-quiz-progress]');
  if (line) line.textContent = t('quiz.answered', { answered: answered.size, count });
  const done = $('[data-quiz-done]');
  if (!done) return;
  const all = answered.size === count && count > 0;
  done.hidden = !all;
  done.textContent = all
    ? t('quiz.done', { right: rightCount(), count, score })
    : '';
}

function renderCrowd(q) {
  const line = $('[data-quiz-crowd]', item(q));
  const stats = crowd[q];
  if (!line || !answered.has(q) || !stats || !(stats.answered > 0)) return;
  const right = t('quiz.crowd_right', { n: Number(stats.correct) || 0 });
  const text = t('quiz.crowd', { n: stats.answered, right });
  if (line.textContent !== text) line.textContent = text;
}

/** Buttons of answered (or still sending) questions stay disabled whatever the live state. */
function lockAnswered() {
  for (let q = 0; q < count; q++) {
    if (answered.has(q) || sending.has(q)) for (const button of optionsOf(q)) button.disabled = true;
  }
}

function nextUnanswered(from) {
  for (let step = 1; step <= count; step++) {
    const q = (from + step) % count;
    if (!answered.has(q)) return q;
  }
  return -1;
}

/** Show question q alone; when every question is answered, show them all to look back on. */
function show(q, focus) {
  const all = answered.size === count;
  current = q;
  items.forEach((el, index) => (el.hidden = !all && index !== q));
  if (focus) $('.sa-quiz-text', item(q))?.focus();
}

function markAnswered(q, option, { quiet }) {
  if (answered.has(q) || !item(q) || !key[q]) return;
  answered.set(q, option);
  sending.delete(q);
  clearTimeout(busyTimers.get(q));
  const right = key[q].answer;
  const correct = option === right;
  const el = item(q);
  el.dataset.answered = correct ? 'right' : 'wrong';
  el.removeAttribute('aria-busy');
  optionsOf(q).forEach((button, index) => {
    button.disabled = true;
    const tag = $('[data-quiz-tag]', button);
    const chosen = index === option;
    button.classList.toggle('sa-quiz-chosen', chosen);
    button.classList.toggle('sa-quiz-right', index === right);
    button.classList.toggle('sa-quiz-wrong', chosen && !correct);
    if (tag) {
      if (chosen && correct) tag.textContent = t('quiz.tag_mine_right');
      else if (chosen) tag.textContent = t('quiz.tag_mine_wrong');
      else if (index === right) tag.textContent = t('quiz.tag_right');
      else tag.textContent = '';
    }
  });
  const verdict = correct ? t('quiz.right') : t('quiz.wrong', { answer: labelOf(q, right) });
  $('[data-quiz-verdict]', el).textContent = verdict;
  $('[data-quiz-explanation]', el).textContent = String(key[q].explanation ?? '');
  $('[data-quiz-result]', el).hidden = false;
  renderCrowd(q);

  const all = answered.size === count;
  for (const done of answered.keys()) {
    const button = $('[data-quiz-next]', item(done));
    if (button) button.hidden = all; // looking back on them all: nothing is next
  }
  renderProgress();
  if (quiet) return;
  announce([verdict, key[q].explanation ?? '', all ? t('quiz.last') : ''].filter(Boolean).join(' '));
  if (all) {
    show(q, false);
    $('[data-quiz-done]')?.focus();
  } else {
    $('[data-quiz-next]', el)?.focus();
  }
}

function setBusy(q, option) {
  sending.set(q, option);
  item(q)?.setAttribute('aria-busy', 'true');
  lockAnswered();
  clearTimeout(busyTimers.get(q));
  // An answer refused for good (e.g. "slow down") must not leave the question stuck.
  busyTimers.set(q, setTimeout(() => {
    if (answered.has(q) || !sending.has(q)) return;
    sending.delete(q);
    item(q)?.removeAttribute('aria-busy');
    for (const button of optionsOf(q)) button.disabled = !isLive();
  }, BUSY_MS));
}

/** An answer refused for good: the question is free again, unless it was answered before. */
function refused(q, already) {
  if (!Number.isInteger(q) || !item(q) || answered.has(q)) return;
  sending.delete(q);
  clearTimeout(busyTimers.get(q));
  item(q).removeAttribute('aria-busy');
  for (const button of optionsOf(q)) button.disabled = already || !isLive();
}

function restore(mine) {
  if (!mine || typeof mine !== 'object') return;
  for (const [name, choice] of Object.entries(mine)) {
    const match = /^q(\d+)$/.exec(name);
    const q = match ? Number(match[1]) : -1;
    const option = Number(choice);
    if (q >= 0 && q < count && Number.isInteger(option)) markAnswered(q, option, { quiet: true });
  }
  if (answered.has(current)) {
    const next = nextUnanswered(current);
    show(next >= 0 ? next : current, false);
  }
}

start({
  onState(view) {
    if (typeof view.session_total === 'number') score = view.session_total;
    if (Array.isArray(view.state?.questions)) crowd = view.state.questions;
    if (view.mine) restore(view.mine);
    lockAnswered();
    for (const q of answered.keys()) renderCrowd(q);
    renderProgress();
  },
  actionPayload(button) {
    const question = Number(button.dataset.question);
    const option = Number(button.dataset.option);
    setBusy(question, option);
    return { kind: 'answer', data: { question, option } };
  },
  onAction(_ack, button) {
    // A re-sent answer (after a reconnect) has no button: it is the oldest one still sending.
    const q = button ? Number(button.dataset.question) : sending.keys().next().value;
    const option = button ? Number(button.dataset.option) : sending.get(q);
    if (Number.isInteger(q) && Number.isInteger(option)) markAnswered(q, option, { quiet: false });
  },
  onError(error, button) {
    const match = /^q(\d+)$/.exec(error?.already || '');
    const q = button ? Number(button.dataset.question) : match ? Number(match[1]) : NaN;
    refused(q, Boolean(match));
    // The catalog's words for the live core to show (the server's message is for the API).
    if (match) return t('quiz.already');
    return error?.code === 'invalid' ? t('quiz.not_counted') : undefined;
  },
});

for (const button of $$('[data-quiz-next]')) {
  button.addEventListener('click', () => {
    const next = nextUnanswered(current);
    if (next >= 0) show(next, true);
  });
}
renderProgress();
