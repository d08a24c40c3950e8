// Build step (scripts/bundle.sh), before the wasm's names are dropped: every panic's path
// (core::panicking and the functions that only fail into it) is cut to a bare `unreachable`,
// and the -Oz after it drops the code only a panic reached: the formatting and Yew's
// console_error_panic_hook with its three imports (7.0 KB raw, 2.9 KB brotli, measured on
// 2026-12-06). The data keeps the messages' text, which no tool can tell unused: the source
// paths of panic locations, the messages passed whole to the cut functions that no other
// code names, and the templates of the formatted ones only the cut code named, are made
// zeros here (below; 0.4 KB brotli more, on 2026-12-06). A panic
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
// The code as it was, to tell afterwards what only the cut code named.
const textBefore = module.emitText();
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
const messages = panicMessages(module.emitText(), new Set(snipped));
const bytes = module.emitBinary();
// The code that runs: a copy (with its names) without the functions only the cut code
// called, which the -Oz after drops, so that what they alone named is told apart below.
binaryen.setDebugInfo(true);
const running = binaryen.readBinary(module.emitBinary());
binaryen.setDebugInfo(false);
module.dispose();
running.runPasses(['remove-unused-module-elements']);
const textAfter = running.emitText();
running.dispose();
const paths = zeroPanicLocations(bytes);
// None found: rustc laid `Location` out otherwise. Fail rather than ship the paths unnoticed.
if (paths.count === 0) fail('no panic location found to zero (has core::panic::Location changed?)');
const zeroedMessages = zeroPanicMessages(bytes, messages);
if (zeroedMessages.count === 0) fail('no panic message found to zero (have the panic functions changed?)');
const templates = zeroDeadTemplates(bytes, textBefore, textAfter, new Set(snipped));
if (templates.count === 0) fail('no panic message template found to zero (has core::fmt::Arguments changed?)');
writeFileSync(wasmPath, bytes);
console.error(`snip-panics: ${snipped.length} functions cut to unreachable, ${paths.count} source paths (${paths.bytes} B), ${zeroedMessages.count} messages (${zeroedMessages.bytes} B) and ${templates.count} message templates (${templates.bytes} B) zeroed`);

