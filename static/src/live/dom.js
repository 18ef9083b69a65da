/*
 * The few DOM helpers the live core's views share. User and brand text only ever reaches the
 * DOM through textContent (element's third argument), never as HTML.
 */

export const $ = (selector) => document.querySelector(selector);
export const $$ = (selector) => Array.from(document.querySelectorAll(selector));

export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text != null) el.textContent = text;
  return el;
}
