// operator.v1 over /ws/operator (docs/operator-protocol.md): {type:"req", id, method, params}
// answered by {type:"res", id, ok, payload|error}; {type:"event", event, payload, seq} pushed.
// The session cookie authenticates the upgrade, so the connection acts as the signed-in user.
//
//   const op = new OperatorSocket(); op.start();
//   const { orgs } = await op.call('orgs.list');
//   const off = op.on('node.pair.requested', (payload) => ...);
//   op.onStatus((status) => ...);   // 'connecting' | 'open' | 'closed'
//
// A call made while the socket is down waits for it to open (up to timeoutMs); a call whose
// connection drops before its answer is rejected (the method may or may not have run).

import { ReconnectingSocket } from './reconnecting-socket.js';

export class OperatorError extends Error {
  constructor({ code, message, details }) {
    super(message || code);
    this.name = 'OperatorError';
    this.code = code || 'INTERNAL';
    this.details = details || null;
  }
}

export class OperatorSocket {
  constructor({ path = '/ws/operator', timeoutMs = 30000 } = {}) {
    this.sock = new ReconnectingSocket(path);
    this.timeoutMs = timeoutMs;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer, frame, sent}
    this.eventFns = new Map(); // event name (or '*') -> Set(fn)
    this.sock.onFrame((f) => this.handle(f));
    this.sock.onStatus((status) => {
      if (status === 'open') this.flush();
      if (status === 'closed') this.failSent('the connection to the gateway dropped before the answer');
    });
  }

  get status() {
    return this.sock.status;
  }

  start() {
    this.sock.start();
    return this;
  }

  stop() {
    this.sock.stop();
    this.failAll('the page closed the connection');
  }

  onStatus(fn) {
    return this.sock.onStatus(fn);
  }

  /** fn(payload, frame) for events named `event`; '*' gets every event. */
  on(event, fn) {
    if (!this.eventFns.has(event)) this.eventFns.set(event, new Set());
    this.eventFns.get(event).add(fn);
    return () => this.eventFns.get(event).delete(fn);
  }

  call(method, params = {}) {
    const id = String(this.nextId++);
    const frame = { type: 'req', id, method, params };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new OperatorError({ code: 'UNAVAILABLE', message: `${method}: no answer from the gateway in ${this.timeoutMs / 1000} s; check that it is running and try again` }));
      }, this.timeoutMs);
      const entry = { resolve, reject, timer, frame, sent: false };
      this.pending.set(id, entry);
      if (this.sock.sendJson(frame)) entry.sent = true;
    });
  }

  flush() {
    for (const entry of this.pending.values()) {
      if (!entry.sent && this.sock.sendJson(entry.frame)) entry.sent = true;
    }
  }

  failSent(message) {
    for (const [id, entry] of this.pending) {
      if (!entry.sent) continue;
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(new OperatorError({ code: 'UNAVAILABLE', message: `${message}; try again` }));
    }
  }

  failAll(message) {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(new OperatorError({ code: 'UNAVAILABLE', message }));
    }
  }

  handle(frame) {
    if (frame.type === 'res') {
      const entry = this.pending.get(String(frame.id));
      if (!entry) return;
      clearTimeout(entry.timer);
      this.pending.delete(String(frame.id));
      if (frame.ok) entry.resolve(frame.payload || {});
      else entry.reject(new OperatorError(frame.error || {}));
    } else if (frame.type === 'event') {
      for (const key of [frame.event, '*']) {
        const fns = this.eventFns.get(key);
        if (fns) fns.forEach((fn) => fn(frame.payload, frame));
      }
    }
  }
}
