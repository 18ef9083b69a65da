/*
 * The words of the live code: every text comes from the campaign's language catalog (the page
 * config's `texts`, the same catalog the server renders with), never from the code itself.
 *
 * `createTexts(catalog)` gives `t(key, fields)` and `fmt(n)`; live.js makes the document's pair
 * and widgets import them from `socialads-live`. Pure: no DOM (static/test/texts.test.js).
 */

export function createTexts(catalog) {
  /** A count with the campaign language's thousands separator (the server's n() does the same). */
  function fmt(n) {
    const group = catalog['number.group'] ?? ',';
    return String(Math.trunc(Number(n) || 0)).replace(/\B(?=(\d{3})+(?!\d))/g, group);
  }

  /** A text of the campaign's language with its {fields} filled in (numbers through fmt), its
   *  `one`/`other` form picked by `fields.n`; an unknown key reads as itself. */
  function t(key, fields = {}) {
    let text = catalog[key] ?? key;
    if (text && typeof text === 'object') text = fields.n === 1 ? text.one : text.other;
    return String(text).replace(/\{(\w+)\}/g, (whole, name) => {
      if (!(name in fields)) return whole;
      const value = fields[name];
      return typeof value === 'number' ? fmt(value) : String(value);
    });
  }

  return { t, fmt };
}
