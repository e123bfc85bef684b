// Starts a real vespid-gateway for one test file, on free loopback ports, with its own state
// dir, and drives it with the real CLI over the admin socket.
//
// The config file moves the default listeners to free ports and nothing else: the pages come
// from the gateway's default "web" listener, which finds apps/web through the build tree's
// share/vespid/web link, exactly as `bash scripts/run.sh` serves them.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.resolve(REPO, process.env.VESPID_BIN_DIR || 'build/ci/bin');

// Binds a probe on 127.0.0.1:`port` (0: the kernel's choice) and keeps it bound, or null when
// the port is taken; close it before the port is used.
function probe(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

// The lowest port the kernel hands out for outgoing connections (and for a bind to port 0).
async function ephemeralLow() {
  try {
    const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/);
    return Number(low) || 32768;
  } catch {
    return 32768;
  }
}

// `n` distinct free ports, as the C++ tests pick theirs (tests/support/ports.cpp): at random
// below the kernel's ephemeral range, so that no outgoing connection of a suite running
// alongside is given one between this pick and the gateway's bind, and with every probe held
// open until all are known, so that no two are the same (probed one after another on port 0,
// the kernel once gave the ws and web listeners one port, and the gateway exited with
// "Address already in use").
export async function freePorts(n) {
  const probes = [];
  const high = (await ephemeralLow()) - 1;
  const low = 10000;
  try {
    for (let attempt = 0; probes.length < n && attempt < 200 && high > low + 1000; attempt++) {
      const srv = await probe(low + Math.floor(Math.random() * (high - low)));
      if (srv) probes.push(srv);
    }
    while (probes.length < n) {
      const srv = await probe(0);
      if (!srv) throw new Error('cannot find a free loopback port');
      probes.push(srv);
    }
    return probes.map((srv) => srv.address().port);
  } finally {
    await Promise.all(probes.map((srv) => new Promise((resolve) => srv.close(resolve))));
  }
}

// The gateway's own default instance list, web listener included (port 3000 by default,
// serving apps/web through "@web"): only the ports move, so the tests see what a user sees.
function config({ apiPort, wsPort, bridgePort, webPort }) {
  return {
    log: { level: 'info' },
    listen: { api_port: apiPort, ws_port: wsPort, bridge_port: bridgePort, web_port: webPort },
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
  const [apiPort, wsPort, bridgePort, webPort] = await freePorts(4);
  const ports = { apiPort, wsPort, bridgePort, webPort };
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
