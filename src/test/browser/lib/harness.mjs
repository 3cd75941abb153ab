// Test harness: the real server jar in a child process (own ports, own data dir), Debian's
// Chromium driven by playwright-core, and a few waiting helpers.

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export { sleep };

/** The repository root (this file is src/test/browser/lib/harness.mjs). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const JAR = path.join(ROOT, 'target', 'switchboard-fat.jar');

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Screenshots go to target/ unless SCREENSHOTS_DIR says otherwise (`npm run screenshots`: docs/). */
export const SCREENSHOTS_DIR = path.resolve(process.env.SCREENSHOTS_DIR || path.join(ROOT, 'target', 'browser-screenshots'));

const live = new Set(); // child processes to kill if this test process goes away early

function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** The newest modification time of a file under `file` (a file or a directory). */
function newest(file) {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(file).map((name) => newest(path.join(file, name))));
}

/**
 * Builds the jar when it is missing or older than the server's sources (`.ci/run` builds it
 * before the browser tests). The pages are served from webroot/ itself, never from the jar.
 */
export function ensureJar() {
  const built = existsSync(JAR) ? statSync(JAR).mtimeMs : 0;
  const sources = Math.max(...['pom.xml', 'src/main', 'conf'].map((p) => newest(path.join(ROOT, p))));
  if (built > sources) return;
  const build = spawnSync('mvn', ['-q', '-B', '-ntp', '-DskipTests', 'package'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0 || !existsSync(JAR)) {
    throw new Error(`could not build ${JAR} (mvn exited with ${build.status})`);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory, removed by `cleanup()` unless KEEP_TEST_DIRS is set (server logs, store). */
export function tempDir(prefix = 'switchboard-browser-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => {
      if (process.env.KEEP_TEST_DIRS) {
        console.log(`# kept ${dir}`);
      } else {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * One Switchboard server process. Ports and data dir are fixed at construction, so `start()`
 * after `kill()` brings the same server back on the same port over the same store.
 */
export class Server {
  constructor({ dir, webroot = path.join(ROOT, 'webroot'), config = {} }) {
    this.dir = dir;
    this.dataDir = path.join(dir, 'data');
    this.webroot = webroot;
    this.extraConfig = config;
    this.child = null;
    this.starts = 0;
  }

  /** Picks free ports (first start only), starts the jar and waits until the store answers. */
  async start() {
    ensureJar();
    this.gatewayPort ??= await freePort();
    this.pushPort ??= await freePort();
    const config = {
      ...this.extraConfig,
      gateway: { host: '127.0.0.1', port: this.gatewayPort, webroot: this.webroot, ...this.extraConfig.gateway },
      push: {
        host: '127.0.0.1', port: this.pushPort, corsOrigins: [this.url, `http://localhost:${this.gatewayPort}`],
        ...this.extraConfig.push,
      },
      inbox: { dataDir: this.dataDir, ...this.extraConfig.inbox },
    };
    // SWITCHBOARD_* variables would override this config: keep the server to what the test says.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SWITCHBOARD_')));
    this.starts += 1;
    this.logFile = path.join(this.dir, `server-${this.starts}.log`);
    const log = createWriteStream(this.logFile);
    const child = spawn('java', ['-jar', JAR, '-conf', JSON.stringify(config)], {
      cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      live.delete(child);
      log.end();
      resolve({ code, signal });
    }));
    let output = '';
    const ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within 60 s:\n${output}`)), 60_000);
      const onData = (chunk) => {
        log.write(chunk);
        output += chunk;
        if (output.includes(`gateway listening on http://127.0.0.1:${this.gatewayPort}`)
            && output.includes(`push API listening on http://127.0.0.1:${this.pushPort}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${signal || code}) while starting:\n${output}`));
      });
    });
    await ready;
    await eventually(async () => {
      const res = await fetch(`${this.pushUrl}/health`);
      if (res.status !== 200) throw new Error(`health answered ${res.status}`);
    }, { timeout: 30_000, message: 'server health' });
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  get pushUrl() {
    return `http://127.0.0.1:${this.pushPort}`;
  }

  /** SIGKILL: a crash, no shutdown at all. */
  async kill() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, and SIGKILL if it has not stopped after 20 s. */
  async stop() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const patience = new AbortController();
    const stopped = await Promise.race([
      this.exited,
      sleep(20_000, null, { signal: patience.signal }).catch(() => null),
    ]);
    patience.abort(); // or the timer would keep this process alive for 20 s
    if (!stopped) await this.kill();
  }

  /** GET a user's presence from the push API. */
  async presence(user) {
    const res = await fetch(`${this.pushUrl}/api/v1/users/${encodeURIComponent(user)}/presence`);
    return res.json();
  }
}

/** Debian's Chromium, headless. */
export function launchChromium() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * A browser context (its own storage: one "person") whose pages fail the test on page errors
 * and dialogs. `problems` collects them; assert it is empty at the end.
 */
export async function newPerson(browser, { width = 1200, height = 750 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const problems = [];
  context.on('page', (page) => watch(page, problems));
  return { context, problems };
}

function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`unexpected ${d.type()} dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
}

/** Retries `check` (which throws until satisfied) until it passes or `timeout` ms pass; rethrows the last failure. */
export async function eventually(check, { timeout = 15_000, interval = 100, message } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() >= deadline) {
        if (message) e.message = `${message} (still failing after ${timeout} ms): ${e.message}`;
        throw e;
      }
    }
    await sleep(interval);
  }
}

/** Saves a PNG screenshot of `page` as NAME.png in SCREENSHOTS_DIR. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const file = path.join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** POSTs a push with curl, as a back end would; resolves with {status, json}. */
export function curlPush(server, payload, { idempotencyKey } = {}) {
  const args = ['-sS', '-X', 'POST', `${server.pushUrl}/api/v1/messages`, '-H', 'Content-Type: application/json',
    '-d', JSON.stringify(payload), '-w', '\n%{http_code}'];
  if (idempotencyKey) args.push('-H', `Idempotency-Key: ${idempotencyKey}`);
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`curl exited with ${code}: ${err}`));
        return;
      }
      const cut = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(cut + 1)), json: JSON.parse(out.slice(0, cut)) });
    });
  });
}

/**
 * One server (with its own temporary data dir) and one Chromium for a describe block: registers
 * the before/after hooks and returns the holder the tests read them from.
 */
export function serverAndBrowser() {
  const fx = {};
  before(async () => {
    fx.tmp = tempDir();
    fx.server = await new Server({ dir: fx.tmp.dir }).start();
    fx.browser = await launchChromium();
  });
  after(async () => {
    await fx.browser?.close();
    await fx.server?.stop();
    fx.tmp?.cleanup();
  });
  return fx;
}
