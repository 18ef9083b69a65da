// retryLater: one jittered timer per kind of work, and none fired once disconnected.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { createRetry, RETRY_DELAY } from '../src/live/retry.js';
import { fakeClock } from './fakes.js';

let clock;
afterEach(() => clock.restore());

test('the wait is the delay times 0.75 to 1.25', () => {
  for (const [random, factor] of [[0, 0.75], [0.5, 1], [0.999, 1.2495]]) {
    clock = fakeClock({ random });
    createRetry(() => true)(() => {});
    assert.ok(Math.abs(clock.delays[0] - RETRY_DELAY * factor) < 1e-6, `${random}: ${clock.delays}`);
    clock.restore();
  }
  clock = fakeClock({ random: 0.5 });
  createRetry(() => true)(() => {}, 10000);
  assert.deepEqual(clock.delays, [10000]);
});

test('asking again for the same work moves its one timer', () => {
  clock = fakeClock();
  const retryLater = createRetry(() => true);
  let joins = 0;
  let resends = 0;
  const join = () => (joins += 1);
  const resend = () => (resends += 1);
  retryLater(join);
  retryLater(join, 500);
  retryLater(resend);
  assert.deepEqual(clock.delays.sort(), [3000, 500].sort());
  clock.run();
  assert.deepEqual([joins, resends], [1, 1]);
});

test('a retry due while disconnected does nothing', () => {
  clock = fakeClock();
  let connected = true;
  let runs = 0;
  const retryLater = createRetry(() => connected);
  retryLater(() => (runs += 1));
  connected = false;
  clock.run();
  assert.equal(runs, 0);
});
