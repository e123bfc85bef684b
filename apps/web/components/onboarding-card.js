// "Connect a node host": shown while the org has no node host online. Mints a pairing token,
// shows the exact commands to run on the host, and turns green by itself when a host connects
// (the agents list is polled every 2 s while the card is shown). Used by the sessions and
// devices pages.

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { get, post, orgPath } from '../lib/rest.js';
import { copyText, isAdmin, relTime } from '../lib/util.js';
import { ErrorBox } from './error-box.js';

const POLL_MS = 2000;

const onlineHosts = (agents) => agents.filter((a) => a.kind !== 'bridge' && a.status === 'online');

export function OnboardingCard({ auth, onChange }) {
  const orgId = auth.orgId;
  const [phase, setPhase] = useState('checking'); // checking | hidden | waiting | connected
  const [hosts, setHosts] = useState([]);
  const [token, setToken] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState('');
  const [, tick] = useState(0);
  const phaseRef = useRef(phase);
  phaseRef.current = phase;

  const check = async () => {
    try {
      const { agents } = await get(orgPath(orgId, 'agents'));
      const online = onlineHosts(agents || []);
      setHosts(online);
      setError(null);
      if (online.length) {
        if (phaseRef.current === 'waiting') setPhase('connected');
        else if (phaseRef.current === 'checking') setPhase('hidden');
      } else if (phaseRef.current !== 'waiting') {
        setPhase('waiting');
      }
      if (onChange) onChange(online);
    } catch (e) {
      setError(e);
      if (phaseRef.current === 'checking') setPhase('waiting');
    }
  };

  useEffect(() => {
    check();
  }, [orgId]);

  useEffect(() => {
    if (phase !== 'waiting') return undefined;
    const t = setInterval(() => {
      check();
      tick((n) => n + 1); // keeps "expires in" fresh
    }, POLL_MS);
    return () => clearInterval(t);
  }, [phase, orgId]);

  const mint = async () => {
    setBusy(true);
    setError(null);
    try {
      setToken(await post(orgPath(orgId, 'agents', 'pairing-tokens')));
      setCopied('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (phase === 'checking' || phase === 'hidden') return null;

  if (phase === 'connected') {
    return html`<section class="card onboarding connected" aria-labelledby="onb-h" role="status">
      <h2 id="onb-h">Node host connected</h2>
      <p><span class="status online">online</span> ${hosts.map((h) => h.name).join(', ')} is connected and can run sessions.</p>
      <p class="actions"><button type="button" class="secondary" onClick=${() => setPhase('hidden')}>Dismiss</button></p>
    </section>`;
  }

  const connectCmd = token && `vespid-agent connect --pairing-token ${token.token} --api ${location.origin}`;
  const startCmd = 'vespid-agent start';
  const expired = token && Date.parse(token.expiresAt) <= Date.now();

  return html`<section class="card onboarding waiting" aria-labelledby="onb-h">
    <h2 id="onb-h">Connect a node host</h2>
    <p><span class="status waiting">waiting</span> No node host of this org is online, so sessions have nowhere to run.
      A node host is a machine you control running <code>vespid-agent</code>.</p>
    ${!isAdmin(auth) && !token && html`<p class="notice">Minting a pairing token needs the admin or owner role in this org. Ask one of them, or an admin can run <code>vespid agents pairing-token --org ${(auth.orgs.find((o) => o.id === orgId) || {}).name}</code> on the gateway's machine.</p>`}
    ${!token && html`<p class="actions">
      <button type="button" onClick=${mint} disabled=${busy}>Create a pairing token</button>
      <button type="button" class="secondary" onClick=${check}>Check again</button>
    </p>`}
    ${token && html`
      <p>On the machine that should run agent work, run:</p>
      <pre class="command connect-command"><code>${connectCmd}</code></pre>
      <pre class="command start-command"><code>${startCmd}</code></pre>
      <p class="hint">${expired
        ? html`<strong>This token has expired.</strong> Create a new one.`
        : html`The token works once, until ${new Date(token.expiresAt).toLocaleTimeString()} (${relTime(token.expiresAt)}). This card turns green by itself when the host connects.`}</p>
      <p class="actions">
        <button type="button" onClick=${async () => setCopied((await copyText(`${connectCmd}\n${startCmd}`)) ? 'Copied both commands.' : 'Copy failed: select the commands and copy them by hand.')}>Copy commands</button>
        <button type="button" class="secondary" onClick=${check}>Check again</button>
        <button type="button" class="secondary" onClick=${mint} disabled=${busy}>New token</button>
      </p>`}
    <p class="visually-hidden" aria-live="polite">${copied}</p>
    ${copied && html`<p class="hint" aria-hidden="true">${copied}</p>`}
    ${error && html`<${ErrorBox} error=${error} />`}
  </section>`;
}
