// The poll activity: one vote per person, live result bars for the whole campaign.
//
// The server keeps the truth (one vote per viewer, counted atomically); this file only shows it:
// which option this viewer chose (`mine.vote` in the join ack, or their own accepted click),
// the bars from `state.votes`, and no second vote once they have voted.
import { start, t } from 'socialads-live';

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

const votesText = (n) => t('poll.votes', { n });
const percent = (pct) => t('poll.percent', { pct });
const hasVoted = () => voted != null;

/** "A, B and C" in the campaign's language (the page's lang). */
function andList(items) {
  try {
    return new Intl.ListFormat(document.documentElement.lang || undefined, { type: 'conjunction' }).format(items);
  } catch {
    return items.join(', ');
  }
}

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
    const text = t('poll.count', { votes: votesText(n), percent: percent(pct) });
    if (count && count.textContent !== text) count.textContent = text;
    row
      .querySelector('[data-poll-track]')
      ?.setAttribute('aria-label', t('poll.bar', { option: labels[i], percent: percent(pct) }));
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
  const parts = [voted >= 0 ? t('poll.you_voted', { option: labels[voted] }) : t('poll.already')];
  if (sum > 0 && leaders.length === 1) {
    parts.push(t('poll.leading', { option: leaders[0], votes: votesText(top), total: sum }));
  } else if (sum > 0) {
    parts.push(t('poll.tied', { options: andList(leaders), votes: votesText(top) }));
  }
  summary.textContent = parts.join(' ');
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
    live.note(t('poll.thanks'), 3000);
  },
  // A refused vote: "already voted" (e.g. from another tab) means voted; anything else means
  // the vote did not count and may be cast again. Returns the catalog's words to show.
  onError(error) {
    if (error?.already === 'vote') {
      markVoted(-1);
      return t('poll.already');
    }
    unlock();
    return error?.code === 'invalid' ? t('poll.not_counted') : undefined;
  },
});

function unlock() {
  if (pendingVote == null || hasVoted()) return;
  pendingVote = null;
  for (const button of buttons) button.disabled = document.documentElement.dataset.state !== 'live';
  renderChoice();
}


