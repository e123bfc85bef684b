// Sessions: the org's sessions, newest activity first (paginated), filters the gateway applies, the create form,
// and the onboarding card while no node host is online.

import { html, useEffect, useState } from '../lib/html.js';
import { post, orgPath } from '../lib/rest.js';
import { relTime } from '../lib/util.js';
import { ErrorBox } from '../components/error-box.js';
import { OnboardingCard } from '../components/onboarding-card.js';
import { usePagedList } from '../lib/use-paged-list.js';

const PAGE = 50;

function CreateForm({ auth, navigate, open }) {
  const [f, setF] = useState({ title: '', engine: 'vespid.echo.v1', model: '', instructions: '', toolset: '', tag: '', group: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const bind = (k) => ({ value: f[k], onInput: (e) => setF({ ...f, [k]: e.currentTarget.value }) });

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const body = { title: f.title.trim() || 'Untitled', engine: f.engine.trim() || 'vespid.echo.v1' };
    if (f.model.trim()) body.model = f.model.trim();
    if (f.instructions.trim()) body.instructions = f.instructions;
    if (f.toolset.trim()) {
      try {
        body.toolset = JSON.parse(f.toolset);
      } catch (err) {
        setError({ code: 'BAD_REQUEST', message: `Toolset is not valid JSON (${err.message}). Give a JSON object, e.g. {"name":"t","skills":[]}, or leave it empty.` });
        return;
      }
    }
    const selector = {};
    if (f.tag.trim()) selector.tag = f.tag.trim();
    if (f.group.trim()) selector.group = f.group.trim();
    if (Object.keys(selector).length) body.selector = selector;
    setBusy(true);
    try {
      const { session } = await post(orgPath(auth.orgId, 'sessions'), body);
      navigate(`sessions/${encodeURIComponent(session.id)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return html`<details class="card create" open=${open}>
    <summary>New session</summary>
    <form onSubmit=${submit} aria-label="New session">
      <div class="grid">
        <div><label for="s-title">Title</label><input id="s-title" name="title" ...${bind('title')} placeholder="debug build" /></div>
        <div><label for="s-engine">Engine</label><input id="s-engine" name="engine" ...${bind('engine')} list="engines" />
          <datalist id="engines"><option value="vespid.echo.v1" /><option value="vespid.loop.v1" /></datalist></div>
        <div><label for="s-model">Model</label><input id="s-model" name="model" ...${bind('model')} placeholder="the host's default" /></div>
        <div><label for="s-tag">Node host tag</label><input id="s-tag" name="tag" ...${bind('tag')} placeholder="any host" /></div>
        <div><label for="s-group">Node host group</label><input id="s-group" name="group" ...${bind('group')} placeholder="any group" /></div>
      </div>
      <label for="s-instr">Instructions</label>
      <textarea id="s-instr" name="instructions" rows="3" ...${bind('instructions')}></textarea>
      <label for="s-toolset">Toolset (JSON, optional)</label>
      <textarea id="s-toolset" name="toolset" rows="2" spellcheck="false" ...${bind('toolset')} placeholder='{"name":"tools","skills":[]}'></textarea>
      <p class="hint">vespid.echo.v1 answers offline by repeating your message; the tag or group picks which node host runs the session (the first message pins it).</p>
      ${error && html`<${ErrorBox} error=${error} />`}
      <p class="actions"><button type="submit" disabled=${busy}>Create session</button></p>
    </form>
  </details>`;
}

function SessionRow({ s }) {
  return html`<li>
    <a href=${`#/sessions/${encodeURIComponent(s.id)}`}>
      <span class="title">${s.title || 'Untitled'}</span>
      <span class="meta"> · ${s.engine}${s.model ? ` · ${s.model}` : ''}</span>
      <br />
      <span class="meta">active ${relTime(s.lastActivityAt)}${s.pinnedAgentId ? ' · pinned to a node host' : ''}</span>
    </a>
  </li>`;
}

export default function SessionsPage({ auth, navigate }) {
  const [filter, setFilter] = useState('');
  const [mine, setMine] = useState(false);
  const text = filter.trim();

  // The gateway filters (q: title or engine; createdBy=me), so a match on a page not loaded yet
  // is found too. A filtered page may come back short while nextCursor says there is more.
  const list = usePagedList('sessions', (q) => {
    if (text) q.set('q', text);
    if (mine) q.set('createdBy', 'me');
    return `${orgPath(auth.orgId, 'sessions')}?${q}`;
  }, PAGE);
  const { items: sessions, cursor, loading, error, load } = list;

  useEffect(() => {
    if (!auth.orgId) return undefined;
    // Typing waits for a pause before asking again; the first load and the checkbox go at once.
    const t = setTimeout(() => load(null), text ? 300 : 0);
    return () => clearTimeout(t);
  }, [auth.orgId, text, mine]);

  if (!auth.orgId) {
    return html`<section aria-labelledby="page-h"><h1 id="page-h">Sessions</h1>
      <p class="notice">You are not a member of any org. Ask an org owner to add you (<code>vespid member add</code>).</p></section>`;
  }

  const filtered = Boolean(text) || mine;
  const shown = sessions;

  return html`<section aria-labelledby="page-h">
    <h1 id="page-h">Sessions</h1>
    <${OnboardingCard} auth=${auth} />
    <${CreateForm} auth=${auth} navigate=${navigate} open=${!loading && sessions.length === 0} />
    <div class="toolbar">
      <div class="filter">
        <label for="s-filter">Filter by title or engine</label>
        <input id="s-filter" type="search" maxlength="200" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} />
      </div>
      <label class="checkbox"><input type="checkbox" checked=${mine} onChange=${(e) => setMine(e.currentTarget.checked)} /> Only mine</label>
      <button type="button" class="secondary" onClick=${() => load(null)} disabled=${loading}>Refresh</button>
    </div>
    ${error && html`<${ErrorBox} error=${error}><button type="button" onClick=${() => load(null)}>Try again</button><//>`}
    <p class="visually-hidden" role="status">${loading ? 'Loading sessions' : `${shown.length} sessions shown`}</p>
    ${!loading && !error && !filtered && sessions.length === 0 && html`<p class="muted">No sessions yet: create one above.</p>`}
    ${!loading && !error && filtered && sessions.length === 0 && html`<p class="muted">No session matches${text ? ` “${text}”` : ''}${mine ? ' among yours' : ''}${cursor ? ' in the sessions looked at so far: load more to look further' : ''}.</p>`}
    <ul class="session-list" aria-label="Sessions">
      ${shown.map((s) => html`<${SessionRow} key=${s.id} s=${s} />`)}
    </ul>
    ${cursor && html`<p class="actions"><button type="button" class="secondary" onClick=${() => load(cursor)} disabled=${loading}>Load more</button></p>`}
  </section>`;
}
