// One session's chat.
import { html } from '../lib/html.js';

export default function ChatPage({ params }) {
  return html`<section aria-labelledby="page-h"><h1 id="page-h">Session ${params.id}</h1><p class="muted">Coming next.</p></section>`;
}
