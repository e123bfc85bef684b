// Hooks shared by the devices and health pages: one OperatorSocket per page (opened on mount,
// closed on unmount) with its connection status, and a clock that ticks so "3 min ago" stays
// true without a reload.

import { html, useEffect, useRef, useState } from '../lib/html.js';
import { OperatorSocket } from '../lib/operator-socket.js';

/** [op, status]: status is 'connecting' | 'open' | 'closed' (closed: reconnecting with backoff). */
export function useOperator() {
  const ref = useRef(null);
  if (!ref.current) ref.current = new OperatorSocket();
  const [status, setStatus] = useState('connecting');
  useEffect(() => {
    const op = ref.current;
    const off = op.onStatus((s) => setStatus(s));
    op.start();
    return () => {
      off();
      op.stop();
    };
  }, []);
  return [ref.current, status];
}

/** Date.now(), refreshed every `ms` while `on`. */
export function useNow(ms, on = true) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return undefined;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms, on]);
  return now;
}

/** One line saying whether live updates work (a polite status region). */
export function LiveLine({ status, fallback }) {
  let text;
  let cls = status;
  if (status === 'open') text = 'Live: changes appear as they happen.';
  else if (status === 'connecting') text = 'Connecting for live updates…';
  else {
    text = fallback || 'Live updates lost; reconnecting.';
    cls = 'closed';
  }
  return html`<p class="live-line" role="status"><span class=${`status ${cls}`}>${text}</span></p>`;
}

/** "12:04:05 (3 min ago)" for a timestamp, or '' when there is none. */
export function when(iso, now) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  const d = new Date(t);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  const abs = sameDay ? d.toLocaleTimeString() : d.toLocaleString();
  return `${abs} (${ago(t, now)})`;
}

export function ago(t, now) {
  const s = Math.round((now - t) / 1000);
  if (s < -5) return `in ${fmtDur(-s * 1000)}`;
  if (s < 5) return 'just now';
  return `${fmtDur(s * 1000)} ago`;
}

/** 3 s, 4 min, 2 h 5 min, 3 d 4 h */
export function fmtDur(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 && m < 5 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}
