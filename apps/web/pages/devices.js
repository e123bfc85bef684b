// Devices: node hosts and bridge nodes of the org in one list (nodes.list over /ws/operator),
// each with its state, the gateway's reason for it and when; tags, rename, revoke and remove for
// owners and admins; pending pairing requests for gateway administrators (and re-approvals for
// the org's owners and admins); and the onboarding card while no node host is online.
//
// Live: node.presence / node.updated / node.removed events change rows as they happen. While the
// operator socket is down, the list is polled over REST every 5 s instead, and re-read in full
// when the socket is back.

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { get, put, post, orgPath } from '../lib/rest.js';
import { isAdmin } from '../lib/util.js';
import { ErrorBox } from '../components/error-box.js';
import { OnboardingCard } from '../components/onboarding-card.js';
import { DeviceRow } from '../components/device-row.js';
import { PendingRequests } from '../components/pending-requests.js';
import { useOperator, useNow, LiveLine } from '../components/operator-hook.js';

const POLL_MS = 5000;

/** A REST agent view (GET /v1/orgs/:org/agents) in the shape of an operator node. */
function fromAgent(a) {
  return {
    nodeId: a.id,
    orgId: null,
    displayName: a.name,
    kind: a.kind === 'bridge' ? 'bridge' : 'agent',
    status: a.status,
    tags: a.tags || [],
    version: a.agentVersion,
    remoteAddress: a.remoteAddress,
    pairedAt: a.createdAt,
    lastSeenAt: a.lastSeenAt,
    commands: [],
    caps: [],
  };
}

const ORDER = { online: 0, offline: 1, revoked: 2 };
const sortNodes = (list) => list.slice().sort((a, b) => (ORDER[a.status] ?? 3) - (ORDER[b.status] ?? 3)
  || (a.displayName || a.nodeId).localeCompare(b.displayName || b.nodeId));

