// t() and fmt(): the campaign catalog's words, filled in the way the server's t() and n() do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTexts } from '../src/live/texts.js';

const es = createTexts({
  'number.group': '.',
  'unit.of_goal': '{total} de {goal}',
  'presence.count': { one: '{n} persona aquí', other: '{n} personas aquí' },
  'member.you': '{name} (tú)',
});

test('fmt groups thousands with the language separator, comma by default', () => {
  assert.equal(es.fmt(1234567), '1.234.567');
  assert.equal(createTexts({}).fmt(1234567), '1,234,567');
  assert.equal(es.fmt(999), '999');
});

test('fmt truncates and reads anything else as 0', () => {
  assert.equal(es.fmt(1234.9), '1.234');
  assert.equal(es.fmt('2500'), '2.500');
  assert.equal(es.fmt('many'), '0');
  assert.equal(es.fmt(undefined), '0');
  assert.equal(es.fmt(null), '0');
});

test('t fills named fields, numbers through fmt', () => {
  assert.equal(es.t('unit.of_goal', { total: 1500, goal: 10000 }), '1.500 de 10.000');
  assert.equal(es.t('member.you', { name: 'Ana' }), 'Ana (tú)');
  assert.equal(es.t('member.you', { name: 12345 }), '12.345 (tú)');
});

test('t picks one or other by fields.n', () => {
  assert.equal(es.t('presence.count', { n: 1 }), '1 persona aquí');
  assert.equal(es.t('presence.count', { n: 0 }), '0 personas aquí');
  assert.equal(es.t('presence.count', { n: 2000 }), '2.000 personas aquí');
  assert.equal(es.t('presence.count'), '{n} personas aquí');
});

test('t leaves fields it was not given, and reads an unknown key as itself', () => {
  assert.equal(es.t('unit.of_goal', { total: 3 }), '3 de {goal}');
  assert.equal(es.t('no.such.key'), 'no.such.key');
  assert.equal(es.t('no.such.{key}', { key: 'x' }), 'no.such.x');
});

test('t never reads HTML into a field (the text goes to textContent as it is)', () => {
  assert.equal(es.t('member.you', { name: '<b>{n}</b>' }), '<b>{n}</b> (tú)');
});
