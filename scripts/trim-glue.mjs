// Build step (scripts/bundle.sh): two parts of wasm-bindgen's glue that every visitor
// downloads and the loader never needs, replaced. It fails if the glue does not hold them
// exactly as expected, so a wasm-bindgen upgrade can't skip it silently.
// - `initSync` (compiling the wasm on the main thread) is exported but never called: the
//   loader streams the wasm. Unexported, the minifier drops it.
// - `debugString` writes a JavaScript value for `{:?}` in Rust, which only panic messages
//   do (yew's `unwrap`s on DOM calls). It walks arrays, objects and errors in 1.3 KB; the
//   value's own `String()` says enough there, for 230 fewer brotli bytes.
//
// Usage: node scripts/trim-glue.mjs GLUE.js
import { readFileSync, writeFileSync } from 'node:fs';

const [gluePath] = process.argv.slice(2);
const fail = (message) => {
  console.error(`trim-glue: ${message}`);
  process.exit(1);
};
if (!gluePath) fail('usage: trim-glue.mjs GLUE.js');
let glue = readFileSync(gluePath, 'utf8');

const exportsLine = 'return Object.assign(__wbg_init, { initSync }, exports);';
if (glue.split(exportsLine).length !== 2) fail('the glue does not export initSync as expected');
glue = glue.replace(exportsLine, 'return Object.assign(__wbg_init, exports);');

const start = glue.indexOf('    function debugString(val) {\n');
const end = glue.indexOf('\n    }\n', start);
if (start < 0 || end < 0 || glue.indexOf('function debugString(', start + 20) >= 0) {
  fail('the glue does not define debugString as expected');
}
glue = glue.slice(0, start) + `    function debugString(val) {
        try { return typeof val === 'string' ? JSON.stringify(val) : String(val); } catch (e) { return typeof val; }` +
  glue.slice(end);
writeFileSync(gluePath, glue);
