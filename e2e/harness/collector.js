// The collector as a child process on a fresh SQLite file, on a free loopback port, which
// harness/socket-holder.py holds for it (as systemd's socket activation does), so that a
// restart keeps the port.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { root } from './paths.js';

const holder = new URL('./socket-holder.py', import.meta.url).pathname;

const run = promisify(execFile);
// Where cargo builds it: CARGO_TARGET_DIR (relative to the repository, as cargo reads it) or target/.
export const binary = join(resolve(root, process.env.CARGO_TARGET_DIR || 'target'), 'debug', 'assent-collector');

let pinned = null;

/**
 * Builds the collector (a binary left from before a change to the collector's source would
 * be tested otherwise) as scripts/test.sh's `cargo test` builds it, with the same crates
 * and so the same features, so that after it there is nothing to do (`cargo build -p
 * assent-collector` alone would build it anew without the test dependencies' features),
 * then pins this process to that build (a hard link, or a copy), so a rebuild while the
 * suite runs can't swap the binary under a scenario.
 */
export function ensureCollectorBinary() {
  if (pinned) return pinned;
  const args = ['test', '--quiet', '--workspace', '--exclude', 'assent', '--no-run'];
  const built = spawnSync('cargo', args, { cwd: root, stdio: 'inherit' });
  if (built.status !== 0 || !existsSync(binary)) {
    throw new Error(`could not build the collector (cargo ${args.join(' ')} exited ${built.status})`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-bin-'));
  const copy = join(dir, 'assent-collector');
  try { linkSync(binary, copy); } catch { copyFileSync(binary, copy); }
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  pinned = copy;
  return pinned;
}

const LOG_LIMIT = 200_000;

/** The admin key every e2e collector accepts (`--admin-keys`). */
export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdefghijklmnopqrstuv';

/**
 * Starts `assent-collector serve` on a socket the holder listens on. Options:
 * `allowedOrigins` (required), `listen` (default `127.0.0.1:0`), `staticDir`, `ratePerIp`
 * (POSTs per minute; default 0, off), `webhook` (a receiver from harness/webhooks.js:
 * changes are POSTed to it, signed). Resolves once it prints its address.
 */
export async function startCollector({ allowedOrigins, listen = '127.0.0.1:0', staticDir, ratePerIp = 0, webhook } = {}) {
  const collector = ensureCollectorBinary();
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-'));
  const database = `sqlite:${join(dir, 'assent.db')}`;
  const receiptKey = join(dir, 'receipt.key');
  const subjectKey = join(dir, 'subject.key');
  const linkKey = join(dir, 'link.key');
  const adminKeys = join(dir, 'admin.keys');
  writeFileSync(adminKeys, `${ADMIN_KEY}\n`, { mode: 0o600 });
  const args = [
    'serve', '--database', database, '--listen', listen, '--receipt-key', receiptKey,
    '--subject-key', subjectKey, '--link-key', linkKey, '--admin-keys', adminKeys,
    '--allowed-origins', allowedOrigins.join(','),
    // Every test POST comes from 127.0.0.1: no per-IP limit unless a scenario asks for one.
    '--rate-per-ip', String(ratePerIp), '--rate-per-site', '0',
  ];
  if (staticDir) args.push('--static-dir', staticDir);
  if (webhook) args.push('--webhook-url', webhook.url, '--webhook-secret-file', webhook.secretFile);
  // The holder's stdin takes "restart"; its output is the collector's.
  const child = spawn('python3', [holder, listen, collector, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info,tower_http=debug' },
    stdio: ['pipe', 'pipe', 'pipe'],
    // A process group of their own: a SIGKILL reaches the collector too, not the holder alone.
    detached: true,
  });
  const killAll = () => {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  };
  let log = '';
  const append = (chunk) => {
    // eslint-disable-next-line no-control-regex
    log += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  // The address each collector process printed once it listened, in order.
  const announced = [];
  let partial = '';
  child.stdout.on('data', (chunk) => {
    append(chunk);
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      const match = line.match(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      if (match) announced.push(match[1]);
    }
  });
  child.stderr.on('data', append);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  // The address the process after the first `earlier` ones prints.
  const announcement = (earlier) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error('the collector did not print its address within 15 s')), 15_000);
    const poll = setInterval(() => {
      if (announced.length > earlier) done(null, announced[earlier]);
    }, 20);
    exited.then(({ code, signal }) => done(new Error(`the collector exited early (code ${code}, signal ${signal})`)));
    let settled = false;
    function done(error, value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      if (error) reject(new Error(`${error.message}\n--- collector log ---\n${log}`));
      else resolve(value);
    }
  });

  const origin = await announcement(0).catch((error) => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });

  const cli = async (...cliArgs) => {
    const { stdout } = await run(collector, cliArgs, { cwd: dir, timeout: 15_000 });
    return stdout;
  };
  return {
    origin,
    endpoint: `${origin}/v1/records`,
    database,
    binary: collector,
    subjectKey,
    linkKey,
    adminKey: ADMIN_KEY,
    /** The directory of the database and key files. */
    dir,
    /** The receipt key file (a ring; `keygen --rotate` adds to it). */
    receiptKey,
    log: () => log,
    /** `assent-collector ARGS…` with this collector's files; resolves to its stdout. */
    cli,
    /**
     * `assent-collector link`: a signed manage link for `email` on `site`, opened at `page`.
     * Resolves to its JSON: {token, manage_url, unsubscribe_url, expires_at, …}.
     */
    async link({ email, site, page, ttl, purpose, linkKey: key = linkKey }) {
      const extra = [];
      if (ttl) extra.push('--ttl', ttl);
      if (purpose) extra.push('--purpose', purpose);
      const out = await cli('link', '--email', email, '--site', site, '--page', page, '--public-url', origin,
        '--database', database, '--subject-key', subjectKey, '--link-key', key,
        '--allowed-origins', allowedOrigins.join(','), ...extra);
      return JSON.parse(out.trim());
    },
    /** `assent-collector preferences --email`: the person's standing preferences. */
    async preferences(email) {
      return JSON.parse((await cli('preferences', '--email', email, '--database', database, '--subject-key', subjectKey)).trim());
    },
    /** `GET /v1/changes` with the admin key. */
    async changes(after = 0) {
      const response = await fetch(`${origin}/v1/changes?after=${after}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      if (!response.ok) throw new Error(`GET /v1/changes answered ${response.status}: ${await response.text()}`);
      return response.json();
    },
    /** Every stored row, as `export` prints it: {seq, received_at, record, chain_hash, ...}. */
    async rows() {
      const { stdout } = await run(collector, ['export', '--database', database], { cwd: dir, timeout: 15_000 });
      return stdout.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
    },
    /** Just the stored records. */
    async records() {
      return (await this.rows()).map((row) => row.record);
    },
    /**
     * Polls the export until `until(records)` is true (default: at least `count` records),
     * or fails after `timeout` ms with what the database holds.
     */
    async waitForRecords({ count = 1, until, timeout = 15_000, interval = 150 } = {}) {
      const check = until || ((records) => records.length >= count);
      const deadline = Date.now() + timeout;
      let records = [];
      for (;;) {
        records = await this.records();
        if (check(records)) return records;
        if (Date.now() >= deadline) {
          throw new Error(
            `the database did not reach the expected state within ${timeout} ms; it holds ${records.length} record(s): ${JSON.stringify(records)}`,
          );
        }
        await new Promise((r) => setTimeout(r, interval));
      }
    },
    /** `verify` with the receipt key: the chain and every receipt check out. */
    async verify() {
      try {
        const { stdout } = await run(collector, ['verify', '--database', database, '--receipt-key', receiptKey], { cwd: dir, timeout: 15_000 });
        return JSON.parse(stdout.trim().split('\n').pop());
      } catch (error) {
        return { ok: false, reason: `${error.message} ${error.stdout || ''}` };
      }
    },
    /** SIGTERM to the holder, which stops the collector; then the files go. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(killAll, 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    /**
     * Stops the collector process (SIGTERM) and starts another on the same socket, database
     * and key files; resolves with this handle once the new one listens. The holder keeps
     * the socket listening in between: requests made then wait for the new process.
     */
    async restart() {
      const earlier = announced.length;
      child.stdin.write('restart\n');
      const again = await announcement(earlier);
      if (again !== origin) throw new Error(`the restarted collector listens on ${again}, not ${origin}`);
      return this;
    },
  };
}
