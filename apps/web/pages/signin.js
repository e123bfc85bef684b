// Sign-in: a one-time link (#login=<code>, taken out of the address bar by app.js before this
// page runs) is exchanged for the session cookie; or an access token is pasted. Errors show the
// gateway's message, which says what to do (e.g. run `vespid web login` again).

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { signIn, signOut } from '../lib/auth.js';
import { ErrorBox } from '../components/error-box.js';

export default function SignIn({ auth, navigate, loginCode }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [usedLink, setUsedLink] = useState(false);
  const [token, setToken] = useState('');
  const started = useRef(false);

  const finish = () => {
    const h = location.hash;
    if (!h || h === '#/signin' || h === '#/' || h === '#') navigate('sessions');
  };

  useEffect(() => {
    if (started.current) return;
    started.current = true;
    const code = loginCode && loginCode();
    if (!code) return;
    setUsedLink(true);
    setBusy(true);
    signIn({ loginCode: code }).then(
      () => finish(),
      (e) => {
        setError(e);
        setBusy(false);
      },
    );
  }, []);

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const t = token.trim();
    if (!t) {
      setError({ code: 'BAD_REQUEST', message: 'Paste an access token first (from `vespid token create --user <name>`).' });
      return;
    }
    setBusy(true);
    try {
      await signIn({ accessToken: t });
      setToken('');
      finish();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (auth.status === 'signedIn' && !busy) {
    return html`<section class="card narrow" aria-labelledby="signin-h">
      <h1 id="signin-h">Signed in</h1>
      <p>You are signed in as <strong>${auth.user.name}</strong>${auth.session && auth.session.expiresAt ? html` until ${new Date(auth.session.expiresAt).toLocaleString()}` : ''}.</p>
      <p class="actions">
        <a class="button" href="#/sessions">Go to sessions</a>
        <button type="button" class="secondary" onClick=${() => signOut()}>Sign out</button>
      </p>
    </section>`;
  }

  return html`<section class="card narrow" aria-labelledby="signin-h">
    <h1 id="signin-h">Sign in to Vespid</h1>
    ${busy && usedLink && html`<p role="status">Signing you in with the link…</p>`}
    ${error && html`<${ErrorBox} error=${error}
        next=${error.code === 'UNAUTHORIZED' && usedLink
          ? 'Sign-in links work once and for 10 minutes. Run `vespid web login --user <your name>` on the gateway\'s machine for a new link, or paste an access token below.'
          : undefined} />`}
    <p>Ask for a sign-in link: on the gateway's machine, run</p>
    <pre class="command"><code>vespid web login --user ${'<your name>'}</code></pre>
    <p>and open the link it prints. The link works once.</p>
    <h2>Or paste an access token</h2>
    <form onSubmit=${submit}>
      <label for="token">Access token (from <code>vespid token create</code>)</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false"
        value=${token} onInput=${(e) => setToken(e.currentTarget.value)} placeholder="vat_…" />
      <p class="hint">The token is exchanged for a browser session and not kept by the page.</p>
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
  </section>`;
}
