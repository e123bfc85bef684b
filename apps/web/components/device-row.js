// One device (a node host or a bridge node) on the devices page: its state with the reason and
// the time of that state, what it is, its tags (editable inline by owners and admins), its
// declared commands, and rename / revoke / remove behind an inline confirmation.
//
// `actions` is {rename(node, name), tag(node, tags), revoke(node), remove(node, force)}, each
// returning a promise of the updated node (or null once removed); a missing one means that
// action is not available (a member, or a gateway without the method): its button is not shown.

import { html, useState } from '../lib/html.js';
import { ErrorBox } from './error-box.js';
import { when, ago } from './operator-hook.js';

const KIND = { agent: 'node host', bridge: 'bridge node' };

/** The sentence under the name: the gateway's reason, else one made from the fields. */
function stateLine(n, now) {
  const parts = [];
  if (n.statusReason) parts.push(n.statusReason);
  if (n.status === 'online') {
    // The gateway's reason names the time already; without one, say it here.
    if (n.connectedAt && !n.statusReason) parts.push(`Connected since ${when(n.connectedAt, now)}.`);
    else if (n.connectedAt) parts.push(`(connected ${ago(Date.parse(n.connectedAt), now)})`);
    else if (!n.statusReason) parts.push('Connected now.');
  } else if (n.status === 'revoked') {
    if (!n.statusReason) parts.push('Revoked: its token no longer works. Pair it again to use it, or remove it.');
  } else if (!n.statusReason) {
    parts.push('Not connected to the gateway.');
  }
  if (n.status !== 'online') {
    parts.push(n.lastSeenAt ? `Last seen ${when(n.lastSeenAt, now)}.` : 'Never seen since pairing.');
  }
  return parts.join(' ');
}

/** What to do next after a failed device action. */
function actionNext(code, what) {
  switch (code) {
    case 'FORBIDDEN':
      return `Only owners and admins of this org can ${what}; ask one of them, or pick an org where you have that role.`;
    case 'NOT_FOUND':
      return 'This device is gone (removed, or it belongs to another org); the list was refreshed.';
    case 'CONFLICT':
      return 'It is online: revoke it first, or remove it anyway (that disconnects it).';
    case 'INVALID_REQUEST':
    case 'BAD_REQUEST':
      return 'Check the value and try again.';
    case 'UNAVAILABLE':
      return 'The gateway did not answer (connection lost or busy); try again in a moment.';
    default:
      return undefined;
  }
}

function parseTags(text) {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean))];
}

