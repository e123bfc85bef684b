// A WebSocket to this page's own origin that comes back after a drop, with backoff (0.5 s,
// doubling, at most 15 s, with jitter). JSON text frames. The browser sends the session cookie
// and the Origin header with the upgrade by itself; nothing secret is in the URL.
//
//   const s = new ReconnectingSocket('/ws/operator');
//   s.onStatus((status, info) => ...)   // 'connecting' | 'open' | 'closed' (info: {code, reason, retryInMs})
//   s.onFrame((frame) => ...)
//   s.start(); s.sendJson({...}); s.stop();

export class ReconnectingSocket {
  constructor(path, { minDelayMs = 500, maxDelayMs = 15000 } = {}) {
    this.path = path;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.ws = null;
    this.status = 'closed';
    this.attempt = 0;
    this.timer = null;
    this.stopped = true;
    this.statusFns = new Set();
    this.frameFns = new Set();
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}${this.path}`;
  }

  onStatus(fn) {
    this.statusFns.add(fn);
    return () => this.statusFns.delete(fn);
  }

  onFrame(fn) {
    this.frameFns.add(fn);
    return () => this.frameFns.delete(fn);
  }

  setStatus(status, info = {}) {
    this.status = status;
    this.statusFns.forEach((fn) => fn(status, info));
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  }

  /** Reconnect now instead of waiting for the backoff (a "reconnect" button). */
  retryNow() {
    if (this.stopped || this.status !== 'closed') return;
    clearTimeout(this.timer);
    this.open();
  }

  open() {
    this.setStatus('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.scheduleReconnect({ code: 0, reason: e.message });
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus('open');
    };
    ws.onmessage = (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.frameFns.forEach((fn) => fn(frame));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) {
        this.setStatus('closed', { code: ev.code, reason: ev.reason });
        return;
      }
      this.scheduleReconnect({ code: ev.code, reason: ev.reason });
    };
  }

  scheduleReconnect(info) {
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.attempt += 1;
    this.setStatus('closed', { ...info, retryInMs: delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) this.open();
    }, delay);
  }

  sendJson(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  /** Drop the connection as a network failure would (tests and "reconnect" use it). */
  drop() {
    if (this.ws) this.ws.close(4000, 'dropped by the page');
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000, 'page left');
    }
    this.setStatus('closed', {});
  }
}
