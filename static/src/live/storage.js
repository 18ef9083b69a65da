/*
 * What this browser remembers: the viewer id (the server counts an action once per viewer and
 * id) and the name the viewer gave, in localStorage.
 *
 * localStorage can throw (disabled storage, sandboxed frames, or none at all as in Node): the
 * store then falls back to memory for this page. static/test/storage.test.js tries both.
 */

export const VIEWER_KEY = 'socialads:viewer';
export const NAME_KEY = 'socialads:name';

export function createStore() {
  const memory = {};
  return {
    get(key) {
      let value = null;
      try {
        value = localStorage.getItem(key);
      } catch {}
      return value ?? memory[key] ?? null;
    },
    set(key, value) {
      if (value == null) delete memory[key];
      else memory[key] = value;
      try {
        if (value == null) localStorage.removeItem(key);
        else localStorage.setItem(key, value);
      } catch {}
    },
  };
}

/** The page's store (memory only until it is used). */
export const store = createStore();

/** A fresh random id (actions and chat messages carry one; a re-send keeps it). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** This browser's viewer id, made (and kept) on first use; a malformed one is replaced. */
export function viewerId(from = store) {
  let id = from.get(VIEWER_KEY);
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    id = uuid();
    from.set(VIEWER_KEY, id);
  }
  return id;
}
