/** The building blocks report.html's sections share: figure cards, captioned figures, inline code. */
import { escapeHtml as esc } from './format.js';

export function card(k: string, v: string, s: string, cls = ''): string {
  return `<div class="card ${cls}"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="s">${esc(s)}</div></div>`;
}

export function figure(caption: string, sub: string, svg: string): string {
  return `<figure><figcaption>${esc(caption)}${sub ? ` <span class="sub">${esc(sub)}</span>` : ''}</figcaption>${svg}</figure>`;
}

/** Renders inline code spans written as `…` in our own (already escaped) text. */
export function codeSpans(escaped: string): string {
  return escaped.replace(/`([^`]+)`/g, '<code>$1</code>');
}
