// The client as a package: its version and exports agree with package.json and the declarations.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as client from '../../../../webroot/js/switchboard.js';

const dir = new URL('../../../../webroot/js/', import.meta.url);

test('VERSION is the package.json version, and the package points at the module and its declarations', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
  assert.equal(client.VERSION, pkg.version);
  assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].default, './switchboard.js');
  assert.equal(pkg.exports['.'].types, './switchboard.d.ts');
});

test('every export of the module is declared in switchboard.d.ts, and nothing else', () => {
  const dts = readFileSync(new URL('switchboard.d.ts', dir), 'utf8');
  const declared = [...dts.matchAll(/^export declare (?:const|class|function) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(Object.keys(client).sort(), declared);
});
