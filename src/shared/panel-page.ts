/**
 * The HTML document of the probe panel, shared by the VS Code webview (script and style loaded
 * through asWebviewUri) and the self-contained report (both inlined). One strict CSP: nothing runs
 * or styles the page without the nonce, and nothing is fetched from anywhere but `resourceOrigin`.
 */
import type { ProbeResult } from './probe';
import { emptyPanelState, type PanelState } from './webview-messages';

export interface PanelPageInput {
  nonce: string;
  title: string;
  /** Webview: `webview.cspSource`; the standalone report: null (everything is inline). */
  resourceOrigin: string | null;
  script: { uri: string } | { inline: string };
  style: { uri: string } | { inline: string };
  /** Baked into the page for the standalone report; the webview gets its state by message instead. */
  initialState: PanelState | null;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON that is safe inside a <script type="application/json"> element (no "</script>", no "<!--"). */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Inline code must not close its own element early. */
function inlineSafe(code: string, element: 'script' | 'style'): string {
  return code.replace(new RegExp(`</${element}`, 'gi'), `<\\/${element}`);
}

export function panelPageHtml(input: PanelPageInput): string {
  const { nonce } = input;
  const origin = input.resourceOrigin ? ` ${input.resourceOrigin}` : '';
  const csp = [
    "default-src 'none'",
    `img-src${origin} data: blob:`,
    `style-src${origin} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src${origin}`,
  ].join('; ');
  const style = 'uri' in input.style
    ? `<link rel="stylesheet" nonce="${nonce}" href="${escapeHtmlText(input.style.uri)}">`
    : `<style nonce="${nonce}">${inlineSafe(input.style.inline, 'style')}</style>`;
  const script = 'uri' in input.script
    ? `<script nonce="${nonce}" src="${escapeHtmlText(input.script.uri)}"></script>`
    : `<script nonce="${nonce}">${inlineSafe(input.script.inline, 'script')}</script>`;
  const state = input.initialState ? `<script type="application/json" id="gl-initial-state">${jsonForScriptElement(input.initialState)}</script>\n` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtmlText(input.title)}</title>
${style}
</head>
<body>
<main id="gl-root" aria-live="polite"><p class="gl-empty">Run “Probe gradients” above a model to see its gradient flow here.</p></main>
${state}${script}
</body>
</html>
`;
}

/** 32 hex characters from a CSPRNG-quality source supplied by the caller (node:crypto or window.crypto). */
export function nonceFrom(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The self-contained report: the panel's own bundle and stylesheet inlined, the result baked in.
 * The CLI (`probe --html`) and the panel's "Export HTML" both write this.
 */
export function reportPageHtml(result: ProbeResult, bundle: { script: string; style: string }, nonce: string): string {
  return panelPageHtml({
    nonce,
    title: `Gradient Lens probe: ${result.model.name}`,
    resourceOrigin: null,
    script: { inline: bundle.script },
    style: { inline: bundle.style },
    initialState: { ...emptyPanelState(), result },
  });
}
