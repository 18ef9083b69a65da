// Fakes for the live core's Node tests (not a test itself; the runner loads it and finds none).
//
// The live modules take their socket and the parts they move as arguments; these stand in for
// socket.io-client's Socket, the DOM-writing view and the browser's timers.

/** A Socket.IO client socket: `timeout(ms).emit(event, payload, ack)` is recorded, and the test
 *  answers it later with `answer(i, err, res)` (an ack timeout is `answer(i, new Error())`). */
export function fakeSocket({ connected = true, active = true } = {}) {
  const socket = {
    connected,
    active,
    sent: [], // {event, payload, timeout, ack}
    handlers: {},
    connects: 0,
    disconnects: 0,
    timeout(ms) {
      return {
        emit(event, payload, ack) {
          socket.sent.push({ event, payload, timeout: ms, ack });
        },
      };
    },
    on(event, handler) {
      socket.handlers[event] = handler;
    },
    fire(event, ...args) {
      socket.handlers[event](...args);
    },
    connect() {
      socket.connects += 1;
    },
    disconnect() {
      socket.disconnects += 1;
    },
    /** The emits of one event, in order. */
    of(event) {
      return socket.sent.filter((s) => s.event === event);
    },
    /** Answer the last emit of `event` (or the i-th of them). */
    answer(event, res, { err = null, i = -1 } = {}) {
      const list = socket.of(event);
      list.at(i).ack(err, res);
    },
  };
  return socket;
}

/** The view's surface (live/view.js), recording what it was told; setMode keeps state.mode. */
export function fakeView(state) {
  const view = {
    calls: [],
    notes: [],
    chatNotes: [],
    totals: { total: 0, session_total: 0, goal: 0 },
    root: { dataset: {} },
    note(text, ms) {
      view.notes.push(ms === undefined ? [text] : [text, ms]);
    },
    chatNote(text) {
      view.chatNotes.push(text);
    },
    setMode(mode) {
      state.mode = mode;
      view.calls.push(['setMode', mode]);
    },
    goInactive(status, message) {
      state.mode = 'inactive';
      view.calls.push(['goInactive', status, message]);
    },
    inactiveFrom(res) {
      state.mode = 'inactive';
      view.calls.push(['inactiveFrom', res]);
    },
    applyTotals(data) {
      view.calls.push(['applyTotals', data]);
    },
    renderPresence() {},
    joined(res) {
      view.calls.push(['joined', res]);
    },
  };
  return view;
}

/** The chat log's surface (live/messages.js). */
export function fakeMessages() {
  const messages = {
    added: [],
    cleared: 0,
    last: null,
    add(message) {
      messages.added.push(message);
    },
    clear() {
      messages.cleared += 1;
      messages.last = null;
    },
    since: () => messages.last,
  };
  return messages;
}

/** A catalog lookup that shows the key and fields: t('note.x', {a: 1}) -> 'note.x{"a":1}'. */
export const fakeT = (key, fields) => (fields ? `${key}${JSON.stringify(fields)}` : key);

/**
 * Manual timers in place of the global setTimeout/clearTimeout, and a fixed Math.random.
 * `run()` fires every timer due (in order of time); restore() puts the real ones back.
 */
export function fakeClock({ random = 0.5 } = {}) {
  const real = { setTimeout, clearTimeout, random: Math.random };
  const clock = {
    timers: new Map(), // id -> {fn, ms}
    next: 1,
    cleared: [],
    /** The delays of the timers not yet fired. */
    get delays() {
      return [...clock.timers.values()].map((t) => t.ms);
    },
    run() {
      const due = [...clock.timers.entries()].sort((a, b) => a[1].ms - b[1].ms);
      clock.timers.clear();
      for (const [, timer] of due) timer.fn();
    },
    restore() {
      globalThis.setTimeout = real.setTimeout;
      globalThis.clearTimeout = real.clearTimeout;
      Math.random = real.random;
    },
  };
  globalThis.setTimeout = (fn, ms) => {
    const id = clock.next++;
    clock.timers.set(id, { fn, ms });
    return id;
  };
  globalThis.clearTimeout = (id) => {
    if (id !== undefined) clock.cleared.push(id);
    clock.timers.delete(id);
  };
  Math.random = () => random;
  return clock;
}

/** The browser globals a join reads (location for the page origin, window for framing). */
export function fakePage(href = 'https://ads.example/w/c_test') {
  globalThis.location = new URL(href);
  globalThis.window = { parent: null };
}
