// Pending pairing requests: bridge nodes waiting on their open socket for someone to let them in
// (first-time requests, shown to gateway administrators) and paired nodes asking for new
// commands (re-approvals, shown to the owners and admins of the node's org).
//
// Every request has an explicit state with its time: waiting (with when it expires), approved,
// rejected, expired, or gone (decided elsewhere or withdrawn: the node hung up). Decided ones stay
// listed for this page's life, so "what happened to my node" always has an answer. The list
// follows node.pair.requested / node.pair.resolved live and is re-read on every reconnect.

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { ErrorBox } from './error-box.js';
import { useNow, when, fmtDur } from './operator-hook.js';

const STATE_TEXT = {
  waiting: 'waiting',
  approved: 'approved',
  rejected: 'rejected',
  expired: 'expired',
  gone: 'no longer pending',
};

function approveNext(code, message, details) {
  if (code === 'NOT_FOUND') {
    if (details && details.decision === 'approved') return 'Someone approved it already: the node is in the devices list.';
    if (details && details.decision === 'rejected') return 'Someone rejected it already; if the node asks again, its new request appears here.';
    return /expired/i.test(message || '') || (details && details.decision === 'expired')
      ? 'It expired: the node has to ask again (restart pairing on the device), then approve the new request.'
      : 'It was already decided or withdrawn (the node hung up). The list was refreshed: if the node asks again, its new request appears here.';
  }
  if (code === 'FORBIDDEN') {
    return 'Approving a new device needs a gateway administrator who is also an owner or admin of the org it joins. Pick such an org above, or ask the local admin (`vespid user gateway-admin <you>`).';
  }
  return undefined;
}

