// Where the things under test live, relative to this checkout.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = join(root, 'dist');
export const noticesDir = join(root, 'notices');
export const defaultNoticeFile = join(noticesDir, 'qualys-privacy-highlights.en.json');

/** The built widget's files, or a clear failure when `trunk build --release` has not run. */
export function distFiles() {
  const script = join(dist, 'assent.js');
  const integrityFile = join(dist, 'integrity.json');
  if (!existsSync(script) || !existsSync(integrityFile)) {
    throw new Error(
      `the built widget is missing (${script} or ${integrityFile}): run \`trunk build --release\` in ${root} first`,
    );
  }
  const integrity = JSON.parse(readFileSync(integrityFile, 'utf8'));
  const source = readFileSync(script, 'utf8');
  // The loader carries the embedded notice's hash (records made under it carry the same).
  const hash = source.match(/sha256:[0-9a-f]{64}/);
  return { integrity, embeddedNoticeHash: hash ? hash[0] : null };
}

/** The default notice document as an object (a fresh copy each call). */
export function defaultNotice() {
  return JSON.parse(readFileSync(defaultNoticeFile, 'utf8'));
}
