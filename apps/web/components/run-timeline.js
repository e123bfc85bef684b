// One workflow run: its status (with cancel while it can still stop) and its event log, followed
// live with the events route's long-poll (waitMs) until the run has ended and everything was
// read. A dropped request is retried with backoff from the last seq seen, so no event is shown
// twice or missed (seq is gap-free per run).

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { get, post, orgPath, ApiError } from '../lib/rest.js';
import { ErrorBox } from './error-box.js';
import { when, fmtDur } from './operator-hook.js';

const WAIT_MS = 20000;
export const ENDED = new Set(['succeeded', 'failed', 'canceled']);

/** GET with an AbortSignal (rest.js has none), errors as ApiError. */
async function getAbortable(path, signal) {
  let res;
  try {
    res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' }, cache: 'no-store', signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError({ status: 0, code: 'NETWORK', message: `Cannot reach the gateway (${e.message}).` });
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError({ status: res.status, code: data && data.code, message: data && data.message, details: data && data.details });
  return data;
}

export function RunStatus({ status }) {
  return html`<span class=${`run-status ${status}`}>${status}</span>`;
}

function eventClass(ev) {
  const t = ev.eventType || '';
  if (/failed|error/.test(t) || ev.level === 'error') return 'bad';
  if (/succeeded|result/.test(t)) return 'good';
  if (/canceled|skipped|retried/.test(t) || ev.level === 'warn') return 'warn';
  return '';
}

function EventItem({ ev, now }) {
  const hasPayload = ev.payload !== undefined && ev.payload !== null && !(typeof ev.payload === 'object' && !Object.keys(ev.payload).length);
  return html`<li class=${`run-event ${eventClass(ev)}`} data-seq=${ev.seq}>
    <span class="ev-seq" aria-label=${`event ${ev.seq}`}>${ev.seq}</span>
    <div class="ev-body">
      <p class="ev-line"><strong class="ev-type">${ev.eventType}</strong>
        ${ev.nodeId && html` <span class="ev-node">· ${ev.nodeId}${ev.nodeType ? ` (${ev.nodeType})` : ''}</span>`}
        <span class="ev-time"> · ${when(ev.createdAt, now)}</span></p>
      ${ev.message && html`<p class="ev-message">${ev.message}</p>`}
      ${hasPayload && html`<details><summary>Payload</summary><pre>${JSON.stringify(ev.payload, null, 2)}</pre></details>`}
    </div>
  </li>`;
}

export function RunTimeline({ orgId, workflowId, runId, isAdmin, onRun }) {
  const [run, setRun] = useState(null);
  const [events, setEvents] = useState([]);
  const [follow, setFollow] = useState('loading'); // loading | following | done | retrying
  const [error, setError] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const runRef = useRef(null);
  const base = orgPath(orgId, 'workflows', workflowId, 'runs', runId);

  const refreshRun = async () => {
    try {
      const { run: r } = await get(base);
      runRef.current = r;
      setRun(r);
      if (onRun) onRun(r);
      return r;
    } catch (e) {
      setError(e);
      return null;
    }
  };

  useEffect(() => {
    const ctl = new AbortController();
    let cursor = 0;
    let delay = 1000;
    setRun(null);
    setEvents([]);
    setError(null);
    setFollow('loading');
    (async () => {
      const r = await refreshRun();
      if (!r || ctl.signal.aborted) return;
      for (;;) {
        try {
          const q = new URLSearchParams({ limit: '500' });
          if (cursor) q.set('cursor', String(cursor));
          if (!ENDED.has((runRef.current || {}).status)) q.set('waitMs', String(WAIT_MS));
          const data = await getAbortable(`${base}/events?${q}`, ctl.signal);
          delay = 1000;
          const fresh = (data.events || []).filter((e) => e.seq > cursor);
          if (fresh.length) {
            cursor = fresh[fresh.length - 1].seq;
            setEvents((list) => [...list, ...fresh]);
            if (fresh.some((e) => /^run_/.test(e.eventType || ''))) await refreshRun();
          }
          if (data.nextCursor === null || data.nextCursor === undefined) {
            await refreshRun();
            setFollow('done');
            return;
          }
          setFollow('following');
          if (typeof data.nextCursor === 'number' && data.nextCursor > cursor) cursor = data.nextCursor;
        } catch (e) {
          if (ctl.signal.aborted || e.name === 'AbortError') return;
          if (e.status === 404 || e.status === 403) {
            setError(e);
            return;
          }
          setFollow('retrying');
          await new Promise((res) => setTimeout(res, delay));
          delay = Math.min(delay * 2, 15000);
          if (ctl.signal.aborted) return;
        }
      }
    })();
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => {
      ctl.abort();
      clearInterval(t);
    };
  }, [orgId, workflowId, runId]);

  const cancel = async () => {
    setBusy(true);
    setActionError(null);
    try {
      const { run: r } = await post(`${base}/cancel`);
      runRef.current = r;
      setRun(r);
      if (onRun) onRun(r);
    } catch (e) {
      setActionError(e);
      refreshRun();
    } finally {
      setBusy(false);
    }
  };

  if (error) return html`<${ErrorBox} error=${error} next=${error.status === 404 ? 'This run does not exist in this workflow (or in this org): pick one from the list.' : undefined} />`;
  if (!run) return html`<p class="muted" role="status">Loading the run…</p>`;

  const ended = ENDED.has(run.status);
  const queuedFor = run.status === 'queued' && run.createdAt ? now - Date.parse(run.createdAt) : 0;
  const statusText = `Run ${run.status}${run.finishedAt ? ` ${when(run.finishedAt, now)}` : ''}`;

  return html`<section class="card run-timeline" aria-labelledby="run-h" data-run-id=${run.id}>
    <div class="run-head">
      <h2 id="run-h">Run <code>${run.id.slice(0, 8)}</code></h2>
      <span role="status" aria-live="polite" class="run-status-line"><${RunStatus} status=${run.status} /><span class="visually-hidden">${statusText}</span></span>
    </div>
    <dl class="device-facts">
      <div><dt>Started by</dt><dd>${run.triggerType || 'manual'}</dd></div>
      <div><dt>Created</dt><dd>${when(run.createdAt, now)}</dd></div>
      ${run.startedAt && html`<div><dt>Started</dt><dd>${when(run.startedAt, now)}</dd></div>`}
      ${run.finishedAt && html`<div><dt>Finished</dt><dd>${when(run.finishedAt, now)}</dd></div>`}
      <div><dt>Attempt</dt><dd>${run.attemptCount || 0} of ${run.maxAttempts || 1}</dd></div>
      ${run.leaseOwner && !ended && html`<div><dt>Worker</dt><dd>${run.leaseOwner}</dd></div>`}
      <div><dt>Revision</dt><dd>${run.workflowRevision}</dd></div>
    </dl>
    ${queuedFor > 10000 && html`<p class="notice">Queued for ${fmtDur(queuedFor)}: runs start when a <code>vespid-worker</code> is running for this gateway (docs/worker.md). Start one, or cancel this run.</p>`}
    ${run.blocked && html`<p class="notice">Waiting on step <code>${run.blocked.nodeId}</code> (${run.blocked.nodeType}): a node host of this org has to take it. If none is online, see Devices.</p>`}
    ${run.error && html`<div class="error-box"><p><strong>${run.error.code || 'Failed'}</strong>: ${run.error.message || JSON.stringify(run.error)}</p></div>`}
    ${run.output !== undefined && run.output !== null && html`<details class="run-output" open=${run.status === 'succeeded'}><summary>Output</summary><pre>${JSON.stringify(run.output, null, 2)}</pre></details>`}
    ${run.input && Object.keys(run.input).length > 0 && html`<details><summary>Input</summary><pre>${JSON.stringify(run.input, null, 2)}</pre></details>`}
    ${!ended && html`<p class="actions"><button type="button" class="danger" onClick=${cancel} disabled=${busy}>Cancel run</button></p>`}
    ${actionError && html`<${ErrorBox} error=${actionError} next=${actionError.status === 409 ? 'The run had already ended; its final state is shown.' : actionError.status === 403 ? `Only owners, admins or whoever started a run can cancel it${isAdmin ? '' : '; ask one of them'}.` : undefined} />`}
    <h3>Timeline</h3>
    <p class="hint follow-line">${follow === 'following' ? 'Following: new events appear as the worker stores them.'
      : follow === 'retrying' ? 'Lost the connection to the gateway; retrying…'
      : follow === 'done' ? `The run has ended; ${events.length} events.` : 'Loading events…'}</p>
    <ol class="run-events" aria-label="Run events">
      ${events.map((ev) => html`<${EventItem} key=${ev.seq} ev=${ev} now=${now} />`)}
    </ol>
  </section>`;
}
