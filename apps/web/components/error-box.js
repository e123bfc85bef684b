// An error as the gateway said it, plus what to do next. role="alert" so screen readers hear it.
import { html } from '../lib/html.js';
import { describe } from '../lib/errors.js';

export function ErrorBox({ error, next, children }) {
  if (!error) return null;
  const d = describe(error);
  return html`<div class="error-box" role="alert">
    <p><strong>${d.code}</strong>: ${d.message}</p>
    <p class="next">${next || d.next}</p>
    ${children}
  </div>`;
}
