// Brotli for the files a visitor downloads: quality 11 with each of a few encoder settings
// (block size, distance codes, and for small files the window), keeping the smallest, which
// any brotli decoder reads. One setting alone left the wasm's size to chance: binaryen's function order, or a
// one-byte change, moved its `brotli -q 11` size by up to 200 B either way, and the
// smallest of these settings by some 10 B (two builds a byte apart: 110,618 and 110,779 B
// by default, 110,533 and 110,540 B at best).
//   node scripts/brotli.mjs FILE...        writes FILE.br beside each (as `brotli -k -f`)
//   node scripts/brotli.mjs --size FILE    prints the smallest size, writes nothing
// bench/widgets/server.js compresses the other widgets' files with it too.
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const LGBLOCKS = [0, 16, 20]; // 0: the encoder's own choice, as `brotli -q 11`
const NDIRECTS = [0, 4, 8, 12]; // times 2 ** npostfix; at most 15 times
// A file that fits a 64 KiB window (assent.js, the glue, a language file) is also tried with
// that window and one distance postfix bit: 9 B off assent.js and 5 B off the glue; neither
// ever helped the wasm, whose 12 settings take 8 s already.
const SMALL = (1 << 16) - 16;

/** `bytes` compressed at quality 11, the smallest of the settings tried. */
export function smallest(bytes) {
  const small = bytes.length <= SMALL;
  let best = null;
  for (const lgwin of small ? [16, 22] : [22]) {
    for (const npostfix of small ? [0, 1] : [0]) {
      for (const lgblock of LGBLOCKS) {
        for (const ndirect of NDIRECTS) {
          const compressed = brotliCompressSync(bytes, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 11,
              [constants.BROTLI_PARAM_LGWIN]: lgwin,
              [constants.BROTLI_PARAM_LGBLOCK]: lgblock,
              [constants.BROTLI_PARAM_NPOSTFIX]: npostfix,
              [constants.BROTLI_PARAM_NDIRECT]: ndirect << npostfix,
              [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
            },
          });
          if (best === null || compressed.length < best.length) best = compressed;
        }
      }
    }
  }
  if (!brotliDecompressSync(best).equals(bytes)) throw new Error('brotli.mjs: the compressed bytes do not read back');
  return best;
}

// Run, not imported (the bench imports it); node resolves the symbolic links on the way to
// the module it runs, so the path it was given is resolved too.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === '--size') {
    console.log(smallest(readFileSync(args[1])).length);
  } else {
    for (const file of args) writeFileSync(`${file}.br`, smallest(readFileSync(file)));
  }
}
