// The seed page: the chat page printed in the first source article (../shared/seeds/), which
// must keep working against Switchboard. It is not part of this repository: the test extracts
// it from the article at run time and serves it, with the jQuery it loads, from a temp dir.

import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from './harness.mjs';

export const SEED_ARTICLE = path.resolve(ROOT, '..', 'shared', 'seeds', '000_34852032dacb2975.txt');
export const SEED_PAGE = 'seed.html';

/** Why the seed page cannot be tested here, or null when it can. */
export function seedUnavailable() {
  return existsSync(SEED_ARTICLE)
    ? null
    : `seed article not found at ${SEED_ARTICLE}: the seed page test runs only where ../shared is beside the clone (CI)`;
}

/**
 * The page's HTML, from `<!DOCTYPE html>` to `</html>`, with the article's artifacts removed:
 * line-number prefixes (when every line has one) and the no-break spaces that stand for the
 * indentation. Nothing else is changed.
 */
export function extractSeedPage(text) {
  const start = text.search(/<!DOCTYPE html>/i);
  const end = text.indexOf('</html>', start);
  if (start < 0 || end < 0) {
    throw new Error('the seed article holds no <!DOCTYPE html> ... </html> block');
  }
  // Back to the start of the line, in case the block's first line has a line-number prefix.
  const from = text.lastIndexOf('\n', start) + 1;
  let lines = text.slice(from, end + '</html>'.length).split(/\r?\n/);
  const numbered = /^\s*\d+[.:)]?[ \t\u00a0]/;
  if (lines.every((line) => line.trim() === '' || numbered.test(line))) {
    lines = lines.map((line) => line.replace(numbered, ''));
  }
  lines = lines.map((line) => line.replace(/^[\s\u00a0]+/, (indent) => indent.replace(/\u00a0/g, ' ')));
  return lines.join('\n') + '\n';
}

/** Writes the seed page (as seed.html) and jquery-1.11.3.min.js into `dir`. */
export function writeSeedSite(dir) {
  writeFileSync(path.join(dir, SEED_PAGE), extractSeedPage(readFileSync(SEED_ARTICLE, 'utf8')));
  const require = createRequire(import.meta.url);
  const jquery = require.resolve('jquery/dist/jquery.min.js');
  copyFileSync(jquery, path.join(dir, 'jquery-1.11.3.min.js'));
}
