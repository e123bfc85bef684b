// Health, for gateway administrators: the gateway's status (version, uptime, connections, nodes
// online, plugin instances and their state, storage, cluster, bus) refreshed every few seconds,
// and a live tail of its log. Anyone else is told who can see it and how to get there.

import { html, useEffect, useState } from '../lib/html.js';
import { ErrorBox } from '../components/error-box.js';
import { LogTail } from '../components/log-tail.js';
import { useOperator, LiveLine, fmtDur } from '../components/operator-hook.js';

const REFRESH_MS = 3000;

function Value({ v }) {
  if (v === null || v === undefined) return html`<span class="muted">—</span>`;
  if (typeof v === 'boolean') return html`<span class=${`status ${v ? 'online' : 'offline'}`}>${v ? 'yes' : 'no'}</span>`;
  if (Array.isArray(v)) return v.length ? v.map((x, i) => html`${i ? ', ' : ''}<${Value} v=${x} />`) : html`<span class="muted">none</span>`;
  if (typeof v === 'object') return html`<code>${JSON.stringify(v)}</code>`;
  return String(v);
}

const label = (k) => k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());

function Facts({ obj, id }) {
  if (!obj || typeof obj !== 'object') return html`<p class="muted">Not reported.</p>`;
  return html`<dl class="kv" id=${id}>${Object.entries(obj).map(([k, v]) => html`<div><dt>${label(k)}</dt><dd><${Value} v=${v} /></dd></div>`)}</dl>`;
}

function NotAdmin({ user }) {
  return html`<div class="card notice not-admin" role="note">
    <h2>Only gateway administrators see health</h2>
    <p>The gateway's status and log are shown to users the local admin has marked as gateway administrators. Ask whoever runs the gateway to run, on its machine:</p>
    <pre class="command"><code>vespid user gateway-admin ${user || '<you>'}</code></pre>
    <p>then reload this page. Your sessions, devices and workflows are unaffected.</p>
  </div>`;
}

// A transport's listener as the transport reported it: "127.0.0.1:3000", "[::1]:3000", with TLS
// said in words (state is never colour alone); blank for instances that listen on nothing.
function listenText(listen) {
  if (!listen || !listen.addresses) return '';
  const where = listen.addresses.map((a) => (a.includes(':') ? `[${a}]:${listen.port}` : `${a}:${listen.port}`));
  return `${where.join(', ')}${listen.tls ? ' (TLS)' : ''}`;
}

export default function HealthPage({ auth }) {
  const [op, opStatus] = useOperator();
  const [status, setStatus] = useState(null);
  const [error, setError] = useState(null);
  const [forbidden, setForbidden] = useState(false);
  const [at, setAt] = useState(null);
  const [, tick] = useState(0);

  const load = async () => {
    try {
      const s = await op.call('status');
      setStatus(s);
      setAt(Date.now());
      setError(null);
      setForbidden(false);
    } catch (e) {
      if (e.code === 'FORBIDDEN') setForbidden(true);
      else setError(e);
    }
  };

  useEffect(() => {
    if (opStatus !== 'open') return undefined;
    load();
    const t = setInterval(() => {
      load();
      tick((n) => n + 1);
    }, REFRESH_MS);
    return () => clearInterval(t);
  }, [opStatus]);

  const userName = auth.user && auth.user.name;
  if (forbidden || (auth.user && auth.user.gatewayAdmin === false && !status)) {
    return html`<section aria-labelledby="page-h"><h1 id="page-h">Health</h1><${NotAdmin} user=${userName} /></section>`;
  }

  const s = status;
  const bad = s && (s.instances || []).filter((i) => !/^(running|started|up|ok|ready)$/i.test(i.state || ''));

  return html`<section aria-labelledby="page-h" class="health-page">
    <div class="page-head">
      <h1 id="page-h">Health</h1>
      <${LiveLine} status=${opStatus} />
    </div>
    ${error && html`<${ErrorBox} error=${error}><p class="actions"><button type="button" onClick=${load}>Try again</button></p><//>`}
    ${!s && !error && html`<p class="muted" role="status">Loading the gateway's status…</p>`}
    ${s && html`
      <p class="hint">Refreshed every ${REFRESH_MS / 1000} s${at ? `; last at ${new Date(at).toLocaleTimeString()}` : ''}.</p>
      <div class="stat-grid" aria-label="Summary">
        <div class="stat"><span class="stat-label">Version</span><span class="stat-value" id="h-version">${s.version}</span><span class="stat-sub">ABI ${s.abi} · pid ${s.pid}</span></div>
        <div class="stat"><span class="stat-label">Uptime</span><span class="stat-value" id="h-uptime">${fmtDur(s.uptimeMs)}</span></div>
        <div class="stat"><span class="stat-label">Connections</span><span class="stat-value" id="h-connections">${s.connections}</span></div>
        <div class="stat"><span class="stat-label">Nodes online</span><span class="stat-value" id="h-nodes">${s.nodesOnline}</span></div>
      </div>
      ${bad && bad.length > 0 && html`<p class="notice" role="alert">${bad.length} plugin instance${bad.length === 1 ? ' is' : 's are'} not running: ${bad.map((i) => `${i.name} (${i.state})`).join(', ')}. The log below says why.</p>`}
      <section class="card" aria-labelledby="inst-h">
        <h2 id="inst-h">Plugin instances</h2>
        <div class="table-wrap">
          <table class="instances">
            <thead><tr><th scope="col">Name</th><th scope="col">Plugin</th><th scope="col">Kind</th><th scope="col">State</th><th scope="col">Listens on</th><th scope="col" class="module">Module</th></tr></thead>
            <tbody>${(s.instances || []).map((i) => html`<tr data-instance=${i.name}>
              <th scope="row">${i.name}</th><td>${i.plugin}</td><td>${i.kind}</td>
              <td><span class=${`status ${/^(running|started|up|ok|ready)$/i.test(i.state || '') ? 'online' : 'offline'}`}>${i.state}</span></td>
              <td class="listen">${listenText(i.listen)}</td>
              <td class="module"><code>${i.module}</code></td></tr>`)}</tbody>
          </table>
        </div>
      </section>
      <div class="grid3">
        <section class="card" aria-labelledby="st-h"><h2 id="st-h">Storage</h2><${Facts} obj=${s.storage} /></section>
        <section class="card" aria-labelledby="cl-h"><h2 id="cl-h">Cluster</h2><${Facts} obj=${s.cluster} /></section>
        <section class="card" aria-labelledby="bus-h"><h2 id="bus-h">Bus</h2><${Facts} obj=${s.bus} /></section>
      </div>
      <p class="hint">State directory <code>${s.stateDir}</code></p>
    `}
    ${(s || opStatus !== 'open') && html`<${LogTail} op=${op} opStatus=${opStatus} />`}
  </section>`;
}
