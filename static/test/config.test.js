// The page config and the page origin: forgiving reads of what the document says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialTotals, isCount, pageOrigin, readConfig } from '../src/live/config.js';

const doc = (text) => ({
  querySelector: (selector) => (selector === '#socialad-config' && text != null ? { textContent: text } : null),
});

test('readConfig parses the #socialad-config JSON', () => {
  const config = readConfig(doc('{"campaign": "c_1", "status": "live", "texts": {"a": "b"}}'));
  assert.deepEqual(config, { campaign: 'c_1', status: 'live', texts: { a: 'b' } });
});

test('readConfig is null without a config, or with a broken one', () => {
  assert.equal(readConfig(doc(null)), null);
  assert.equal(readConfig(doc('{"campaign": ')), null);
  assert.equal(readConfig(doc('')), null);
});

test('isCount accepts finite numbers from zero up, nothing else', () => {
  for (const n of [0, 1, 2.5, 1e9]) assert.equal(isCount(n), true, n);
  for (const n of [-1, NaN, Infinity, '3', null, undefined, {}]) assert.equal(isCount(n), false, String(n));
});

test('initialTotals takes the rendered counts, 0 for anything that is not a count', () => {
  assert.deepEqual(initialTotals({ total: 12, session_total: 3, goal: 100 }), { total: 12, session_total: 3, goal: 100 });
  assert.deepEqual(initialTotals({ total: -1, session_total: '3', goal: NaN }), { total: 0, session_total: 0, goal: 0 });
  assert.deepEqual(initialTotals(null), { total: 0, session_total: 0, goal: 0 });
  assert.deepEqual(Object.keys(initialTotals({})), ['total', 'session_total', 'goal']);
});

const top = { parent: null };
top.parent = top;
const framed = { parent: {} };
const at = (href) => new URL(href);

test('pageOrigin is the publisher origin embed.js put in the fragment', () => {
  assert.equal(pageOrigin({}, at('https://ads.example/w/c#o=https://news.example&f=1'), framed), 'https://news.example');
  assert.equal(pageOrigin({}, at('https://ads.example/w/c#o=http://localhost:5001'), framed), 'http://localhost:5001');
});

test('pageOrigin on our own landing page, shown at top level, is our origin', () => {
  assert.equal(pageOrigin({ landing: true }, at('https://ads.example/j/tok'), top), 'https://ads.example');
  assert.equal(pageOrigin({ landing: true }, at('https://ads.example/j/tok'), framed), null);
  assert.equal(pageOrigin({}, at('https://ads.example/w/c'), top), null);
  assert.equal(pageOrigin(null, at('https://ads.example/w/c'), top), null);
});

test('pageOrigin refuses anything that is not a plain origin', () => {
  for (const told of ['news.example', 'https://news.example/path', 'javascript:alert(1)', 'https://a b', 'null']) {
    const loc = at(`https://ads.example/w/c#o=${encodeURIComponent(told)}`);
    assert.equal(pageOrigin({}, loc, framed), null, told);
  }
  const long = `https://${'a'.repeat(200)}.example`;
  assert.equal(pageOrigin({}, at(`https://ads.example/w/c#o=${long}`), framed), null);
});
