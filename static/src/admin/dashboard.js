// The campaign Overview, live: poll stats.json every two seconds and update the numbers, the
// meter, the funnel, the publishers and minutes tables and the chart in place. The page is
// complete without this script; the server formats every figure (report.display), so a number
// reads the same before and after an update.
import uPlot from 'uplot';

const CHART_HEIGHT = 240;
const MAX_BACKOFF = 30000;
const FETCH_TIMEOUT = 10000;

function readInitial() {
  try {
    return JSON.parse(document.getElementById('dashboard-data').textContent);
  } catch {
    return null;
  }
}

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function row(cells) {
  const tr = document.createElement('tr');
  for (const [text, numeric, title] of cells) {
    const td = document.createElement('td');
    if (numeric) td.className = 'num';
    if (title) td.title = title;
    td.textContent = String(text);
    tr.append(td);
  }
  return tr;
}

/** Set an element's text, and mark it briefly when the value changed. */
function setText(el, text) {
  if (text == null || el.textContent === text) return;
  el.textContent = text;
  el.classList.remove('changed');
  void el.offsetWidth; // restart the highlight
  el.classList.add('changed');
}

function setWidth(el, width, extra = '') {
  const base = el.className.replace(/\bw\d+\b/g, '').replace(/\s+/g, ' ').trim();
  el.className = `${base} w${width}${extra}`.trim();
}

const sum = (values) => values.reduce((a, b) => a + b, 0);
const count = (n, what) => `${n.toLocaleString()} ${what}${n === 1 ? '' : 's'}`;
const utc = (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
const hhmm = (ts) => new Date(ts * 1000).toISOString().slice(11, 16);

function makeChart(box, series) {
  const accent = cssVar('--accent', '#0b6e4f');
  const muted = cssVar('--muted', '#5b6470');
  const line = cssVar('--line', '#e3e6ea');
  const joins = cssVar('--dash-joins', '#2e6bd7');
  const axis = { stroke: muted, font: '12px system-ui, sans-serif', ticks: { show: false } };
  const options = {
    width: Math.max(280, box.clientWidth),
    height: CHART_HEIGHT,
    tzDate: utc,
    padding: [12, 12, 0, 4],
    cursor: { drag: { x: false, y: false }, points: { size: 7 } },
    legend: { live: true },
    scales: {
      x: { time: true, range: (u, min, max) => [min - 30, max + 30] },
      y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] },
    },
    axes: [
      { ...axis, grid: { show: false }, values: (u, ticks) => ticks.map(hhmm) },
      {
        ...axis,
        size: 44,
        grid: { stroke: line, width: 1 },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000],
        values: (u, ticks) => ticks.map((v) => v.toLocaleString()),
      },
    ],
    series: [
      { value: (u, v) => (v == null ? '—' : `${hhmm(v)} UTC`) },
      {
        label: 'Actions',
        stroke: accent,
        fill: `${accent}33`,
        width: 1,
        paths: uPlot.paths.bars({ size: [0.7, 24] }),
        points: { show: false },
        value: (u, v) => (v == null ? '—' : v.toLocaleString()),
      },
      {
        label: 'Joins',
        stroke: joins,
        width: 2,
        points: { show: false },
        value: (u, v) => (v == null ? '—' : v.toLocaleString()),
      },
    ],
  };
  box.replaceChildren();
  const chart = new uPlot(options, [series.t, series.actions, series.joins], box);
  if (window.ResizeObserver) {
    new ResizeObserver(() => {
      const width = Math.max(280, box.clientWidth);
      if (width !== chart.width) chart.setSize({ width, height: CHART_HEIGHT });
    }).observe(box);
  }
  return chart;
}

function start(root) {
  const url = root.dataset.statsUrl;
  const every = Number(root.dataset.pollMs) || 2000;
  const status = root.querySelector('[data-dashboard-status]');
  const statusText = root.querySelector('[data-dashboard-status-text]');
  const updated = root.querySelector('[data-dashboard-updated]');
  const chartBox = root.querySelector('[data-dashboard-chart]');
  const meter = root.querySelector('[data-dashboard-meter]');
  const meterFill = root.querySelector('[data-dashboard-meter-fill]');
  const origins = root.querySelector('[data-dashboard-origins]');
  const minutes = root.querySelector('[data-dashboard-minutes]');
  let chart = null;
  let timer = 0;
  let failures = 0;
  let polling = false;
  let stopped = false;

  function setStatus(state, text) {
    status.dataset.state = state;
    statusText.textContent = text;
  }

  function render(report, first = false) {
    if (!first) {
      for (const el of root.querySelectorAll('[data-stat]')) {
        setText(el, report.display[el.dataset.stat]);
      }
    }
    setWidth(meterFill, report.width);
    meter.setAttribute('aria-label', `${report.display.percent} of the goal`);
    for (const step of report.funnel) {
      const item = root.querySelector(`[data-step="${step.key}"]`);
      if (!item) continue;
      setText(item.querySelector('[data-step-value]'), step.display);
      item.querySelector('[data-step-rate]').textContent = step.rate;
      setWidth(item.querySelector('[data-step-fill]'), step.width, step.value ? ' nonzero' : '');
    }
    if (report.origins.length) {
      origins.replaceChildren(
        ...report.origins.map((o) =>
          row([
            [o.label, false, o.origin],
            [o.impressions_display, true],
            [o.joins_display, true],
            [o.actions_display, true],
            [o.join_rate, true],
          ]),
        ),
      );
    }
    const s = report.series;
    const perMinute = s.t.map((_, i) =>
      row([[s.label[i]], [s.impressions[i], true], [s.joins[i], true], [s.actions[i], true]]),
    );
    minutes.replaceChildren(...perMinute.reverse());
    const summary = `${count(sum(s.actions), 'action')} and ${count(sum(s.joins), 'join')}`;
    chartBox.setAttribute('aria-label', `Last 60 minutes: ${summary}`);
    if (chart) chart.setData([s.t, s.actions, s.joins]);
    else chart = makeChart(chartBox, s);
    updated.dateTime = report.updated_at;
    updated.textContent = `${report.updated_at.slice(11, 19)} UTC`;
  }

  function schedule() {
    clearTimeout(timer);
    if (stopped || document.hidden) return; // resumes when the tab is visible again
    timer = setTimeout(poll, failures ? Math.min(MAX_BACKOFF, every * 2 ** failures) : every);
  }

  async function poll() {
    if (polling || stopped) return;
    polling = true;
    const controller = new AbortController();
    const abort = setTimeout(() => controller.abort(), FETCH_TIMEOUT);
    try {
      // A login that expired answers with a redirect to the login page: don't follow it.
      const response = await fetch(url, {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
        cache: 'no-store',
        redirect: 'manual',
        signal: controller.signal,
      });
      if (response.type === 'opaqueredirect' || response.status === 401 || response.status === 403) {
        stopped = true;
        setStatus('stopped', 'Logged out: reload the page to log in again. Figures as of');
        return;
      }
      if (response.status === 404) {
        stopped = true;
        setStatus('stopped', 'This campaign is no longer here. Figures as of');
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
      failures = 0;
      setStatus('live', 'Live · updated');
    } catch {
      failures += 1;
      setStatus('offline', 'Reconnecting… figures as of');
    } finally {
      clearTimeout(abort);
      polling = false;
      schedule();
    }
  }

  const initial = readInitial();
  if (initial) render(initial, true);
  setStatus('live', 'Live · updated');
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !stopped) poll();
  });
  schedule();
}

const dashboard = document.querySelector('[data-dashboard]');
if (dashboard) start(dashboard);
