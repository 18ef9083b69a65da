// The pledge activity: the shared live core, a little celebration when the total moves, and
// the group match friends unlock together (their progress, the brand's pool, the ledger).
import { start, t } from 'socialads-live';

const calm = () => window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
const $ = (selector) => document.querySelector(selector);
let lastTotal = null;
let match = null; // state.match: {every, amount, pool, used, ledger}
let group = null; // this session's {people, matched}

function pulse(el) {
  if (!el || calm()) return;
  el.classList.remove('sa-pulse');
  void el.offsetWidth; // restart the animation when pledges arrive back to back
  el.classList.add('sa-pulse');
}

const bar = $('[data-socialad-progress]');
const box = $('[data-pledge-match]');
const brand = box?.dataset.brand || '';
const what = (amount) => (amount === 1 ? bar?.dataset.unitOne : bar?.dataset.unit) || '';

function renderMatch() {
  if (!box || !match) return;
  const { every, amount } = match;
  const people = group?.people ?? 0;
  const seated = people % every;
  const unlock = $('[data-pledge-unlock]');
  let text = t('pledge.match.offer', { every, brand, amount, what: what(amount) });
  if (group && (people > 0 || group.matched > 0)) {
    const parts = [];
    if (group.matched > 0) {
      parts.push(t('pledge.match.unlocked', { amount: group.matched, what: what(group.matched), brand }));
    }
    if (seated > 0) parts.push(`${t('pledge.match.people', { people: seated, every })}:`);
    parts.push(t('pledge.match.more', { n: every - seated, brand, amount, what: what(amount) }));
    text = parts.join(' ');
  }
  if (unlock && unlock.textContent !== text) unlock.textContent = text;
  $('[data-pledge-seats]')
    ?.querySelectorAll('li')
    .forEach((seat, i) => seat.classList.toggle('sa-filled', i < seated));
  const left = Math.max(0, match.pool - match.used);
  const pool = $('[data-pledge-pool]');
  if (pool) {
    pool.textContent =
      left > 0 ? t('pledge.match.pool', { brand, left, pool: match.pool }) : t('pledge.match.pool_empty', { brand });
  }
  const ledger = $('[data-pledge-ledger]');
  if (ledger && Array.isArray(match.ledger)) {
    ledger.replaceChildren(
      ...match.ledger.map((entry) => {
        const item = document.createElement('li');
        item.textContent = t('pledge.match.ledger_entry', {
          group: String(entry.name || ''),
          amount: entry.amount,
          what: what(entry.amount),
        });
        return item;
      }),
    );
  }
}

const live = start({
  onState({ total, state, group: mine }) {
    if (lastTotal != null && total > lastTotal) pulse(document.querySelector('.sa-total'));
    lastTotal = total;
    if (state?.match) match = state.match;
    if (mine) group = mine;
    renderMatch();
  },
  onAction(ack) {
    if (ack.matched > 0) {
      live.note(t('pledge.thanks_unlocked', { amount: ack.matched, what: what(ack.matched), brand }), 5000);
    } else {
      live.note(t('pledge.thanks'), 3000);
    }
  },
});

document.querySelector('.sa-total')?.addEventListener('animationend', (event) => {
  event.currentTarget.classList.remove('sa-pulse');
});
