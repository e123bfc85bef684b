// One session's chat over vespid.client.v1 (/ws/client?orgId=...):
// - session_join replays history, then live session_events; the highest seq seen is kept, a
//   reconnect rejoins with afterSeq = it, and any event with seq <= it is ignored, so a dropped
//   connection never shows an event twice or leaves a hole.
// - each message gets an idempotencyKey, kept (also in sessionStorage, across a reload) until the
//   gateway accepts it, and resent with the same key after a reconnect: never sent twice.
// - Stop (session_cancel), Retry (the last message again, with a new key), Reset node host
//   (session_reset_agent) when the pinned host is offline.

import { html, useEffect, useMemo, useRef, useState } from '../lib/html.js';
import { get, orgPath } from '../lib/rest.js';
import { ClientSocket } from '../lib/client-socket.js';
import { foldEvents } from '../lib/chat-fold.js';
import { nextStep } from '../lib/errors.js';
import { uuid } from '../lib/util.js';
import { ErrorBox } from '../components/error-box.js';

const pendingKey = (sessionId) => `vespid.pending.${sessionId}`;

function loadPending(sessionId) {
  try {
    return JSON.parse(sessionStorage.getItem(pendingKey(sessionId)) || '[]');
  } catch {
    return [];
  }
}

function savePending(sessionId, list) {
  try {
    if (list.length) sessionStorage.setItem(pendingKey(sessionId), JSON.stringify(list));
    else sessionStorage.removeItem(pendingKey(sessionId));
  } catch { /* private mode */ }
}

function ConnLine({ conn, onRetry }) {
  let text;
  if (conn.status === 'open') text = 'Connected';
  else if (conn.status === 'connecting') text = 'Connecting…';
  else if (conn.retryInMs) text = `Connection lost; reconnecting in ${Math.ceil(conn.retryInMs / 1000)} s`;
  else text = 'Disconnected';
  return html`<span class="conn" role="status">
    <span class=${`status ${conn.status}`}>${text}</span>
    ${conn.status === 'closed' && conn.retryInMs && html` <button type="button" class="secondary" onClick=${onRetry}>Reconnect now</button>`}
  </span>`;
}

function Item({ it, hostName }) {
  switch (it.kind) {
    case 'user':
      return html`<li class="msg user" data-seq=${it.seq}><span class="who-line">You</span>${it.text}</li>`;
    case 'agent':
      return html`<li class=${`msg agent${it.streaming ? ' streaming' : ''}${it.canceled ? ' canceled' : ''}`} aria-busy=${it.streaming ? 'true' : 'false'}>
        <span class="who-line">Agent${it.streaming ? ' (writing…)' : ''}${it.canceled ? ' (stopped)' : ''}</span>${it.text}</li>`;
    case 'tool':
      return html`<li class="tool"><strong>${it.type === 'tool_call' ? 'Tool call' : 'Tool result'}</strong>${it.payload.name || it.payload.toolName ? `: ${it.payload.name || it.payload.toolName}` : ''}
        <pre>${JSON.stringify(it.payload, null, 2)}</pre></li>`;
    case 'canceled':
      return html`<li class="notice turn-canceled">Turn canceled${it.stopReason ? ` (${it.stopReason})` : ''}. ${nextStep('TURN_CANCELED')}</li>`;
    case 'error':
      return html`<li class="error-box turn-error"><p><strong>${it.code}</strong>: ${it.message}</p><p class="next">${nextStep(it.code)}</p></li>`;
    default:
      return html`<li class="sys">${it.agentId ? `Pinned to node host ${hostName(it.agentId)}.` : it.text}</li>`;
  }
}

