// Sessions: list, filter, create; the onboarding card when no node host is online.
import { html } from '../lib/html.js';

export default function SessionsPage({ auth }) {
  return html`<section aria-labelledby="page-h"><h1 id="page-h">Sessions</h1><p class="muted">Coming next.</p></section>`;
}
