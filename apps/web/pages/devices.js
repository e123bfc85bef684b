// Devices page: placeholder (a colleague builds it in this file).
import { html } from '../lib/html.js';

export default function DevicesPage({ params, auth }) {
  return html`<section aria-labelledby="page-h">
    <h1 id="page-h">Devices</h1>
    <p class="muted">This page is not built yet.</p>
  </section>`;
}