export function DeviceRow({ node: n, actions, now, onGone }) {
  const [mode, setMode] = useState(''); // '' | rename | tags | revoke | remove
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState('');
  const id = n.nodeId;
  const hid = `dev-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;

  const open = (m) => {
    setError(null);
    setDone('');
    setMode(m);
    if (m === 'rename') setValue(n.displayName || '');
    if (m === 'tags') setValue((n.tags || []).join(' '));
  };

  const run = async (what, fn, doneText) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setMode('');
      setDone(doneText);
    } catch (e) {
      setError({ e, what });
      if (e && e.code === 'NOT_FOUND' && onGone) onGone(n);
    } finally {
      setBusy(false);
    }
  };

  const submitRename = (e) => {
    e.preventDefault();
    const name = value.trim();
    if (!name) {
      setError({ e: { code: 'BAD_REQUEST', message: 'A name cannot be empty.' }, what: 'rename devices' });
      return;
    }
    run('rename devices', () => actions.rename(n, name), `Renamed to “${name}”.`);
  };
  const submitTags = (e) => {
    e.preventDefault();
    const tags = parseTags(value);
    run('edit tags', () => actions.tag(n, tags), tags.length ? `Tags saved: ${tags.join(', ')}.` : 'Tags cleared.');
  };

  const online = n.status === 'online';
  const canEdit = !!(actions.rename || actions.tag || actions.revoke || actions.remove);

  return html`<li class=${`device ${n.status}`} data-node-id=${id} aria-labelledby=${`${hid}-h`}>
    <div class="device-head">
      <h3 id=${`${hid}-h`} class="device-name">${n.displayName || id}</h3>
      <span class="kind-badge">${KIND[n.kind] || n.kind || 'node'}</span>
      <span class=${`status ${n.status}`}>${n.status}</span>
    </div>
    <p class="device-reason">${stateLine(n, now)}</p>
    ${n.pendingReapproval && html`<p class="notice">Asks to add commands ${(n.pendingReapproval.addedCommands || []).join(', ')}: an owner or admin decides under “Pending pairing requests”${n.pendingReapproval.expiresAt ? ` before ${new Date(n.pendingReapproval.expiresAt).toLocaleTimeString()}` : ''}. Until then it works with the commands it already has.</p>`}
    <dl class="device-facts">
      ${n.platform && html`<div><dt>Platform</dt><dd>${n.platform}</dd></div>`}
      ${n.version && html`<div><dt>Version</dt><dd>${n.version}</dd></div>`}
      ${n.instance && html`<div><dt>Instance</dt><dd class="device-instance">${n.instance}</dd></div>`}
      ${n.transport && html`<div><dt>Transport</dt><dd>${n.transport}</dd></div>`}
      ${n.remoteAddress && html`<div><dt>Address</dt><dd>${n.remoteAddress}</dd></div>`}
      ${n.pairedAt && html`<div><dt>Paired</dt><dd>${when(n.pairedAt, now)}</dd></div>`}
      <div><dt>Id</dt><dd><code>${id}</code></dd></div>
    </dl>
    <div class="device-tags">
      <span class="label">Tags:</span>
      ${(n.tags || []).length
        ? html`<ul class="tag-list" aria-label="Tags">${n.tags.map((t) => html`<li class="tag">${t}</li>`)}</ul>`
        : html`<span class="muted">none</span>`}
      ${actions.tag && mode !== 'tags' && html`<button type="button" class="secondary small" onClick=${() => open('tags')} aria-label=${`Edit tags of ${n.displayName || id}`}>Edit tags</button>`}
    </div>
    ${mode === 'tags' && html`<form class="inline-form" onSubmit=${submitTags} aria-label=${`Tags of ${n.displayName || id}`}>
      <label for=${`${hid}-tags`}>Tags, separated by spaces (<code>group:NAME</code> puts it in a group)</label>
      <input id=${`${hid}-tags`} name="tags" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} autocomplete="off" spellcheck="false" />
      <p class="actions">
        <button type="submit" disabled=${busy}>Save tags</button>
        <button type="button" class="secondary" onClick=${() => setMode('')}>Cancel</button>
      </p>
    </form>`}
    ${(n.commands || []).length > 0
      ? html`<details class="device-commands"><summary>${n.commands.length} declared command${n.commands.length === 1 ? '' : 's'}</summary>
          <ul>${n.commands.map((c) => html`<li><code>${c}</code></li>`)}</ul></details>`
      : html`<p class="hint">${n.kind === 'agent' ? 'Takes work through sessions and dispatch.' : 'No declared commands.'}</p>`}

    ${mode === 'rename' && html`<form class="inline-form" onSubmit=${submitRename} aria-label=${`Rename ${n.displayName || id}`}>
      <label for=${`${hid}-name`}>New name</label>
      <input id=${`${hid}-name`} name="name" value=${value} onInput=${(e) => setValue(e.currentTarget.value)} autocomplete="off" />
      <p class="actions">
        <button type="submit" disabled=${busy}>Save name</button>
        <button type="button" class="secondary" onClick=${() => setMode('')}>Cancel</button>
      </p>
    </form>`}
    ${mode === 'revoke' && html`<div class="confirm notice" role="alertdialog" aria-labelledby=${`${hid}-rq`}>
      <p id=${`${hid}-rq`}><strong>Revoke ${n.displayName || id}?</strong> Its token stops working at once${online ? ' and it is disconnected' : ''}. It stays in this list as revoked until you remove it; to use it again, pair it anew.</p>
      <p class="actions">
        <button type="button" class="danger" disabled=${busy} onClick=${() => run('revoke devices', () => actions.revoke(n), 'Revoked.')}>Yes, revoke</button>
        <button type="button" class="secondary" onClick=${() => setMode('')}>Cancel</button>
      </p>
    </div>`}
    ${mode === 'remove' && html`<div class="confirm notice" role="alertdialog" aria-labelledby=${`${hid}-dq`}>
      <p id=${`${hid}-dq`}><strong>Remove ${n.displayName || id}?</strong> Its record, its token and any pending request go.
        ${online ? ' It is online: removing it disconnects it first.' : ''} To use it again, pair it anew.</p>
      <p class="actions">
        <button type="button" class="danger" disabled=${busy} onClick=${() => run('remove devices', () => actions.remove(n, online), 'Removed.')}>Yes, remove</button>
        <button type="button" class="secondary" onClick=${() => setMode('')}>Cancel</button>
      </p>
    </div>`}

    ${canEdit && !mode && html`<p class="actions device-actions">
      ${actions.rename && html`<button type="button" class="secondary" onClick=${() => open('rename')} aria-label=${`Rename ${n.displayName || id}`}>Rename</button>`}
      ${actions.revoke && n.status !== 'revoked' && html`<button type="button" class="danger" onClick=${() => open('revoke')} aria-label=${`Revoke ${n.displayName || id}`}>Revoke</button>`}
      ${actions.remove && html`<button type="button" class="danger" onClick=${() => open('remove')} aria-label=${`Remove ${n.displayName || id}`}>Remove</button>`}
    </p>`}
    <p class="visually-hidden" aria-live="polite">${done}</p>
    ${done && html`<p class="ok-note" aria-hidden="true">${done}</p>`}
    ${error && html`<${ErrorBox} error=${error.e} next=${actionNext(error.e && error.e.code, error.what)}>
      ${error.e && error.e.code === 'CONFLICT' && actions.remove && html`<p class="actions"><button type="button" class="danger" disabled=${busy}
        onClick=${() => run('remove devices', () => actions.remove(n, true), 'Removed.')}>Remove anyway</button></p>`}
    <//>`}
  </li>`;
}
