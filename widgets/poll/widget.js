// The poll activity: one vote per person, live result bars for the whole campaign.
//
// The server keeps the truth (one vote per viewer, counted atomically); this file only shows it:
// which option this viewer chose (`mine.vote` in the join ack, or their own accepted click),
// the bars from `state.votes`, and no second vote once they have voted.
import { start } from 'socialads-live';

const poll = document.querySelector('[data-poll]');
const always = poll?.dataset.results === 'always';
const buttons = Array.from(document.querySelectorAll('[data-socialad-action][data-option]'));
const resultsBox = document.querySelector('[data-poll-results]');
const summary = document.querySelector('[data-poll-summary]');
const labels = buttons.map((b) => b.querySelector('.sa-poll-label')?.textContent || '');

// The server-rendered counts, so the first paint (and an inactive unit) keeps them.
const serverShown = resultsBox ? !resultsBox.hidden : false;
let votes = buttons.map(() => 0);
try {
  const first = JSON.parse(poll?.dataset.votes || '[]');
  votes = votes.map((n, i) => (Number.isInteger(first[i]) && first[i] >= 0 ? first[i] : n));
} catch {}
let voted = null; // the index this viewer voted for; -1 when they voted but we don't know which
let pendingVote = null; // the index of a vote sent and not yet answered
let summaryTold = false;
let countsNeeded = 0; // the total votes the counts must reach to include this viewer's vote

const fmt = (n) => Number(n).toLocaleString();
const plural = (n) => `${fmt(n)} vote${n === 1 ? '' : 's'}`;
const hasVoted = () => voted != null;

function readVotes(state) {
  const list = state?.votes;
  if (!Array.isArray(list)) return;
  // Counts never go backwards: a progress event may be overtaken by a newer one.
  votes = votes.map((n, i) => {
    const v = Number(list[i]);
    return Number.isFinite(v) && v >= 0 ? Math.max(n, v) : n;
  });
}

function renderBars() {
  const sum = votes.reduce((a, b) => a + b, 0);
  for (const row of document.querySelectorAll('[data-poll-result]')) {
    const i = Number(row.dataset.pollResult);
    const n = votes[i] ?? 0;
    const pct = sum ? Math.round((n * 100) / sum) : 0;
    const count = row.querySelector('[data-poll-count]');
    const text = `${plural(n)} · ${pct}%`;
    if (count && count.textContent !== text) count.textContent = text;
    row.querySelector('[data-poll-track]')?.setAttribute('aria-label', `${labels[i]}: ${pct}% of the votes`);
    const bar = row.querySelector('[data-poll-bar]');
    if (bar) bar.style.width = `${pct}%`; // CSSOM, which the CSP allows (style attributes it does not)
    row.classList.toggle('sa-poll-mine', i === voted);
  }
}

function renderChoice() {
  const locked = hasVoted() || pendingVote != null;
  for (const [i, button] of buttons.entries()) {
    const chosen = i === voted || (voted == null && i === pendingVote);
    button.setAttribute('aria-pressed', String(chosen));
    button.classList.toggle('sa-poll-chosen', chosen);
    // live.js enables every action control whenever the unit goes live: one vote is all.
    if (locked) button.disabled = true;
  }
  if (poll) poll.dataset.voted = hasVoted() ? 'yes' : 'no';
  if (resultsBox) resultsBox.hidden = !(always || serverShown || hasVoted());
}

function tell() {
  if (!summary || !hasVoted() || summaryTold) return;
  const sum = votes.reduce((a, b) => a + b, 0);
  if (sum < countsNeeded) return; // wait for the counts that include this vote
  summaryTold = true; // once: the bars move live, the screen reader is not told every vote
  const top = Math.max(...votes);
  const leaders = labels.filter((_, i) => votes[i] === top);
  const mine = voted >= 0 ? `You voted for ${labels[voted]}.` : 'You have already voted.';
  let standing = '';
  if (sum > 0 && leaders.length === 1) standing = ` Leading: ${leaders[0]}, ${plural(top)} of ${fmt(sum)}.`;
  else if (sum > 0) standing = ` Tied: ${leaders.join(', ')}, ${plural(top)} each.`;
  summary.textContent = mine + standing;
}

function markVoted(index) {
  voted = Number.isInteger(index) && index >= 0 && index < buttons.length ? index : -1;
  pendingVote = null;
  renderChoice();
  renderBars();
  tell();
}

const live = start({
  onState(view) {
    readVotes(view.state);
    const mine = view.mine?.vote;
    if (mine != null && mine !== '' && (voted == null || voted < 0)) markVoted(Number(mine));
    renderChoice();
    renderBars();
    tell();
  },
  actionPayload(button) {
    const option = Number(button.dataset.option);
    pendingVote = option;
    renderChoice(); // no second click while the first is on its way
    return { kind: 'vote', data: { option } };
  },
  onAction(ack, button) {
    countsNeeded = Number(ack?.total) || 0; // every vote adds 1 to the campaign total
    markVoted(Number(button?.dataset.option ?? pendingVote));
    live.note('Thanks! Your vote counts.', 3000);
  },
  // A refused vote: "already voted" (e.g. from another tab) means voted; anything else means
  // the vote did not count and may be cast again.
  onError(error) {
    if (error?.already === 'vote') markVoted(-1);
    else unlock();
  },
});

function unlock() {
  if (pendingVote == null || hasVoted()) return;
  pendingVote = null;
  for (const button of buttons) button.disabled = document.documentElement.dataset.state !== 'live';
  renderChoice();
}


