// One workflow: what it is, "Run now" (optional JSON input, checked as you type), its runs
// (newest first, load more), and the selected run's timeline following live. The selected run
// is in the address (#/workflows/<id>?run=<runId>), so a reload or a shared link shows it again.

import { html, useEffect, useState } from '../lib/html.js';
import { get, post, orgPath } from '../lib/rest.js';
import { isAdmin } from '../lib/util.js';
import { ErrorBox } from '../components/error-box.js';
import { usePagedList } from '../lib/use-paged-list.js';
import { RunTimeline, RunStatus, ENDED } from '../components/run-timeline.js';
import { WorkflowStatus } from './workflows.js';
import { when } from '../components/operator-hook.js';

const PAGE = 20;

function runFromHash() {
  const q = location.hash.split('?')[1] || '';
  return new URLSearchParams(q).get('run');
}

/** {value} or {error}: empty is no input; otherwise a JSON object. */
function checkInput(text) {
  if (!text.trim()) return { value: undefined };
  let v;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${e.message}. Give an object like {"greet": true}, or leave it empty.` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'The input must be a JSON object, like {"greet": true}, or empty.' };
  return { value: v };
}

function RunNow({ auth, workflow, onStarted }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const check = checkInput(text);
  const draft = workflow.status !== 'published';

  const submit = async (e) => {
    e.preventDefault();
    if (check.error || draft) return;
    setBusy(true);
    setError(null);
    try {
      const body = check.value === undefined ? {} : { input: check.value };
      const { run } = await post(orgPath(auth.orgId, 'workflows', workflow.id, 'runs'), body);
      onStarted(run);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="card run-now" onSubmit=${submit} aria-labelledby="runnow-h">
    <h2 id="runnow-h">Run now</h2>
    ${draft && html`<p class="notice">This workflow is a draft: only published workflows run. Publish it with <code>vespid workflow publish ${workflow.id}</code> (owners and admins).</p>`}
    <label for="run-input">Input (JSON object, optional)</label>
    <textarea id="run-input" name="input" rows="4" spellcheck="false" value=${text}
      aria-invalid=${check.error ? 'true' : 'false'} aria-describedby="run-input-help"
      onInput=${(e) => setText(e.currentTarget.value)} placeholder='{"greet": true, "message": "hello"}'></textarea>
    <p id="run-input-help" class=${check.error ? 'field-error' : 'hint'} aria-live="polite">${check.error || 'The run reads it as its input; steps refer to its fields by path.'}</p>
    ${error && html`<${ErrorBox} error=${error} next=${error.status === 409 ? 'Only published workflows run: publish it first.' : undefined} />`}
    <p class="actions"><button type="submit" disabled=${busy || !!check.error || draft}>Run now</button></p>
  </form>`;
}

export default function WorkflowPage({ params, auth, navigate }) {
  const id = params.id;
  const [workflow, setWorkflow] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const {
    items: runs, setItems: setRuns, cursor, loading: runsLoading, error: runsError, load: loadRuns,
  } = usePagedList('runs', (q) => `${orgPath(auth.orgId, 'workflows', id, 'runs')}?${q}`, PAGE);
  const [selected, setSelected] = useState(runFromHash());
  const now = Date.now();

  useEffect(() => {
    const on = () => setSelected(runFromHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);

  useEffect(() => {
    get(orgPath(auth.orgId, 'workflows', id)).then((d) => setWorkflow(d.workflow), setLoadError);
    loadRuns(null);
  }, [id, auth.orgId]);

  const select = (runId) => navigate(`workflows/${encodeURIComponent(id)}?run=${encodeURIComponent(runId)}`);

  const onStarted = (run) => {
    setRuns((list) => [run, ...list.filter((r) => r.id !== run.id)]);
    select(run.id);
  };
  const onRun = (run) => setRuns((list) => list.map((r) => (r.id === run.id ? { ...r, ...run } : r)));

  if (loadError) {
    return html`<section aria-labelledby="page-h"><h1 id="page-h">Workflow</h1>
      <${ErrorBox} error=${loadError} next=${loadError.status === 404 ? 'No such workflow in this org: it may belong to another org (pick it above) or have been removed.' : undefined} />
      <p><a href="#/workflows">All workflows</a></p></section>`;
  }

  const nodes = workflow && workflow.dsl && workflow.dsl.graph && workflow.dsl.graph.nodes ? Object.keys(workflow.dsl.graph.nodes).length : 0;

  return html`<section aria-labelledby="page-h" class="workflow-page">
    <p class="crumbs"><a href="#/workflows">All workflows</a></p>
    <div class="page-head">
      <h1 id="page-h">${workflow ? workflow.name : 'Workflow'}</h1>
      ${workflow && html`<${WorkflowStatus} status=${workflow.status} />`}
    </div>
    ${workflow && html`<p class="hint">Revision ${workflow.revision} · ${nodes} step${nodes === 1 ? '' : 's'} · trigger ${workflow.dsl && workflow.dsl.trigger ? workflow.dsl.trigger.type : 'manual'}${workflow.publishedAt ? ` · published ${when(workflow.publishedAt, now)}` : ''}</p>
      <details class="spec"><summary>Spec</summary><pre>${JSON.stringify(workflow.dsl, null, 2)}</pre></details>`}
    <div class="wf-layout">
      <div class="wf-side">
        ${workflow && html`<${RunNow} auth=${auth} workflow=${workflow} onStarted=${onStarted} />`}
        <section class="card runs" aria-labelledby="runs-h">
          <div class="page-head"><h2 id="runs-h">Runs</h2>
            <button type="button" class="secondary small" onClick=${() => loadRuns(null)} disabled=${runsLoading}>Refresh</button></div>
          ${runsError && html`<${ErrorBox} error=${runsError} />`}
          ${!runsLoading && !runsError && runs.length === 0 && html`<p class="muted">No runs yet.</p>`}
          <ul class="run-list" aria-label="Runs, newest first">
            ${runs.map((r) => html`<li key=${r.id}>
              <a href=${`#/workflows/${encodeURIComponent(id)}?run=${encodeURIComponent(r.id)}`}
                 aria-current=${r.id === selected ? 'true' : undefined} class="run-link">
                <${RunStatus} status=${r.status} /> <code>${r.id.slice(0, 8)}</code>
                <span class="meta"> ${when(r.createdAt, now)}${ENDED.has(r.status) && r.finishedAt ? '' : ''}</span>
              </a></li>`)}
          </ul>
          ${cursor && html`<p class="actions"><button type="button" class="secondary" onClick=${() => loadRuns(cursor)} disabled=${runsLoading}>Load more</button></p>`}
        </section>
      </div>
      <div class="wf-main">
        ${selected
          ? html`<${RunTimeline} key=${selected} orgId=${auth.orgId} workflowId=${id} runId=${selected} isAdmin=${isAdmin(auth)} onRun=${onRun} />`
          : html`<p class="muted card">Pick a run to see its timeline, or start one with Run now.</p>`}
      </div>
    </div>
  </section>`;
}
