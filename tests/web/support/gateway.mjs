// Starts a real vespid-gateway for one test file, on free loopback ports, with its own state
// dir, and drives it with the real CLI over the admin socket.
//
// The web listener: until the gateway serves apps/web by default on its own listener, this
// writes an explicit plugins.instances list (which replaces the defaults, so it lists every
// instance of etc/vespid.json) plus a "web" ws instance with the static route. When the default
// listener lands, `webInstance()` is the one place to change.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.resolve(REPO, process.env.VESPID_BIN_DIR || 'build/ci/bin');
export const WEB_DIR = path.join(REPO, 'apps/web');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function webInstance(port) {
  return {
    name: 'web',
    plugin: 'ws',
    config: {
      port,
      static_dir: WEB_DIR,
      routes: [
        { prefix: '/v1/', dialect: 'rest.v1' },
        { path: '/ws/client', dialect: 'vespid.client.v1', websocket: true },
        { path: '/ws/operator', dialect: 'operator.v1', websocket: true },
        { path: '/healthz', dialect: 'rest.v1' },
        { prefix: '/', static: true },
      ],
    },
  };
}

function config({ apiPort, wsPort, bridgePort, webPort }) {
  return {
    log: { level: 'info' },
    plugins: {
      instances: [
        { name: 'storage', plugin: 'sqlite', config: {} },
        { name: 'bus', plugin: 'local', config: {} },
        { name: 'local', plugin: 'unix', config: {} },
        { name: 'bridge', plugin: 'bridge', config: { port: bridgePort } },
        {
          name: 'api', plugin: 'ws', config: {
            port: apiPort, routes: [
              { prefix: '/v1/', dialect: 'rest.v1' },
              { prefix: '/internal/v1/', dialect: 'rest.v1' },
              { path: '/healthz', dialect: 'rest.v1' },
            ],
          },
        },
        {
          name: 'ws', plugin: 'ws', config: {
            port: wsPort, routes: [
              { path: '/ws', dialect: 'vespid.node.v1', websocket: true },
              { path: '/ws/client', dialect: 'vespid.client.v1', websocket: true },
              { path: '/ws/operator', dialect: 'operator.v1', websocket: true },
              { path: '/healthz', dialect: 'rest.v1' },
            ],
          },
        },
        webInstance(webPort),
      ],
    },
    web: { url: `http://127.0.0.1:${webPort}` },
  };
}

/** Kills a detached child's whole process group: TERM, then KILL after `graceMs`. */
export async function killGroup(child, graceMs = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch { /* gone */ }
  }, graceMs);
  await exited;
  clearTimeout(t);
}

export function run(file, args, { env, timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) {
        err.message = `${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}

async function waitHealthy(url, child, logs, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vespid-gateway exited (${child.exitCode}):\n${logs.join('')}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`vespid-gateway not healthy at ${url} in ${timeoutMs} ms:\n${logs.join('')}`);
}

/**
 * Starts a gateway. Returns {url, webPort, stateDir, cli(args), webLogin(user, org?), stop()}.
 * Always `await gw.stop()` (t.after) — it also removes the state dir.
 */
export async function startGateway() {
  const dir = await mkdtemp(path.join(tmpdir(), 'vespid-web-'));
  const ports = {
    apiPort: await freePort(),
    wsPort: await freePort(),
    bridgePort: await freePort(),
    webPort: await freePort(),
  };
  const cfgPath = path.join(dir, 'vespid.json');
  await writeFile(cfgPath, JSON.stringify(config(ports), null, 2));
  const logs = [];
  const child = spawn(path.join(BIN, 'vespid-gateway'), ['run', '--state-dir', dir, '--config', cfgPath], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  const url = `http://127.0.0.1:${ports.webPort}`;
  const children = [child];
  const gw = {
    dir,
    url,
    ...ports,
    logs,
    async cli(args) {
      const { stdout } = await run(path.join(BIN, 'vespid'), ['--state-dir', dir, ...args]);
      return stdout;
    },
    async webLogin(user, org) {
      const out = await gw.cli(['web', 'login', '--user', user, ...(org ? ['--org', org] : []), '--url', url]);
      return out.trim().split('\n').pop();
    },
    /** Runs `vespid-agent` with its own config file; `start` stays running until stop(). */
    agentEnv(name = 'agent') {
      return { VESPID_AGENT_CONFIG: path.join(dir, `${name}.json`), VESPID_AGENT_ECHO_DELAY_MS: '50' };
    },
    async agent(args, name) {
      return run(path.join(BIN, 'vespid-agent'), args, { env: gw.agentEnv(name) });
    },
    spawnAgent(args, name) {
      const c = spawn(path.join(BIN, 'vespid-agent'), args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...gw.agentEnv(name) },
      });
      c.stdout.on('data', (d) => logs.push(`[agent] ${d}`));
      c.stderr.on('data', (d) => logs.push(`[agent] ${d}`));
      children.push(c);
      return c;
    },
    async stop() {
      for (const c of children.slice().reverse()) await killGroup(c);
      if (!process.env.VESPID_WEB_KEEP_STATE) await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitHealthy(`${url}/healthz`, child, logs);
  } catch (e) {
    await gw.stop();
    throw e;
  }
  return gw;
}
