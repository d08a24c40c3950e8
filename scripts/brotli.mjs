// Brotli for the files a visitor downloads: quality 11 with each of a few encoder settings
// (block size, direct distance codes), keeping the smallest, which any brotli decoder
// reads. One setting alone left the wasm's size to chance: binaryen's function order, or a
// one-byte change, moved its `brotli -q 11` size by up to 200 B either way, and the
// smallest of these settings by some 10 B (two builds a byte apart: 110,618 and 110,779 B
// by default, 110,533 and 110,540 B at best).
//   node scripts/brotli.mjs FILE...        writes FILE.br beside each (as `brotli -k -f`)
//   node scripts/brotli.mjs --size FILE    prints the smallest size, writes nothing
// bench/widgets/server.js compresses the other widgets' files with it too.
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const LGBLOCKS = [0, 16, 20]; // 0: the encoder's own choice, as `brotli -q 11`
const NDIRECTS = [0, 4, 8, 12, 16];

/** `bytes` compressed at quality 11, the smallest of the settings tried. */
export function smallest(bytes) {
  let best = null;
  for (const lgblock of LGBLOCKS) {
    for (const ndirect of NDIRECTS) {
      const compressed = brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_LGBLOCK]: lgblock,
          [constants.BROTLI_PARAM_NDIRECT]: ndirect,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      });
      if (best === null || compressed.length < best.length) best = compressed;
    }
  }
  if (!brotliDecompressSync(best).equals(bytes)) throw new Error('brotli.mjs: the compressed bytes do not read back');
  return best;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0] === '--size') {
    console.log(smallest(readFileSync(args[1])).length);
  } else {
    for (const file of args) writeFileSync(`${file}.br`, smallest(readFileSync(file)));
  }
}