export default function ChatPage({ params, auth }) {
  const sessionId = params.id;
  const orgId = auth.orgId;
  const [session, setSession] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [agents, setAgents] = useState([]);
  const [events, setEvents] = useState([]);
  const [conn, setConn] = useState({ status: 'connecting' });
  const [joined, setJoined] = useState(false);
  const [pending, setPending] = useState(() => loadPending(sessionId));
  const [draft, setDraft] = useState('');
  const [actionError, setActionError] = useState(null);
  const [notice, setNotice] = useState('');
  const [offlinePinned, setOfflinePinned] = useState(false);
  const [busy, setBusy] = useState('');
  const [truncated, setTruncated] = useState(false);

  const lastSeq = useRef(0);
  const sock = useRef(null);
  const joinedRef = useRef(false);
  const pendingRef = useRef(pending);
  const inflight = useRef(new Set()); // keys sent on the current connection, answer not yet in
  const storedKeys = useRef(new Set()); // idempotency keys whose user_message is stored
  const logEnd = useRef(null);

  const updatePending = (fn) => {
    pendingRef.current = fn(pendingRef.current);
    savePending(sessionId, pendingRef.current);
    setPending(pendingRef.current);
  };

  const refreshAgents = () => get(orgPath(orgId, 'agents')).then((d) => setAgents(d.agents || []), () => {});
  const refreshSession = () => get(orgPath(orgId, 'sessions', sessionId)).then((d) => setSession(d.session), (e) => setLoadError(e));

  const trySend = async (p) => {
    const c = sock.current;
    if (!c || c.status !== 'open' || !joinedRef.current || inflight.current.has(p.key)) return;
    inflight.current.add(p.key);
    try {
      const ans = await c.request({ type: 'session_send', sessionId, message: p.message, idempotencyKey: p.key });
      inflight.current.delete(p.key);
      updatePending((l) => l.filter((x) => x.key !== p.key));
      if (ans.agentId) setSession((s) => (s ? { ...s, pinnedAgentId: ans.agentId } : s));
    } catch (e) {
      inflight.current.delete(p.key);
      if (e.dropped) return; // resent with the same key after the rejoin
      updatePending((l) => l.filter((x) => x.key !== p.key));
      // Stored, then not dispatched (NO_AGENT_AVAILABLE): the log shows the message and the
      // turn's error event, with Retry; nothing to put back.
      if (storedKeys.current.has(p.key)) return;
      setActionError(e);
      setDraft((d) => d || p.message);
      if (e.code === 'PINNED_AGENT_OFFLINE') {
        setOfflinePinned(true);
        refreshAgents();
      }
    }
  };

  useEffect(() => {
    refreshSession();
    refreshAgents();
    const agentsTimer = setInterval(refreshAgents, 5000);

    const c = new ClientSocket(orgId);
    sock.current = c;
    const offEvent = c.on('session_event', (f) => {
      if (f.sessionId !== sessionId || f.seq <= lastSeq.current) return;
      if (lastSeq.current === 0 && f.seq > 1) setTruncated(true);
      lastSeq.current = f.seq;
      if (f.eventType === 'user_message' && f.payload && f.payload.runId) storedKeys.current.add(f.payload.runId);
      setEvents((list) => [...list, f]);
      if (f.eventType === 'agent_selected') {
        setSession((s) => (s ? { ...s, pinnedAgentId: f.payload.agentId } : s));
        refreshAgents();
      }
      if (f.eventType === 'error' && f.payload && f.payload.code === 'PINNED_AGENT_OFFLINE') setOfflinePinned(true);
    });
    const offErr = c.on('session_error', (f) => setActionError(f));
    const offStatus = c.onStatus(async (status, info) => {
      setConn({ status, ...info });
      if (status !== 'open') {
        joinedRef.current = false;
        setJoined(false);
        inflight.current.clear();
        return;
      }
      try {
        const join = { type: 'session_join', sessionId };
        if (lastSeq.current > 0) join.afterSeq = lastSeq.current;
        await c.request(join);
        joinedRef.current = true;
        setJoined(true);
        pendingRef.current.forEach((p) => trySend(p));
      } catch (e) {
        if (e.dropped) return;
        setLoadError(e);
        c.stop();
      }
    });
    c.start();
    // For tests and debugging: drop the socket as the network would.
    window.__vespidChat = { drop: () => c.drop(), lastSeq: () => lastSeq.current };
    return () => {
      clearInterval(agentsTimer);
      offEvent();
      offErr();
      offStatus();
      c.stop();
      if (window.__vespidChat) delete window.__vespidChat;
    };
  }, [sessionId, orgId]);

  const folded = useMemo(() => foldEvents(events), [events]);
  const running = folded.turn && folded.turn.state === 'running';
  // The session record is the truth (agent_selected events and a reset update it); events only
  // until it has loaded.
  const pinnedId = session ? session.pinnedAgentId : folded.pinnedAgentId;
  const pinned = pinnedId ? agents.find((a) => a.id === pinnedId) : null;
  const pinnedOffline = !!pinnedId && ((pinned && pinned.status !== 'online') || offlinePinned);
  const hostName = (id) => {
    const a = agents.find((x) => x.id === id);
    return a ? `“${a.name}”` : id.slice(0, 8);
  };

  useEffect(() => {
    const el = logEnd.current;
    if (!el) return;
    const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
    if (nearBottom) el.scrollIntoView({ block: 'end' });
  }, [events, pending]);

  const send = (text) => {
    const message = text.trim();
    if (!message) return;
    setActionError(null);
    setNotice('');
    const p = { key: uuid(), message };
    updatePending((l) => [...l, p]);
    trySend(p);
  };

  const submit = (e) => {
    e.preventDefault();
    send(draft);
    setDraft('');
  };

  const onKey = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send(draft);
      setDraft('');
    }
  };

  const act = async (name, frame, done) => {
    setBusy(name);
    setActionError(null);
    try {
      done(await sock.current.request(frame));
    } catch (e) {
      setActionError(e.dropped ? { code: 'UNAVAILABLE', message: 'The connection dropped before the gateway answered; try again once it is back.' } : e);
    } finally {
      setBusy('');
    }
  };

  const stop = () => act('stop', { type: 'session_cancel', sessionId }, (ans) => {
    if (!ans.cancelled) setNotice('No turn was running: it had already ended.');
  });

  const retry = () => {
    if (folded.lastUserText) send(folded.lastUserText);
  };

  const resetHost = () => act('reset', { type: 'session_reset_agent', sessionId }, (ans) => {
    setSession(ans.session);
    setOfflinePinned(false);
    setNotice('The session is no longer pinned: your next message picks a node host that is online.');
  });

  if (loadError) {
    return html`<section aria-labelledby="page-h"><h1 id="page-h">Session</h1>
      <${ErrorBox} error=${loadError} />
      <p><a href="#/sessions">Back to sessions</a></p></section>`;
  }

  const lastFailed = folded.turn && (folded.turn.state === 'failed' || folded.turn.state === 'canceled');

  return html`<section aria-labelledby="page-h" class="chat">
    <div class="chat-head">
      <h1 id="page-h">${session ? session.title || 'Untitled' : 'Session'}</h1>
      <${ConnLine} conn=${conn} onRetry=${() => sock.current && sock.current.retryNow()} />
    </div>
    <div class="chat-meta">
      <a href="#/sessions">All sessions</a>
      ${session && html`<span>Engine <code>${session.engine}</code>${session.model ? html` · model <code>${session.model}</code>` : ''}</span>`}
      <span class="pinned-host">Node host: ${pinnedId
        ? html`<strong>${pinned ? pinned.name : pinnedId.slice(0, 8)}</strong> <span class=${`status ${pinned ? pinned.status : ''}`}>${pinned ? pinned.status : 'unknown'}</span>`
        : 'not pinned yet (the first message picks one)'}</span>
    </div>
    ${truncated && html`<p class="hint">Showing the latest events of this session; earlier ones are not loaded.</p>`}
    ${pinnedOffline && html`<div class="notice" role="alert">
      <p>The pinned node host is offline. This session only runs there: start it again (<code>vespid-agent start</code> on its machine), or reset the node host so the next message picks another one.</p>
      <p class="actions"><button type="button" onClick=${resetHost} disabled=${busy === 'reset' || conn.status !== 'open'}>Reset node host</button></p>
    </div>`}

    <ol class="log" role="log" aria-live="polite" aria-label="Conversation">
      ${folded.items.map((it) => html`<${Item} key=${it.key} it=${it} hostName=${hostName} />`)}
      ${pending.map((p) => html`<li key=${p.key} class="msg user pending"><span class="who-line">You · ${conn.status === 'open' ? 'sending…' : 'waiting for the connection, will send once'}</span>${p.message}</li>`)}
    </ol>
    <div ref=${logEnd}></div>
    ${!joined && conn.status === 'open' && html`<p class="hint" role="status">Loading history…</p>`}
    ${notice && html`<p class="notice" role="status">${notice}</p>`}
    ${actionError && html`<${ErrorBox} error=${actionError}>
      ${actionError.code === 'PINNED_AGENT_OFFLINE' && html`<p class="actions"><button type="button" onClick=${resetHost} disabled=${busy === 'reset'}>Reset node host</button></p>`}
    <//>`}

    <form class="composer" onSubmit=${submit}>
      <label for="chat-input">Message</label>
      <textarea id="chat-input" name="message" rows="3" value=${draft}
        onInput=${(e) => setDraft(e.currentTarget.value)} onKeyDown=${onKey}
        placeholder="Write a message. Enter sends, Shift+Enter adds a line."></textarea>
      <p class="actions">
        <button type="submit" disabled=${!draft.trim()}>Send</button>
        ${running && html`<button type="button" class="danger" onClick=${stop} disabled=${busy === 'stop' || conn.status !== 'open'}>Stop</button>`}
        ${!running && lastFailed && folded.lastUserText && html`<button type="button" class="secondary" onClick=${retry}>Retry last message</button>`}
      </p>
    </form>
  </section>`;
}
