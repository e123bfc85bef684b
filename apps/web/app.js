// The shell: the sign-in check, the header (navigation, org picker, sign out) and a hash
// router. Pages are modules in pages/, one per route, listed in `routes` below and loaded when
// first shown. A page is `export default function Page({params, auth, navigate})`.

// A sign-in link is <url>/#login=<code>. Take the code and drop it from the address bar (and so
// from the history) before the app does anything else (the imports below only define things).
let loginCode = null;
let loginSeq = 0;
function takeLoginFromHash() {
  const m = /^#login=([^&]+)/.exec(location.hash);
  if (!m) return false;
  loginCode = decodeURIComponent(m[1]);
  loginSeq += 1;
  history.replaceState(null, '', `${location.pathname}${location.search}#/signin`);
  return true;
}
takeLoginFromHash();

import { html, render, useEffect, useState } from './lib/html.js';
import { useAuth, loadSession, signOut, chooseOrg } from './lib/auth.js';
import { ErrorBox } from './components/error-box.js';

/** The one routes table. `pattern` segments starting with ':' are params. */
export const routes = [
  { pattern: 'signin', title: 'Sign in', load: () => import('./pages/signin.js'), public: true },
  { pattern: 'sessions', title: 'Sessions', nav: true, load: () => import('./pages/sessions.js') },
  { pattern: 'sessions/:id', title: 'Chat', load: () => import('./pages/chat.js') },
  { pattern: 'devices', title: 'Devices', nav: true, load: () => import('./pages/devices.js') },
  { pattern: 'workflows', title: 'Workflows', nav: true, load: () => import('./pages/workflows.js') },
  { pattern: 'workflows/:id', title: 'Workflow', load: () => import('./pages/workflow.js') },
  { pattern: 'health', title: 'Health', nav: true, load: () => import('./pages/health.js') },
];
const DEFAULT_ROUTE = 'sessions';

export function matchRoute(hash) {
  const path = hash.replace(/^#\/?/, '').split('?')[0].replace(/\/+$/, '');
  const parts = path ? path.split('/') : [];
  for (const route of routes) {
    const pp = route.pattern.split('/');
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pp.length; i++) {
      if (pp[i].startsWith(':')) params[pp[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (pp[i] !== parts[i]) ok = false;
    }
    if (ok) return { route, params };
  }
  return null;
}

export function navigate(path) {
  location.hash = `#/${path.replace(/^#?\/?/, '')}`;
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  const [, setSeq] = useState(loginSeq);
  useEffect(() => {
    // A link pasted into a tab that already shows the client changes only the fragment.
    const on = () => {
      if (takeLoginFromHash()) setSeq(loginSeq); // re-renders even when the hash was #/signin already
      setHash(location.hash);
    };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

const loaded = new Map(); // pattern -> module
function usePage(route) {
  const [mod, setMod] = useState(() => loaded.get(route.pattern) || null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let live = true;
    setError(null);
    if (loaded.has(route.pattern)) {
      setMod(loaded.get(route.pattern));
      return undefined;
    }
    setMod(null);
    route.load().then(
      (m) => {
        loaded.set(route.pattern, m);
        if (live) setMod(m);
      },
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [route]);
  return { mod, error };
}

function OrgPicker({ auth }) {
  if (!auth.orgs.length) return html`<span class="org-name">no org</span>`;
  if (auth.orgs.length === 1 || (auth.session && auth.session.orgId)) {
    const org = auth.orgs.find((o) => o.id === auth.orgId) || auth.orgs[0];
    return html`<span class="org-name" title="this session acts in this org">Org: <strong>${org.name}</strong></span>`;
  }
  return html`<span class="org-picker">
    <label for="org-picker">Org</label>
    <select id="org-picker" value=${auth.orgId} onChange=${(e) => chooseOrg(e.currentTarget.value)}>
      ${auth.orgs.map((o) => html`<option value=${o.id}>${o.name} (${o.role})</option>`)}
    </select>
  </span>`;
}

function Header({ auth, current }) {
  const [busy, setBusy] = useState(false);
  const out = async () => {
    setBusy(true);
    try {
      await signOut();
    } finally {
      setBusy(false);
      navigate('signin');
    }
  };
  return html`<header class="top" role="banner">
    <a class="brand" href="#/sessions">Vespid</a>
    ${auth.status === 'signedIn' && html`
      <nav aria-label="Main">
        <ul>
          ${routes.filter((r) => r.nav).map((r) => html`<li><a href=${`#/${r.pattern}`}
              aria-current=${current && current.route.pattern.split('/')[0] === r.pattern ? 'page' : undefined}>${r.title}</a></li>`)}
        </ul>
      </nav>
      <div class="who">
        <${OrgPicker} auth=${auth} />
        <span class="user-name">${auth.user && auth.user.name}</span>
        <button type="button" class="secondary" onClick=${out} disabled=${busy}>Sign out</button>
      </div>`}
  </header>`;
}

function Page({ match, auth }) {
  const { mod, error } = usePage(match.route);
  useEffect(() => {
    document.title = `${match.route.title} · Vespid`;
  }, [match.route]);
  if (error) return html`<${ErrorBox} error=${error} next="This page failed to load; reload the page." />`;
  if (!mod) return html`<p class="muted">Loading…</p>`;
  const P = mod.default;
  const key = `${match.route.pattern}:${JSON.stringify(match.params)}:${auth.orgId}:${match.route.pattern === 'signin' ? loginSeq : 0}`;
  return html`<${P} key=${key} params=${match.params} auth=${auth} navigate=${navigate} loginCode=${match.route.pattern === 'signin' ? takeLoginCode : undefined} />`;
}

function takeLoginCode() {
  const c = loginCode;
  loginCode = null;
  return c;
}

function App() {
  const auth = useAuth();
  const hash = useHash();
  useEffect(() => {
    loadSession();
  }, []);

  let match = matchRoute(hash);
  if (!match) match = matchRoute(`#/${DEFAULT_ROUTE}`);
  const needSignIn = auth.status === 'signedOut' && !match.route.public;
  const shown = needSignIn ? matchRoute('#/signin') : match;

  let body;
  if (auth.status === 'loading' && !loginCode) body = html`<p class="muted" role="status">Checking whether you are signed in…</p>`;
  else if (auth.status === 'error') {
    body = html`<${ErrorBox} error=${auth.error}>
      <button type="button" onClick=${() => loadSession()}>Try again</button>
    <//>`;
  } else body = html`<${Page} match=${shown} auth=${auth} />`;

  return html`
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <${Header} auth=${auth} current=${shown} />
    <main id="main" tabindex="-1">${body}</main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
