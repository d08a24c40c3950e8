// Exits 0 when every package DIR/package-lock.json names is installed in DIR/node_modules
// at the version the lock pins, 1 otherwise (then `npm ci` is due): a lock moved to a new
// version is installed on a machine that has the old one.
//   node scripts/npm-ready.mjs DIR
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
for (const [path, meta] of Object.entries(lock.packages ?? {})) {
  if (!path.startsWith('node_modules/') || meta.link) continue;
  let installed = null;
  try {
    installed = JSON.parse(readFileSync(join(dir, path, 'package.json'), 'utf8')).version;
  } catch {
    // One for another platform, or an optional peer, is not installed here.
    if (meta.optional || meta.peer) continue;
  }
  if (installed !== meta.version) process.exit(1);
}
