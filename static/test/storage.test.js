// The viewer id and the name: in localStorage when it works, in memory when it throws.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { createStore, NAME_KEY, uuid, VIEWER_KEY, viewerId } from '../src/live/storage.js';

afterEach(() => {
  delete globalThis.localStorage;
});

function memoryStorage() {
  const items = new Map();
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

test('the store reads and writes localStorage', () => {
  const storage = (globalThis.localStorage = memoryStorage());
  const store = createStore();
  store.set(NAME_KEY, 'Ana');
  assert.equal(storage.items.get(NAME_KEY), 'Ana');
  assert.equal(store.get(NAME_KEY), 'Ana');
  store.set(NAME_KEY, null);
  assert.equal(storage.items.has(NAME_KEY), false);
  assert.equal(store.get(NAME_KEY), null);
});

test('the store falls back to memory when localStorage throws or is missing', () => {
  const store = createStore(); // no localStorage at all here
  assert.equal(store.get(NAME_KEY), null);
  store.set(NAME_KEY, 'Ana');
  assert.equal(store.get(NAME_KEY), 'Ana');
  Object.defineProperty(globalThis, 'localStorage', {
    configurable: true,
    get() {
      throw new Error('SecurityError'); // a sandboxed frame
    },
  });
  assert.equal(store.get(NAME_KEY), 'Ana');
  store.set(NAME_KEY, null);
  assert.equal(store.get(NAME_KEY), null);
});

test('a stored value wins over the memory one', () => {
  const store = createStore();
  store.set(NAME_KEY, 'from memory');
  globalThis.localStorage = memoryStorage();
  globalThis.localStorage.setItem(NAME_KEY, 'from storage');
  assert.equal(store.get(NAME_KEY), 'from storage');
});

test('uuid makes distinct ids the server accepts', () => {
  const ids = new Set(Array.from({ length: 50 }, () => uuid()));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{8,64}$/);
});

test('viewerId is made once and kept', () => {
  globalThis.localStorage = memoryStorage();
  const store = createStore();
  const id = viewerId(store);
  assert.match(id, /^[A-Za-z0-9_-]{8,64}$/);
  assert.equal(globalThis.localStorage.getItem(VIEWER_KEY), id);
  assert.equal(viewerId(store), id);
});

test('viewerId replaces a malformed stored id', () => {
  globalThis.localStorage = memoryStorage();
  for (const bad of ['short', 'has spaces in it', 'x'.repeat(65), '<script>']) {
    globalThis.localStorage.setItem(VIEWER_KEY, bad);
    const id = viewerId(createStore());
    assert.notEqual(id, bad);
    assert.equal(globalThis.localStorage.getItem(VIEWER_KEY), id);
  }
});

test('uuid without randomUUID (an insecure context) is 32 hex digits', () => {
  Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true });
  try {
    assert.match(uuid(), /^[0-9a-f]{32}$/);
  } finally {
    delete crypto.randomUUID; // the prototype's method again
  }
  assert.match(uuid(), /^[0-9a-f-]{36}$/);
});
