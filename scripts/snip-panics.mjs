// Build step (scripts/bundle.sh), before the wasm's names are dropped: every panic's path
// (core::panicking and the functions that only fail into it) is cut to a bare `unreachable`,
// and the -Oz after it drops the code only a panic reached: the formatting and Yew's
// console_error_panic_hook with its three imports (7.0 KB raw, 2.9 KB brotli, measured on
// 2026-12-06; the messages' text stays in the data, which no tool can tell unused). A panic
// (or running out of memory) is a bug, and the wasm aborts on one either way (panic = abort
// on wasm32): it now traps at once ("RuntimeError: unreachable", which the loader reports if it happens while starting)
// instead of first printing Rust's message to the console. The Rust and WebAssembly book's
// "Shrinking .wasm size" does the same with wasm-snip; this uses binaryen.js instead, the
// library of the wasm-opt the build already runs, rather than one more tool to install.
// Debug builds and the wasm tests (wasm-pack test) keep the messages.
//
// Usage: node scripts/snip-panics.mjs WASM (rewritten in place; it must have its names)
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const fail = (message) => {
  console.error(`snip-panics: ${message}`);
  process.exit(1);
};
const [wasmPath] = process.argv.slice(2);
if (!wasmPath) fail('usage: snip-panics.mjs WASM');

// binaryen.js ships in the npm package that gives the build its wasm-opt (scripts/setup.sh).
const wasmOpt = realpathSync(execFileSync('sh', ['-c', 'command -v wasm-opt'], { encoding: 'utf8' }).trim());
const { default: binaryen } = await import(join(dirname(wasmOpt), '..', 'index.js'));

// Functions that never return: each only formats a message and panics. Names as rustc's
// legacy mangling demangles them, with or without the crate's hash: `core[c59…]::…`.
const DIVERGING = new RegExp(
  '^(core|std|alloc)(\\[[0-9a-f]+\\])?::(' +
    [
      'panicking::(panic(_[a-z_]+)?|panic_const::[a-z_]+|assert_failed(_inner)?)',
      'panicking::(begin_panic|panic_with_hook|rust_panic_with_hook)',
      'result::unwrap_failed',
      'option::(unwrap|expect)_failed',
      'str::slice_error_fail',
      'slice::index::slice_index_fail',
      'cell::panic_already(_mutably)?_borrowed',
      'cell::lazy::panic_poisoned',
      'thread::local::panic_access_error',
      // Out of memory, or a capacity past isize::MAX: an abort after a message too.
      'raw_vec::handle_error',
      'alloc::handle_alloc_error',
    ].join('|') +
    ')(::<.*>)?$'
);
// Yew sets console_error_panic_hook as the panic hook, which only a panic calls: the
// functions that call its imports (the hook's body) are cut as well.
const HOOK_CALL = '(call $console_error_panic_hook::';

const module = binaryen.readBinary(readFileSync(wasmPath));
const snipped = [];
for (let i = 0; i < module.getNumFunctions(); i++) {
  const fn = module.getFunctionByIndex(i);
  const { name, module: imported, results, body } = binaryen.getFunctionInfo(fn);
  if (imported) continue;
  if (DIVERGING.test(name)) {
    if (results !== binaryen.none) fail(`${name} returns a value: not a panic`);
  } else if (!binaryen.emitText(body).includes(HOOK_CALL)) {
    continue;
  }
  binaryen.Function.setBody(fn, module.unreachable());
  snipped.push(name);
}
// Without names (a build that dropped them) nothing matches: fail rather than ship the
// panics unnoticed.
if (!snipped.some((name) => /::panicking::panic_fmt$/.test(name))) {
  fail(`core::panicking::panic_fmt not found in ${wasmPath} (are its names kept?)`);
}
if (!module.validate()) fail('the snipped module does not validate');
writeFileSync(wasmPath, module.emitBinary());
module.dispose();
console.error(`snip-panics: ${snipped.length} functions cut to unreachable`);
