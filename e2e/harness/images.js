// Comparing screenshots of the widget.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { PNG } from 'pngjs';

import { root } from './paths.js';

/**
 * Compares two PNG buffers. Returns {width, height, differing, fraction}: pixels whose
 * largest channel difference exceeds `threshold` count as differing.
 */
export function comparePng(a, b, { threshold = 24 } = {}) {
  const left = PNG.sync.read(a);
  const right = PNG.sync.read(b);
  if (left.width !== right.width || left.height !== right.height) {
    return { sameSize: false, sizes: [`${left.width}x${left.height}`, `${right.width}x${right.height}`], fraction: 1 };
  }
  let differing = 0;
  for (let i = 0; i < left.data.length; i += 4) {
    let worst = 0;
    for (let c = 0; c < 4; c++) worst = Math.max(worst, Math.abs(left.data[i + c] - right.data[i + c]));
    if (worst > threshold) differing++;
  }
  const pixels = left.width * left.height;
  return { sameSize: true, width: left.width, height: left.height, differing, fraction: differing / pixels };
}

/** Keeps screenshots of a failed comparison in e2e/test-results/ (ignored by git). */
export function keep(name, buffers) {
  const dir = join(root, 'e2e', 'test-results');
  mkdirSync(dir, { recursive: true });
  const paths = [];
  for (const [label, buffer] of Object.entries(buffers)) {
    const path = join(dir, `${name}-${label}.png`);
    writeFileSync(path, buffer);
    paths.push(path);
  }
  return paths;
}
