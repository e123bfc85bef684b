// A live tail of the gateway's log (logs.tail, then `log` events; logs.untail on leaving).
// Pause keeps new lines aside and shows how many; resume adds them. A level filter hides lines
// below the chosen level. At most MAX lines are kept, so a long session does not grow the page.

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { ErrorBox } from './error-box.js';

export const MAX = 1000;
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
const rank = (l) => {
  const i = LEVELS.indexOf(String(l || 'info').toLowerCase().replace(/^warning$/, 'warn').replace(/^err$/, 'error'));
  return i < 0 ? 2 : i;
};

let nextKey = 1;

export function LogTail({ op, opStatus }) {
  const [lines, setLines] = useState([]);
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState(0);
  const [level, setLevel] = useState('debug');
  const [error, setError] = useState(null);
  const [dropped, setDropped] = useState(0);
  const pausedRef = useRef(false);
  const heldRef = useRef([]);
  const listRef = useRef(null);
  const stick = useRef(true);

  const add = (batch) => {
    if (!batch.length) return;
    const withKeys = batch.map((l) => ({ ...l, key: nextKey++ }));
    if (pausedRef.current) {
      heldRef.current = [...heldRef.current, ...withKeys].slice(-MAX);
      setHeld(heldRef.current.length);
      return;
    }
    setLines((prev) => {
      const next = prev.concat(withKeys);
      return next.length > MAX ? next.slice(next.length - MAX) : next;
    });
  };

  useEffect(() => {
    const off = op.on('log', (p) => {
      if (!p) return;
      if (p.dropped) setDropped((d) => d + p.dropped);
      add([p]);
    });
    return () => {
      off();
      if (op.status === 'open') op.call('logs.untail').catch(() => {});
    };
  }, [op]);

  // (Re)subscribe whenever the socket opens: a new connection has no tail.
  useEffect(() => {
    if (opStatus !== 'open') return;
    setError(null);
    op.call('logs.tail', { limit: 200 }).then(
      ({ lines: first }) => {
        setLines((prev) => {
          // After a reconnect the backlog overlaps what is shown: keep only newer lines.
          const last = prev.length ? prev[prev.length - 1].ts : null;
          const fresh = (first || []).filter((l) => !last || l.ts > last).map((l) => ({ ...l, key: nextKey++ }));
          const next = prev.concat(fresh);
          return next.length > MAX ? next.slice(next.length - MAX) : next;
        });
      },
      (e) => setError(e),
    );
  }, [opStatus]);

  // Follow the bottom unless the reader scrolled up.
  useEffect(() => {
    const el = listRef.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines, level]);

  const togglePause = () => {
    if (pausedRef.current) {
      pausedRef.current = false;
      setPaused(false);
      const h = heldRef.current;
      heldRef.current = [];
      setHeld(0);
      setLines((prev) => {
        const next = prev.concat(h);
        return next.length > MAX ? next.slice(next.length - MAX) : next;
      });
    } else {
      pausedRef.current = true;
      setPaused(true);
    }
  };

  const min = rank(level);
  const shown = lines.filter((l) => rank(l.level) >= min);

  return html`<section class="card log-tail" aria-labelledby="logs-h">
    <div class="page-head">
      <h2 id="logs-h">Log</h2>
      <div class="log-controls">
        <label for="log-level" class="inline-label">Level</label>
        <select id="log-level" value=${level} onChange=${(e) => setLevel(e.currentTarget.value)}>
          <option value="debug">all (debug and up)</option>
          <option value="info">info and up</option>
          <option value="warn">warnings and errors</option>
          <option value="error">errors only</option>
        </select>
        <button type="button" class="secondary" aria-pressed=${paused ? 'true' : 'false'} onClick=${togglePause}>${paused ? 'Resume' : 'Pause'}</button>
        <button type="button" class="secondary" onClick=${() => setLines([])}>Clear</button>
      </div>
    </div>
    <p class="hint log-summary" role="status">${paused
      ? `Paused: ${held} new line${held === 1 ? '' : 's'} held back; resume to see them.`
      : opStatus === 'open' ? `Following the gateway's log: ${shown.length} of the last ${lines.length} lines shown (at most ${MAX} kept).` : 'Reconnecting to the gateway; the tail resumes when it is back.'}
      ${dropped > 0 ? ` ${dropped} lines were dropped by the gateway because this page fell behind.` : ''}</p>
    ${error && html`<${ErrorBox} error=${error} />`}
    <ol class="log-lines" ref=${listRef} aria-label="Gateway log lines" tabindex="0"
      onScroll=${(e) => { const el = e.currentTarget; stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 30; }}>
      ${shown.map((l) => html`<li key=${l.key} class=${`log-line lv-${String(l.level || 'info').toLowerCase()}`}>
        <span class="log-ts">${fmtTs(l.ts)}</span> <span class="log-level">${l.level}</span> <span class="log-comp">${l.component}</span> <span class="log-msg">${l.message}</span>
      </li>`)}
    </ol>
  </section>`;
}

function fmtTs(ts) {
  if (ts === undefined || ts === null) return '';
  const d = typeof ts === 'number' ? new Date(ts) : new Date(Date.parse(ts));
  if (Number.isNaN(d.getTime())) return String(ts);
  return d.toLocaleTimeString(undefined, { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