export default function DevicesPage({ auth }) {
  const orgId = auth.orgId;
  const [op, opStatus] = useOperator();
  const [nodes, setNodes] = useState([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState(null);
  const [mode, setMode] = useState('operator'); // operator | rest (the gateway refuses nodes.* to this user)
  const [whoami, setWhoami] = useState(null);
  const [filter, setFilter] = useState('');
  const nodesRef = useRef(nodes);
  nodesRef.current = nodes;
  const now = useNow(15000);

  const orgAdmin = isAdmin(auth);
  const gatewayAdmin = !!((whoami && whoami.gatewayAdmin) || (auth.user && auth.user.gatewayAdmin));

  const setAll = (list) => {
    nodesRef.current = sortNodes(list);
    setNodes(nodesRef.current);
  };
  const upsert = (node) => {
    if (!node || !node.nodeId) return;
    if (node.orgId && node.orgId !== orgId) return;
    const list = nodesRef.current.slice();
    const i = list.findIndex((n) => n.nodeId === node.nodeId);
    if (i < 0) list.push(node);
    else list[i] = { ...list[i], ...node };
    setAll(list);
  };
  const drop = (nodeId) => setAll(nodesRef.current.filter((n) => n.nodeId !== nodeId));

  const loadRest = async () => {
    try {
      const { agents } = await get(orgPath(orgId, 'agents'));
      const known = new Map(nodesRef.current.map((n) => [n.nodeId, n]));
      setAll((agents || []).map((a) => {
        const fresh = fromAgent(a);
        const old = known.get(a.id);
        if (!old) return fresh;
        const merged = { ...old, ...Object.fromEntries(Object.entries(fresh).filter(([k, v]) => v !== undefined && !(Array.isArray(v) && !v.length && k !== 'tags'))) };
        if (old.status !== fresh.status) {
          delete merged.statusReason;
          delete merged.connectedAt;
        }
        return merged;
      }));
      setError(null);
    } catch (e) {
      setError(e);
    } finally {
      setLoaded(true);
    }
  };

  const load = async () => {
    try {
      const { nodes: list } = await op.call('nodes.list', { org: orgId });
      setMode('operator');
      setAll(list || []);
      setError(null);
      setLoaded(true);
    } catch (e) {
      if (e.code === 'FORBIDDEN' || e.code === 'METHOD_NOT_FOUND') {
        // An older gateway keeps nodes.* for the local admin: show what REST has.
        setMode('rest');
        await loadRest();
      } else {
        setError(e);
        setLoaded(true);
      }
    }
  };

  // Events.
  useEffect(() => {
    const offs = [
      op.on('node.presence', (p) => {
        if (!p || (p.orgId && p.orgId !== orgId)) return;
        const known = nodesRef.current.find((n) => n.nodeId === p.nodeId);
        if (!known) {
          load();
          return;
        }
        const next = { status: p.status, statusReason: p.statusReason, instance: p.instance };
        if (p.status === 'online' && known.status !== 'online') next.connectedAt = p.connectedAt || new Date().toISOString();
        if (p.status !== 'online' && known.status === 'online') next.lastSeenAt = p.lastSeenAt || new Date().toISOString();
        if (p.connectedAt) next.connectedAt = p.connectedAt;
        if (p.lastSeenAt) next.lastSeenAt = p.lastSeenAt;
        upsert({ ...known, ...next });
      }),
      op.on('node.updated', (p) => p && upsert(p.node)),
      op.on('node.removed', (p) => {
        if (p && (!p.orgId || p.orgId === orgId)) drop(p.nodeId);
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [op, orgId]);

  // Re-read everything whenever the socket (re)opens; poll REST while it is down.
  useEffect(() => {
    if (opStatus === 'open') {
      load();
      op.call('whoami').then(setWhoami, () => {});
      return undefined;
    }
    if (opStatus === 'closed' || mode === 'rest') {
      if (!loaded) loadRest();
      const t = setInterval(loadRest, POLL_MS);
      return () => clearInterval(t);
    }
    return undefined;
  }, [opStatus, orgId]);
  useEffect(() => {
    if (mode !== 'rest' || opStatus !== 'open') return undefined;
    const t = setInterval(loadRest, POLL_MS);
    return () => clearInterval(t);
  }, [mode, opStatus]);

  if (!orgId) {
    return html`<section aria-labelledby="page-h"><h1 id="page-h">Devices</h1>
      <p class="notice">You are not a member of any org. Ask an org owner to add you (<code>vespid member add</code>).</p></section>`;
  }

  // What this user may do, and how.
  const actions = {};
  if (orgAdmin && mode === 'operator') {
    const mut = async (method, params) => {
      const ans = await op.call(method, params);
      if (ans.node) upsert(ans.node);
      return ans.node || null;
    };
    actions.rename = (n, name) => mut('nodes.rename', { node: n.nodeId, name });
    actions.tag = (n, tags) => mut('nodes.tag', { node: n.nodeId, tags });
    actions.revoke = (n) => mut('nodes.revoke', { node: n.nodeId });
    actions.remove = async (n, force) => {
      await op.call('nodes.delete', force ? { node: n.nodeId, force: true } : { node: n.nodeId });
      drop(n.nodeId);
      return null;
    };
  } else if (orgAdmin) {
    actions.tag = async (n, tags) => {
      const { agent } = await put(orgPath(orgId, 'agents', n.nodeId, 'tags'), { tags });
      upsert({ ...fromAgent(agent), commands: n.commands });
    };
    actions.revoke = async (n) => {
      const { agent } = await post(orgPath(orgId, 'agents', n.nodeId, 'revoke'));
      upsert({ ...fromAgent(agent), commands: n.commands });
    };
  }

  const q = filter.trim().toLowerCase();
  const shown = q
    ? nodes.filter((n) => `${n.displayName || ''} ${n.nodeId} ${n.platform || ''} ${(n.tags || []).join(' ')} ${n.status}`.toLowerCase().includes(q))
    : nodes;
  const online = nodes.filter((n) => n.status === 'online').length;
  const stale = nodes.filter((n) => n.status !== 'online').length;

  return html`<section aria-labelledby="page-h" class="devices-page">
    <div class="page-head">
      <h1 id="page-h">Devices</h1>
      <${LiveLine} status=${mode === 'rest' ? 'closed' : opStatus}
        fallback=${mode === 'rest' ? 'This gateway sends no live device events to you; refreshing every 5 s.' : 'Live updates lost; reconnecting, and refreshing every 5 s meanwhile.'} />
    </div>
    <p class="hint">Node hosts (<code>vespid-agent</code>, they run sessions and workflow steps) and bridge nodes (phones, tablets, laptops in node mode, invoked by command) of this org.</p>

    <${OnboardingCard} auth=${auth} />

    ${(gatewayAdmin || orgAdmin) && mode === 'operator' && html`<${PendingRequests} op=${op} opStatus=${opStatus} auth=${auth}
      gatewayAdmin=${gatewayAdmin} orgAdmin=${orgAdmin} onApproved=${(node) => upsert(node)} />`}

    <section aria-labelledby="devlist-h" class="device-section">
      <h2 id="devlist-h">Paired devices <span class="muted count">(${online} online, ${stale} not)</span></h2>
      ${!orgAdmin && html`<p class="hint member-note">You are a member of this org: you see its devices; owners and admins rename, tag, revoke and remove them.</p>`}
      ${mode === 'rest' && orgAdmin && html`<p class="hint">This gateway lets you edit tags and revoke here; renaming and removing need <code>vespid nodes rename</code> / <code>vespid nodes delete</code> on the gateway's machine.</p>`}
      <div class="toolbar">
        <div class="filter">
          <label for="dev-filter">Filter by name, tag, platform or state</label>
          <input id="dev-filter" type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
        </div>
        <button type="button" class="secondary" onClick=${() => (opStatus === 'open' && mode === 'operator' ? load() : loadRest())}>Refresh</button>
      </div>
      ${error && html`<${ErrorBox} error=${error}><p class="actions"><button type="button" onClick=${() => (mode === 'operator' ? load() : loadRest())}>Try again</button></p><//>`}
      ${!loaded && html`<p class="muted" role="status">Loading devices…</p>`}
      ${loaded && !error && nodes.length === 0 && html`<p class="muted empty">No devices paired with this org yet. Connect a node host with the card above${gatewayAdmin ? ', or approve a bridge node when it asks' : ''}.</p>`}
      ${q && nodes.length > 0 && shown.length === 0 && html`<p class="muted">No device matches “${filter}”.</p>`}
      <ul class="device-list" aria-label="Devices">
        ${shown.map((n) => html`<${DeviceRow} key=${n.nodeId} node=${n} actions=${actions} now=${now} onGone=${() => load()} />`)}
      </ul>
    </section>
  </section>`;
}