export function PendingRequests({ op, opStatus, auth, gatewayAdmin, orgAdmin, onApproved }) {
  const [items, setItems] = useState([]); // [{req, state, at, detail, error, busy}]
  const [loadError, setLoadError] = useState(null);
  const [loaded, setLoaded] = useState(false);
  const [announce, setAnnounce] = useState('');
  const itemsRef = useRef(items);
  itemsRef.current = items;
  const waiting = items.some((i) => i.state === 'waiting');
  const now = useNow(1000, waiting);
  const orgName = (auth.orgs.find((o) => o.id === auth.orgId) || {}).name || 'this org';

  const update = (fn) => {
    itemsRef.current = fn(itemsRef.current);
    setItems(itemsRef.current);
  };
  const patch = (requestId, p) => update((list) => list.map((i) => (i.req.requestId === requestId ? { ...i, ...p } : i)));

  const upsertWaiting = (req) => update((list) => {
    const i = list.findIndex((x) => x.req.requestId === req.requestId);
    if (i < 0) return [{ req, state: 'waiting', at: req.requestedAt, error: null, busy: false }, ...list];
    const copy = list.slice();
    copy[i] = { ...copy[i], req: { ...copy[i].req, ...req } };
    return copy;
  });

  const load = async () => {
    try {
      const { pending } = await op.call('nodes.pending');
      setLoadError(null);
      const ids = new Set((pending || []).map((r) => r.requestId));
      (pending || []).forEach(upsertWaiting);
      // Waiting here but not on the gateway: it expired or was decided while we were away.
      update((list) => list.map((i) => {
        if (i.state !== 'waiting' || ids.has(i.req.requestId)) return i;
        const expired = i.req.expiresAt && Date.parse(i.req.expiresAt) <= Date.now();
        return { ...i, state: expired ? 'expired' : 'gone', at: expired ? i.req.expiresAt : new Date().toISOString(),
          detail: expired ? 'Nobody decided in time.' : 'Decided elsewhere, or withdrawn: the node closed its connection.' };
      }));
    } catch (e) {
      setLoadError(e);
    } finally {
      setLoaded(true);
    }
  };

  useEffect(() => {
    const offReq = op.on('node.pair.requested', (req) => {
      if (!req || !req.requestId) return;
      upsertWaiting(req);
      setAnnounce(`New pairing request from ${req.displayName || req.nodeId}.`);
    });
    const offRes = op.on('node.pair.resolved', (p) => {
      if (!p || !p.requestId) return;
      const known = itemsRef.current.find((i) => i.req.requestId === p.requestId);
      if (!known) return;
      // This page's own decision is in flight: its answer patches the item and says more (the
      // org it went into), and the event may arrive before or after it.
      if (known.busy) return;
      const detail = p.decision === 'approved'
        ? `Approved${p.node && p.node.displayName ? ` as “${p.node.displayName}”` : ''}.`
        : p.decision === 'expired' ? 'Nobody decided in time; the node has to ask again.' : 'The node was told it was rejected.';
      patch(p.requestId, { state: p.decision, at: new Date().toISOString(), detail, busy: false });
      setAnnounce(`Pairing request from ${known.req.displayName || known.req.nodeId}: ${p.decision}.`);
      if (p.decision === 'approved' && p.node && onApproved) onApproved(p.node);
    });
    return () => {
      offReq();
      offRes();
    };
  }, [op]);

  useEffect(() => {
    if (opStatus === 'open') load();
  }, [opStatus]);

  // A waiting request past its expiry is expired, event or not.
  useEffect(() => {
    for (const i of itemsRef.current) {
      if (i.state === 'waiting' && i.req.expiresAt && Date.parse(i.req.expiresAt) <= now) {
        patch(i.req.requestId, { state: 'expired', at: i.req.expiresAt, detail: 'Nobody decided in time; the node has to ask again.' });
      }
    }
  }, [now]);

  const decide = async (item, approve) => {
    const { req } = item;
    patch(req.requestId, { busy: true, error: null });
    try {
      if (approve) {
        const params = { requestId: req.requestId };
        if (!req.reapproval) params.org = auth.orgId;
        const ans = await op.call('nodes.approve', params);
        const name = (ans.node && ans.node.displayName) || req.displayName || req.nodeId;
        patch(req.requestId, {
          busy: false, state: 'approved', at: new Date().toISOString(),
          detail: req.reapproval ? `Commands added to “${name}”.` : `Approved into ${orgName}; “${name}” is connecting on its open socket.`,
        });
        if (ans.node && onApproved) onApproved(ans.node);
      } else {
        await op.call('nodes.reject', { requestId: req.requestId });
        patch(req.requestId, {
          busy: false, state: 'rejected', at: new Date().toISOString(),
          detail: req.reapproval ? 'The node keeps the commands it had; the new ones are declined.' : 'The node was told it was rejected.',
        });
      }
    } catch (e) {
      patch(req.requestId, { busy: false, error: e });
      if (e.code === 'NOT_FOUND') {
        // The gateway says what became of it (details.decision), else its message does.
        const d = e.details && e.details.decision;
        const state = STATE_TEXT[d] && d !== 'waiting' ? d : /expired/i.test(e.message) ? 'expired' : 'gone';
        patch(req.requestId, { state, at: new Date().toISOString(), detail: e.message });
        load();
      }
    }
  };

  const canDecide = (req) => (req.reapproval ? orgAdmin || gatewayAdmin : gatewayAdmin && orgAdmin);

  const waitingCount = items.filter((i) => i.state === 'waiting').length;

  return html`<section class="card pending-requests" aria-labelledby="pending-h">
    <h2 id="pending-h">Pending pairing requests ${waitingCount > 0 && html`<span class="count-badge">${waitingCount}</span>`}</h2>
    <p class="hint">${gatewayAdmin
      ? `Bridge nodes (phones, tablets, laptops in node mode) that ask to pair wait here on their open connection. Approving lets one into ${orgName}; a request expires after a few minutes if nobody decides.`
      : 'Paired nodes of this org that ask for new commands wait here. New devices are approved by gateway administrators.'}</p>
    ${gatewayAdmin && !orgAdmin && html`<p class="notice">You are a gateway administrator but not an owner or admin of ${orgName}, so you cannot approve devices into it. Pick an org you administer above.</p>`}
    <p class="visually-hidden" aria-live="polite">${announce}</p>
    ${loadError && html`<${ErrorBox} error=${loadError} next=${loadError.code === 'FORBIDDEN' || loadError.code === 'METHOD_NOT_FOUND' ? 'This gateway does not show pairing requests to you; ask the local admin to run `vespid nodes pending`.' : undefined}>
      <p class="actions"><button type="button" class="secondary" onClick=${load}>Try again</button></p><//>`}
    ${loaded && !items.length && !loadError && html`<p class="muted empty">No pairing requests. When a device asks to pair, it appears here at once.</p>`}
    ${!loaded && html`<p class="muted">${opStatus === 'open' ? 'Loading…' : 'Waiting for the connection to the gateway…'}</p>`}
    <ul class="request-list" aria-label="Pairing requests">
      ${items.map((item) => {
        const { req, state } = item;
        const name = req.displayName || req.nodeId;
        const left = req.expiresAt ? Date.parse(req.expiresAt) - now : null;
        return html`<li key=${req.requestId} class=${`request ${state}`} data-request-id=${req.requestId}>
          <div class="device-head">
            <h3 class="device-name">${name}</h3>
            <span class="kind-badge">${req.reapproval ? 're-approval' : 'new device'}</span>
            <span class=${`status ${state}`}>${STATE_TEXT[state] || state}</span>
          </div>
          <p class="request-state">
            ${state === 'waiting'
              ? html`Asked ${when(req.requestedAt, now)}; waiting for a decision${left !== null ? html`, expires in <strong>${fmtDur(left)}</strong>` : ''}. The device stays connected until then.`
              : html`${STATE_TEXT[state][0].toUpperCase()}${STATE_TEXT[state].slice(1)} ${when(item.at, now)}. ${item.detail || ''}`}
          </p>
          <dl class="device-facts">
            <div><dt>Node id</dt><dd><code>${req.nodeId}</code></dd></div>
            ${req.platform && html`<div><dt>Platform</dt><dd>${req.platform}</dd></div>`}
            ${req.version && html`<div><dt>Version</dt><dd>${req.version}</dd></div>`}
            ${req.remoteAddress && html`<div><dt>From</dt><dd>${req.remoteAddress}</dd></div>`}
            <div><dt>Request</dt><dd><code>${req.requestId}</code></dd></div>
          </dl>
          ${(req.reapproval ? req.addedCommands || req.commands : req.commands || []).length > 0 && html`<p class="request-commands">
            ${req.reapproval ? 'Asks to add' : 'Declares'}: ${(req.reapproval ? req.addedCommands || req.commands : req.commands).map((c, i) => html`${i ? ', ' : ''}<code>${c}</code>`)}</p>`}
          ${state === 'waiting' && (canDecide(req)
            ? html`<p class="actions">
                <button type="button" disabled=${item.busy} onClick=${() => decide(item, true)}
                  aria-label=${req.reapproval ? `Approve new commands of ${name}` : `Approve ${name} into ${orgName}`}>${req.reapproval ? 'Approve commands' : `Approve into ${orgName}`}</button>
                <button type="button" class="danger" disabled=${item.busy} onClick=${() => decide(item, false)} aria-label=${`Reject ${name}`}>Reject</button>
              </p>`
            : html`<p class="hint">Only a gateway administrator who is an owner or admin of ${orgName} can decide this one.</p>`)}
          ${item.error && html`<${ErrorBox} error=${item.error} next=${approveNext(item.error.code, item.error.message, item.error.details)} />`}
        </li>`;
      })}
    </ul>
  </section>`;
}
