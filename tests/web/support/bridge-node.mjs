// A tiny bridge.v1 node (docs/bridge-protocol.md): TCP, one JSON object per line. It sends
// pair-request and then waits on the open socket for pair-ok + hello-ok (approved) or an
// UNAUTHORIZED error (rejected or expired). Answers pings so it stays connected.
//
//   const node = await BridgeNode.connect(gw.bridgePort, {nodeId: 'phone-1', displayName: 'Phone'});
//   node.pairRequest();
//   const {token} = await node.waitFor((f) => f.type === 'pair-ok');
import { connect } from 'node:net';

export class BridgeNode {
  static connect(port, claims, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      const sock = connect({ port, host }, () => resolve(new BridgeNode(sock, claims)));
      sock.once('error', reject);
    });
  }

  constructor(sock, claims) {
    this.sock = sock;
    this.claims = {
      platform: 'test', version: '1.0.0', commands: ['camera.snap', 'screen.record'], ...claims,
    };
    this.frames = [];
    this.waiters = [];
    this.closed = false;
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        let f;
        try {
          f = JSON.parse(line);
        } catch {
          continue;
        }
        if (f.type === 'ping') this.send({ type: 'pong', id: f.id });
        this.frames.push(f);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(f)) return true;
          clearTimeout(w.timer);
          w.resolve(f);
          return false;
        });
      }
    });
    sock.on('close', () => {
      this.closed = true;
    });
    sock.on('error', () => {});
  }

  send(obj) {
    this.sock.write(`${JSON.stringify(obj)}\n`);
  }

  pairRequest(extra = {}) {
    this.send({ type: 'pair-request', ...this.claims, ...extra });
  }

  hello(token) {
    this.send({ type: 'hello', ...this.claims, token });
  }

  /** The first frame (already received or coming) that pred accepts. */
  waitFor(pred, timeoutMs = 15000) {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve };
      w.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`bridge node ${this.claims.nodeId}: no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  close() {
    this.sock.destroy();
  }
}