// The messages (`&'static str`, an address and a length) that calls to the cut functions
// taking one as their first two arguments pass (`panic("assertion failed: …")`,
// `expect_failed`, `unwrap_failed`; a formatted message's pieces are not followed), each
// only where its address is a constant nowhere else in the code: text that other code reads
// too is left alone. Their text, like the paths, only a panic printed.
function panicMessages(text, cut) {
  const call = /\(call \$("[^"]*"|[^\s()]+)\s*\(i32\.const (\d+)\)\s*\(i32\.const (\d+)\)/g;
  const takers = /::(panicking::panic|option::expect_failed|result::unwrap_failed)$/;
  const passed = new Map();
  for (const [, quoted, address, length] of text.matchAll(call)) {
    const name = quoted.replace(/^"|"$/g, '');
    if (!cut.has(name) || !takers.test(name)) continue;
    const entry = passed.get(address) ?? { length: Number(length), uses: 0 };
    // The same address with two lengths: not one message.
    if (entry.length !== Number(length)) entry.length = -1;
    entry.uses += 1;
    passed.set(address, entry);
  }
  const constants = new Map();
  for (const [, value] of text.matchAll(/\(i32\.const (\d+)\)/g)) constants.set(value, (constants.get(value) ?? 0) + 1);
  return [...passed].filter(([address, { length, uses }]) => length > 0 && constants.get(address) === uses)
    .map(([address, { length }]) => ({ address: Number(address), length }));
}

// Zeroes each message of `panicMessages` that is printable text within one data segment and
// that no word of the data points at (as a formatted message's pieces would).
function zeroPanicMessages(wasm, messages) {
  const segments = dataSegments(wasm);
  const view = new DataView(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  const pointed = new Set();
  for (const segment of segments) {
    for (let i = segment.offset; i + 4 <= segment.offset + segment.length; i++) pointed.add(view.getUint32(i, true));
  }
  let count = 0;
  let zeroed = 0;
  for (const { address, length } of messages) {
    const target = segments.find((s) => address >= s.address && address + length <= s.address + s.length);
    if (!target || pointed.has(address) || length > 512) continue;
    const start = target.offset + (address - target.address);
    if (!/^[\x20-\x7e\n]+$/.test(Buffer.from(wasm.subarray(start, start + length)).toString('latin1'))) continue;
    wasm.fill(0, start, start + length);
    count += 1;
    zeroed += length;
  }
  return { count, bytes: zeroed };
}

/** The i32 constants a module's text names. */
function constants(text) {
  const found = new Set();
  for (const [, value] of text.matchAll(/\(i32\.const (\d+)\)/g)) found.add(Number(value));
  return found;
}

// The formatted messages only the cut code wrote (`index out of bounds: the len is {} but
// the index is {}`, the slicing errors, `assert_eq!`'s): `core::fmt::Arguments` names each
// by the address of a template in the data, its text pieces each after its length byte
// (1-127), between argument marks (0xC0), ended by a 0. Each template whose address the
// code named before the cut and names no more (`textAfter`: the code that runs, but for
// what it passes the cut functions, which they no longer read), whose pieces hold words
// (a table of characters or digits, which code reads at an offset from its start so that
// no constant names the bytes inside it, holds none), and whose bytes nothing else points
// at (no constant of the code that runs, no word of the data) is zeroed whole. An address
// that leads to no template of that form is left alone, as is every other byte.
function zeroDeadTemplates(wasm, textBefore, textAfter, cut) {
  const after = constants(textAfter.replace(
    /\(call \$("[^"]*"|[^\s()]+)((?:\s*\(i32\.const \d+\))+)/g,
    (call, name) => (cut.has(name.replace(/^"|"$/g, '')) ? '' : call),
  ));
  const segments = dataSegments(wasm);
  const view = new DataView(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  const pointed = new Set(after);
  for (const segment of segments) {
    for (let i = 0; i + 4 <= segment.length; i++) pointed.add(view.getUint32(segment.offset + i, true));
  }
  let count = 0;
  let zeroed = 0;
  for (const address of constants(textBefore)) {
    const segment = segments.find((s) => address >= s.address && address < s.address + s.length);
    if (after.has(address) || !segment) continue;
    const at = (a) => segment.offset + (a - segment.address);
    const end = segment.address + segment.length;
    let text = '';
    let a = address;
    let whole = false;
    while (a < end) {
      const byte = wasm[at(a)];
      if (byte === 0) {
        whole = text !== '';
        break;
      }
      if (byte === 0xc0) {
        a += 1;
        continue;
      }
      const piece = byte < 0x80 && a + 1 + byte <= end && Buffer.from(wasm.subarray(at(a + 1), at(a + 1 + byte))).toString('latin1');
      if (!piece || !/^[\x20-\x7e\n]+$/.test(piece)) break;
      text += piece;
      a += 1 + byte;
    }
    if (!whole || !/ /.test(text) || !/[a-z]{2}/.test(text)) continue;
    let alone = true;
    for (let inner = address; alone && inner < a; inner++) alone = !pointed.has(inner);
    if (!alone) continue;
    wasm.fill(0, at(address), at(a));
    zeroed += a - address;
    count += 1;
  }
  return { count, bytes: zeroed };
}

// The source file paths of panic locations (`core::panic::Location`: a `&str` of the file,
// then the line and the column), which only a panic's message printed, made zeros: the
// -Oz after this leaves zero runs out of the data segments (memory starts zeroed). A path
// is zeroed only as a location names it, by its address and length, so no neighbouring
// text goes with it; and only if it is a path: printable, with a slash, ending in `.rs`.
// (Rust's own way, -Zlocation-detail=none, is for nightly compilers.)
function zeroPanicLocations(wasm) {
  const segments = dataSegments(wasm);
  const view = new DataView(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  const at = (address, length) =>
    segments.find((s) => address >= s.address && address + length <= s.address + s.length);
  const path = /^[\x21-\x7e]*\/[\x21-\x7e]*\.rs$/;
  let count = 0;
  let zeroed = 0;
  for (const segment of segments) {
    const first = segment.offset + ((4 - (segment.address % 4)) % 4);
    for (let i = first; i + 8 <= segment.offset + segment.length; i += 4) {
      const address = view.getUint32(i, true);
      const length = view.getUint32(i + 4, true);
      if (length < 4 || length > 512) continue;
      const target = at(address, length);
      if (!target) continue;
      const start = target.offset + (address - target.address);
      const text = Buffer.from(wasm.subarray(start, start + length)).toString('latin1');
      if (!path.test(text)) continue;
      wasm.fill(0, start, start + length);
      count += 1;
      zeroed += length;
    }
  }
  return { count, bytes: zeroed };
}

// The active data segments of memory 0: their memory address, and where their bytes are
// in the file. Fails on a form binaryen does not write for this module.
function dataSegments(wasm) {
  let i = 8;
  const leb = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = wasm[i++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return result;
    }
  };
  while (i < wasm.length) {
    const id = wasm[i++];
    const size = leb();
    if (id !== 11) {
      i += size;
      continue;
    }
    const segments = [];
    for (let n = leb(); n > 0; n--) {
      // Flags 0: active, memory 0, offset `i32.const N; end`.
      if (wasm[i++] !== 0 || wasm[i++] !== 0x41) fail('a data segment of another form');
      const address = leb();
      // i32.const is a signed LEB: the widget's addresses are far below 2^31.
      if (wasm[i++] !== 0x0b) fail('a data segment offset that is not a constant');
      const length = leb();
      segments.push({ address, offset: i, length });
      i += length;
    }
    return segments;
  }
  fail('no data section');
}
