// The Node.js peer socialads is measured against in `make bench`: socket.io 4.8 on Node,
// doing exactly what the bare Flask-SocketIO baseline (bench/baseline.py --mode incr) does.
//
//   join: put the connection in the one room "crowd"; ack {ok: true}
//   act:  one Redis INCR, one emit("progress", {total}) to the room, ack {ok: true, total}
//   GET /healthz: one Redis PING
//
// WebSocket only (the bench's lean client never polls), perMessageDeflate off (socket.io's
// default), the same ping interval and timeout as `socialads serve` (20 s / 20 s).
//
//   node bench/node_peer.mjs --port P --redis redis://HOST:PORT
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { Server } from 'socket.io';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379/0' },
  },
});
const KEY = 'bench:node:total';
const ROOM = 'crowd';

const store = createClient({ url: values.redis });
store.on('error', (error) => console.error('redis:', error.message));
await store.connect();

const http = createServer(async (request, response) => {
  if (request.url === '/healthz') {
    try {
      await store.ping();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"status":"ok"}');
    } catch (error) {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end('{"status":"unavailable"}');
    }
    return;
  }
  response.writeHead(404);
  response.end();
});

const io = new Server(http, {
  transports: ['websocket'],
  pingInterval: 20000,
  pingTimeout: 20000,
  serveClient: false,
});

io.on('connection', (socket) => {
  socket.on('join', (_payload, ack) => {
    socket.join(ROOM);
    if (typeof ack === 'function') ack({ ok: true });
  });
  socket.on('act', async (_payload, ack) => {
    const total = await store.incr(KEY);
    io.to(ROOM).emit('progress', { total });
    if (typeof ack === 'function') ack({ ok: true, total });
  });
});

http.listen(Number(values.port), values.host, () => {
  console.log(`node peer on http://${values.host}:${values.port}`);
});
