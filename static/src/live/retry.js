/*
 * How long the live code waits: for an answer (ACK_TIMEOUT), and before trying again.
 *
 * `retryLater(fn, ms)` keeps one timer per kind of work (join, re-send), keyed by the function
 * itself, so asking again only moves the retry; each wait is jittered (a crowd that lost the
 * same server must not come back in step), and fires only if we are still connected.
 */

export const ACK_TIMEOUT = 8000;
export const RETRY_DELAY = 3000;

export function createRetry(connected) {
  const timers = new Map(); // one pending retry per kind of work (join, resend)

  /** Try again after about `ms` (0.75 to 1.25 times it). */
  return function retryLater(fn, ms = RETRY_DELAY) {
    clearTimeout(timers.get(fn));
    timers.set(fn, setTimeout(() => connected() && fn(), ms * (0.75 + Math.random() / 2)));
  };
}
