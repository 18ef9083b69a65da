/*
 * The Socket.IO connection (the real socket.io-client, bundled) and its states.
 *
 * Python Socket.IO has no connection state recovery: every (re)connect simply joins again, and
 * the join's snapshot restores everything. The client retries by itself except in two cases,
 * which are ours: a disconnect by the server, and a refused connect (too many from one address,
 * with the server's `retry_after`). followConnection takes the socket and the parts it moves as
 * arguments, so a fake socket in Node drives it (static/test/socket.test.js).
 */
import { io } from 'socket.io-client';
import { isCount } from './config.js';

/** Our own origin, whatever name the page was loaded under: the server accepts same-origin
 *  sockets only. The configured base may add a path prefix.
 *
 *  WebSocket first and straight away (no polling handshake before the upgrade: one round
 *  trip less to interactive, and the server's cheap path), long-polling only when the
 *  WebSocket cannot open (a proxy that refuses upgrades): `tryAllTransports`. */
export function socketOptions(config) {
  const base = new URL(config.base || location.origin, location.href);
  return {
    path: `${base.pathname.replace(/\/$/, '')}/socket.io`,
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    randomizationFactor: 0.5,
  };
}

export function openSocket(config) {
  return io(location.origin, socketOptions(config));
}

/** Join on every connect; on a lost connection say "reconnecting" (unless the unit is inactive
 *  for good) and get it back where the client would not by itself. */
export function followConnection(socket, state, view, session) {
  socket.on('connect', session.join);
  socket.on('disconnect', (reason) => {
    session.forget(); // the answer to a join on its way will not come: the next connect joins afresh
    if (state.mode === 'inactive') return;
    view.setMode('reconnecting');
    if (reason === 'io server disconnect') socket.connect(); // the client does not retry this one
  });
  socket.on('connect_error', (err) => {
    if (state.mode !== 'inactive') view.setMode('reconnecting');
    // The server refused this connect (too many from this address): the client does not
    // retry a refusal by itself, so try again once the server says it may succeed.
    if (!socket.active && state.mode !== 'inactive') {
      const wait = err?.data?.retry_after;
      setTimeout(() => socket.connect(), (isCount(wait) ? wait : 5) * 1000 * (1 + Math.random()));
    }
  });
}
