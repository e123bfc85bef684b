// Small helpers shared by pages.

/** A random uuid; crypto.randomUUID needs a secure context (https or loopback), this does not. */
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** "3 min ago", "in 14 min", else a date. */
export function relTime(iso, now = Date.now()) {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((t - now) / 1000);
  const a = Math.abs(s);
  const f = (n, u) => (s < 0 ? `${n} ${u} ago` : `in ${n} ${u}`);
  if (a < 45) return s < 0 ? 'just now' : 'in a few seconds';
  if (a < 3600) return f(Math.round(a / 60), 'min');
  if (a < 86400) return f(Math.round(a / 3600), 'h');
  return new Date(t).toLocaleString();
}

/** Copies text; falls back to a hidden textarea where the Clipboard API is not allowed. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall back */ }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'visually-hidden';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function isAdmin(auth) {
  const org = auth.orgs.find((o) => o.id === auth.orgId);
  return !!org && (org.role === 'owner' || org.role === 'admin');
}
