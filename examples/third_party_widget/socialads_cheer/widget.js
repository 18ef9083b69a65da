// The cheer activity's browser code: the shared live core does the joining, counting and the
// §2 hooks; we only add a little bounce when the cheers add up, and a thank-you.
import { start } from 'socialads-live';

const calm = () => window.matchMedia?.('(prefers-reduced-motion: reduce)').matches;
let last = null;

const live = start({
  // After the join snapshot, every progress event and every acknowledged cheer.
  onState({ total }) {
    const count = document.querySelector('.cheer-total');
    if (count && last != null && total > last && !calm()) {
      count.classList.remove('cheer-bounce');
      void count.offsetWidth; // restart the animation when cheers arrive back to back
      count.classList.add('cheer-bounce');
    }
    last = total;
  },
  // What a click on [data-socialad-action] sends: {kind?, data?}.
  actionPayload() {
    return { kind: 'cheer' };
  },
  // The server counted this viewer's cheer.
  onAction() {
    live.note('Cheer sent. Thank you!', 3000);
  },
});
