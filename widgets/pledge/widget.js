// The pledge activity: the shared live core plus a little celebration when the total moves.
import { start } from 'socialads-live';

const calm = () => window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
let lastTotal = null;

function pulse(el) {
  if (!el || calm()) return;
  el.classList.remove('sa-pulse');
  void el.offsetWidth; // restart the animation when pledges arrive back to back
  el.classList.add('sa-pulse');
}

const live = start({
  onState({ total, goal }, root) {
    if (lastTotal != null && total > lastTotal) pulse(document.querySelector('.sa-total'));
    lastTotal = total;
    const reached = goal > 0 && total >= goal;
    if (reached) root.dataset.goal = 'reached';
    const goalLine = document.querySelector('[data-pledge-goal]');
    if (reached && goalLine && goalLine.textContent !== 'Goal reached!') {
      goalLine.textContent = 'Goal reached!';
    }
  },
  onAction() {
    live.note('Thank you! Your pledge counts.', 3000);
  },
});

document.querySelector('.sa-total')?.addEventListener('animationend', (event) => {
  event.currentTarget.classList.remove('sa-pulse');
});
