/*
 * What the widget document tells the live code: the JSON in #socialad-config (campaign, status,
 * totals, session, texts, base), and the page origin embed.js put in our fragment.
 *
 * Reading is forgiving (a missing or broken config is null: the unit then says it is broken).
 * No DOM beyond the document and location handed in, so Node tests it (static/test/config.test.js).
 */

/** A count the server may send: a finite number, never negative. */
export const isCount = (n) => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** The page config, or null when there is none or it is not JSON. */
export function readConfig(doc) {
  try {
    return JSON.parse(doc.querySelector('#socialad-config').textContent);
  } catch {
    return null;
  }
}

/** The totals the server rendered the page with: what the unit shows before it joins. */
export function initialTotals(config) {
  return {
    total: isCount(config?.total) ? config.total : 0,
    session_total: isCount(config?.session_total) ? config.session_total : 0,
    goal: isCount(config?.goal) ? config.goal : 0,
  };
}

/**
 * The origin of the page showing the unit, for the brand's analytics: the embed passes the
 * publisher's (#o=...); on our own invite landing page it is this page's. Null when unknown.
 */
export function pageOrigin(config, loc = location, win = window) {
  const told = new URLSearchParams(loc.hash.slice(1)).get('o');
  const origin = told || (config?.landing && win.parent === win ? loc.origin : '');
  return origin.length <= 200 && /^https?:\/\/[^/?#\s]+$/.test(origin) ? origin : null;
}
