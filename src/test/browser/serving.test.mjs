// How the gateway serves the client module and the pages: compressed when the browser asks,
// and revalidated on every load, so a new client version is picked up at once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import path from 'node:path';
import { ROOT, Server, tempDir } from './lib/harness.mjs';

/** A plain GET (fetch() would add its own cache headers to a conditional request): resolves with the status. */
function status(url, headers) {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject);
  });
}

describe('the gateway serving webroot/js', () => {
  let tmp;
  let server;
  before(async () => {
    tmp = tempDir();
    server = await new Server({ dir: tmp.dir }).start();
  });
  after(async () => {
    await server?.stop();
    tmp?.cleanup();
  });

  test('the module comes gzip-compressed, must be revalidated, and answers 304 when unchanged', async () => {
    const url = `${server.url}/js/switchboard.js`;
    const res = await fetch(url, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    assert.match(res.headers.get('content-type'), /javascript/);
    assert.match(res.headers.get('cache-control'), /max-age=0\b/);
    assert.equal(await res.text(), readFileSync(path.join(ROOT, 'webroot', 'js', 'switchboard.js'), 'utf8'));
    assert.equal(await status(url, { 'If-Modified-Since': res.headers.get('last-modified') }), 304);
  });

  test('the package files are served beside it', async () => {
    for (const file of ['package.json', 'switchboard.d.ts']) {
      const res = await fetch(`${server.url}/js/${file}`);
      assert.equal(res.status, 200, file);
      await res.arrayBuffer();
    }
  });
});
