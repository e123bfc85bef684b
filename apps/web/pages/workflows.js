// Workflows: the org's workflows, newest first (paginated), each linking to its page (run now,
// runs, a run's timeline).

import { html, useEffect } from '../lib/html.js';
import { orgPath } from '../lib/rest.js';
import { relTime } from '../lib/util.js';
import { ErrorBox } from '../components/error-box.js';
import { usePagedList } from '../lib/use-paged-list.js';

const PAGE = 50;

export function WorkflowStatus({ status }) {
  return html`<span class=${`wf-status ${status}`}>${status}</span>`;
}

export default function WorkflowsPage({ auth }) {
  const { items: list, cursor, loading, error, load } = usePagedList(
    'workflows', (q) => `${orgPath(auth.orgId, 'workflows')}?${q}`, PAGE);

  useEffect(() => {
    if (auth.orgId) load(null);
  }, [auth.orgId]);

  if (!auth.orgId) {
    return html`<section aria-labelledby="page-h"><h1 id="page-h">Workflows</h1>
      <p class="notice">You are not a member of any org. Ask an org owner to add you (<code>vespid member add</code>).</p></section>`;
  }

  return html`<section aria-labelledby="page-h" class="workflows-page">
    <div class="page-head">
      <h1 id="page-h">Workflows</h1>
      <button type="button" class="secondary" onClick=${() => load(null)} disabled=${loading}>Refresh</button>
    </div>
    <p class="hint">Published workflows run on a <code>vespid-worker</code>; their agent steps go to this org's node hosts.</p>
    ${error && html`<${ErrorBox} error=${error}><p class="actions"><button type="button" onClick=${() => load(null)}>Try again</button></p><//>`}
    <p class="visually-hidden" role="status">${loading ? 'Loading workflows' : `${list.length} workflows`}</p>
    ${!loading && !error && list.length === 0 && html`<div class="card empty">
      <h2>No workflows yet</h2>
      <p>Workflows are written as JSON specs and stored with the CLI, for example:</p>
      <pre class="command"><code>vespid workflow create --name "demo greeting" --spec etc/examples/demo-workflow.json
vespid workflow publish WORKFLOW_ID</code></pre>
      <p class="hint">Add <code>--api</code>, <code>--org</code> and <code>--token</code> when running it away from the gateway's machine; see docs/workflows.md.</p>
    </div>`}
    <ul class="wf-list" aria-label="Workflows">
      ${list.map((w) => html`<li key=${w.id}>
        <a href=${`#/workflows/${encodeURIComponent(w.id)}`}>
          <span class="title">${w.name}</span> <${WorkflowStatus} status=${w.status} />
          <br />
          <span class="meta">revision ${w.revision} · ${w.dsl && w.dsl.trigger ? w.dsl.trigger.type : 'manual'} · updated ${relTime(w.updatedAt)}${w.publishedAt ? ` · published ${relTime(w.publishedAt)}` : ''}</span>
        </a>
      </li>`)}
    </ul>
    ${cursor && html`<p class="actions"><button type="button" class="secondary" onClick=${() => load(cursor)} disabled=${loading}>Load more</button></p>`}
  </section>`;
}
