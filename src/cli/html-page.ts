import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** What the self-contained HTML pages (the tuning plot, the load timeline) share: uPlot inlined, and safe text. */

/** uPlot's browser build and stylesheet, from the installed package, to inline so the page works offline. */
export function uPlotAssets(): { script: string; css: string } {
  const require = createRequire(import.meta.url);
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * JSON that can sit inside a <script> element: `<`, `>` and `&` are written as \u escapes (JSON.parse reads
 * them back unchanged), so no value can close the element or open a comment; U+2028/9 likewise, for old parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The opening of a self-contained page up to its <body>: charset, viewport, the offline CSP, the title and `styles`. */
export function pageHead(title: string, styles: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${OFFLINE_CSP}">
<title>${escapeHtml(title)}</title>
${styles.map((css) => `<style>${css}</style>`).join('\n')}
</head>
<body>`;
}

/** No network, no other origin: everything the page runs or shows is in the file. */
export const OFFLINE_CSP = `default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:`;
