// vespid.client.v1 over /ws/client?orgId=<org> (docs/sessions.md). The session cookie
// authenticates the upgrade; the org rides in the query because a browser cannot set headers
// on a WebSocket. Every (re)connect sends client_hello first.
//
//   const c = new ClientSocket(orgId); c.start();
//   c.onStatus((status, info) => ...)    // 'connecting' | 'open' (after client_hello_ok) | 'closed'
//   c.on('session_event', (frame) => ...)
//   const joined = await c.request({type: 'session_join', sessionId, afterSeq});
//
// request() resolves with the answer that echoes its id, and rejects with a ClientError for a
// session_error naming it, or when the connection drops before the answer (err.dropped = true:
// the gateway may or may not have acted; resend with the same idempotencyKey).

import { ReconnectingSocket } from './reconnecting-socket.js';

export class ClientError extends Error {
  constructor({ code, message, sessionId }, dropped = false) {
    super(message || code);
    this.name = 'ClientError';
    this.code = code || 'INTERNAL';
    this.sessionId = sessionId || null;
    this.dropped = dropped;
  }
}

export class ClientSocket {
  constructor(orgId, { timeoutMs = 30000 } = {}) {
    this.orgId = orgId;
    this.sock = new ReconnectingSocket(`/ws/client?orgId=${encodeURIComponent(orgId)}`);
    this.timeoutMs = timeoutMs;
    this.nextId = 1;
    this.pending = new Map();
    this.typeFns = new Map();
    this.statusFns = new Set();
    this.status = 'closed';
    this.hello = null;
    this.sock.onFrame((f) => this.handle(f));
    this.sock.onStatus((status, info) => {
      if (status === 'open') {
        this.sock.sendJson({ type: 'client_hello', id: 'hello' });
        return; // 'open' once the gateway answers the hello
      }
      if (status === 'closed') this.failAll('the connection to the gateway dropped', true);
      this.setStatus(status, info);
    });
  }

  setStatus(status, info = {}) {
    this.status = status;
    this.statusFns.forEach((fn) => fn(status, info));
  }

  start() {
    this.sock.start();
    return this;
  }

  stop() {
    this.sock.stop();
    this.failAll('the page closed the connection', true);
  }

  retryNow() {
    this.sock.retryNow();
  }

  /** Close the socket as if the network dropped; it reconnects by itself. */
  drop() {
    this.sock.drop();
  }

  onStatus(fn) {
    this.statusFns.add(fn);
    return () => this.statusFns.delete(fn);
  }

  /** fn(frame) for frames of this type ('session_event', 'session_error', ...). */
  on(type, fn) {
    if (!this.typeFns.has(type)) this.typeFns.set(type, new Set());
    this.typeFns.get(type).add(fn);
    return () => this.typeFns.get(type).delete(fn);
  }

  request(frame) {
    const id = `c${this.nextId++}`;
    return new Promise((resolve, reject) => {
      if (this.status !== 'open' || !this.sock.sendJson({ ...frame, id })) {
        reject(new ClientError({ code: 'UNAVAILABLE', message: 'not connected to the gateway' }, true));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ClientError({ code: 'UNAVAILABLE', message: `no answer from the gateway in ${this.timeoutMs / 1000} s` }, true));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  failAll(message, dropped) {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(new ClientError({ code: 'UNAVAILABLE', message }, dropped));
    }
  }

  handle(frame) {
    if (frame.type === 'client_hello_ok') {
      this.hello = frame;
      this.setStatus('open');
      return;
    }
    if (frame.id !== undefined && frame.id !== null && frame.type !== 'session_event') {
      const entry = this.pending.get(String(frame.id));
      if (entry) {
        clearTimeout(entry.timer);
        this.pending.delete(String(frame.id));
        if (frame.type === 'session_error') entry.reject(new ClientError(frame));
        else entry.resolve(frame);
        return;
      }
    }
    const fns = this.typeFns.get(frame.type);
    if (fns) fns.forEach((fn) => fn(frame));
  }
}
