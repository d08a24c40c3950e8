// Where the things under test live, relative to this checkout.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(root, 'dist');
export const noticesDir = join(root, 'notices');
export const defaultNoticeFile = join(noticesDir, 'qualys-privacy-highlights.en.json');

function sri(buffer) {
  return `sha256-${createHash('sha256').update(buffer).digest('base64')}`;
}

let snapshot = null;

/**
 * A consistent copy of the built widget, taken once per test process: others may rebuild
 * `dist/` while the suite runs, and a script, wasm and hashes from different builds would
 * fail their integrity checks. Returns {dir, integrity, embeddedNoticeHash}; fails clearly
 * when `trunk build --release` has not run.
 */
export function distFiles() {
  if (snapshot) return snapshot;
  const script = join(dist, 'assent.js');
  const wasm = join(dist, 'assent_bg.wasm');
  if (!existsSync(script) || !existsSync(wasm)) {
    throw new Error(`the built widget is missing (${script} or ${wasm}): run \`trunk build --release\` in ${root} first`);
  }
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-dist-'));
    try {
      cpSync(dist, dir, { recursive: true });
    } catch (error) {
      // A build replacing dist/'s files as they were copied (a file gone under the copy).
      rmSync(dir, { recursive: true, force: true });
      if (attempt >= 20) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      continue;
    }
    const source = readFileSync(join(dir, 'assent.js'));
    const wasmSri = sri(readFileSync(join(dir, 'assent_bg.wasm')));
    const glueSri = sri(readFileSync(join(dir, 'assent_bg.js')));
    // The loader checks the glue and the wasm against the hashes built into it.
    if (source.includes(wasmSri) && source.includes(glueSri)) {
      process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      snapshot = {
        dir,
        integrity: { 'assent.js': sri(source), 'assent_bg.js': glueSri, 'assent_bg.wasm': wasmSri },
        // The wasm embeds the English notice; the loader keeps only a prefix of its hash.
        embeddedNoticeHash: noticeHash('qualys-privacy-highlights.en.json'),
      };
      return snapshot;
    }
    rmSync(dir, { recursive: true, force: true });
    if (attempt >= 20) throw new Error(`dist/assent.js, assent_bg.js and assent_bg.wasm are from different builds; rebuild with \`trunk build --release\``);
    // A build is writing dist/ right now: wait for it to finish.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

/** The default notice document as an object (a fresh copy each call). */
export function defaultNotice() {
  return JSON.parse(readFileSync(defaultNoticeFile, 'utf8'));
}

/**
 * The content hash of a notice document in `notices/`, as `assent-notice hash` computes it
 * (the release build compiles that tool to compute the loader's hashes).
 */
export function noticeHash(name) {
  // Where cargo builds it: CARGO_TARGET_DIR (relative to the repository, as cargo reads
  // it) or target/, as for the collector (harness/collector.js).
  const tool = join(resolve(root, process.env.CARGO_TARGET_DIR || 'target'), 'debug', 'assent-notice');
  if (!existsSync(tool)) throw new Error(`${tool} is missing: run \`trunk build --release\` in ${root} first`);
  return execFileSync(tool, ['hash', join(noticesDir, name)], { encoding: 'utf8' }).trim();
}
