/**
 * The demo texts, split the way the fit and the evaluation read them: one
 * sequence per sentence (markdown headings count as sentences), each framed by
 * <s> … </s> for training.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEXTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'texts');

export function readText(name: 'corpus.md' | 'document.md' | 'heldout.md'): string {
  return readFileSync(join(TEXTS_DIR, name), 'utf8');
}

export function splitSentences(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.split(/\n\s*\n/)) {
    const text = block.replace(/\s+/g, ' ').trim();
    if (!text) continue;
    if (text.startsWith('#')) {
      out.push(text.replace(/^#+\s*/, ''));
      continue;
    }
    for (const s of text.split(/(?<=[.!?])\s+(?=[A-Z0-9"'])/)) if (s.trim()) out.push(s.trim());
  }
  return out;
}

/** Held-out generic sentences: one per line. */
export function heldOutSentences(): string[] {
  return readText('heldout.md')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
