// Build step (scripts/bundle.sh), before the wasm's names are dropped: every panic's path
// (core::panicking and the functions that only fail into it) is cut to a bare `unreachable`,
// and the -Oz after it drops the code only a panic reached: the formatting and Yew's
// console_error_panic_hook with its three imports (7.0 KB raw, 2.9 KB brotli, measured on
// 2026-12-06). The data keeps the messages' text, which no tool can tell unused: the source
// paths of panic locations, and the messages (and the templates of the formatted ones) that
// only the cut functions read, are made zeros here where nothing else reads them (below;
// 1.0 KB brotli more, on 2026-12-06). A panic
// (or running out of memory) is a bug, and the wasm aborts on one either way (panic = abort
// on wasm32): it now traps at once ("RuntimeError: unreachable", which the loader reports if it happens while starting)
// instead of first printing Rust's message to the console. The Rust and WebAssembly book's
// "Shrinking .wasm size" does the same with wasm-snip; this uses binaryen.js instead, the
// library of the wasm-opt the build already runs, rather than one more tool to install.
// Debug builds and the wasm tests (wasm-pack test) keep the messages. Yew's code for a node
// of raw HTML, which the widget never makes, is cut the same way (RAW_HTML, below).
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
// The panic handler's payloads (its message, formatted or static), which only the panic
// machinery reads, through their vtables, once the cut handler has made one: cut as well,
// though they return values.
const PAYLOAD = /^<std(\[[0-9a-f]+\])?::panicking::\S+ as core(\[[0-9a-f]+\])?::(panic::PanicPayload|fmt::Display)>::[a-z_]+$/;
// Yew's node of raw HTML (`Html::from_html_unchecked`, which sets innerHTML): the widget
// never renders HTML from strings, which clippy.toml refuses at lint time, so no VRaw is
// ever made and its code (braw.rs) is cut as unreachable as well: 1.7 KB raw, 765 B
// brotli, and with it the wasm's innerHTML import (81 B of the glue), on 2026-12-08. The
// wasm then can't set innerHTML at all.
const RAW_HTML = /^yew(\[[0-9a-f]+\])?::dom_bundle::braw::/;
// Yew sets console_error_panic_hook as the panic hook, which only a panic calls: the
// functions that call its imports (the hook's body) are cut as well.
const HOOK_CALL = '(call $console_error_panic_hook::';

// The function table's entries no running code can call any more: those only panics'
// messages called through it (`<char as Debug>::fmt`, with the Unicode tables it escapes
// by, for a slicing error's message; `<Range<usize> as Debug>::fmt`…), and wasm-bindgen's
// leftovers (closures' descriptors): the table keeps them, and with them their code. A
// call through the table needs the entry's index, which the code names as a constant or
// the data holds as a word (a vtable's); an entry whose index neither names is replaced by
// a function of its type that traps, so that the -Oz after drops the function (2.8 KB raw,
// 830 B brotli, on 2026-12-06; e2e/tests/hardening.test.js runs serde's error paths).
// Sound only while nothing outside the module indexes the table: wasm-bindgen's glue calls
// closures through exports (its `makeMutClosure` is handed the export), and the table is
// neither exported nor imported, which is checked; and while every index the code uses is
// a constant it names: LLVM never computes one (they are link-time relocations), and
// binaryen 132's -Oz, run before this, keeps a `select` of two of them as it is (it could
// otherwise have made one `C + condition`, naming neither).

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
  } else if (!RAW_HTML.test(name) && !PAYLOAD.test(name) && !binaryen.emitText(body).includes(HOOK_CALL)) {
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
// Yew's raw-HTML node renamed or moved: fail rather than keep it unnoticed.
if (!snipped.some((name) => RAW_HTML.test(name))) fail(`no function of yew's dom_bundle::braw found in ${wasmPath}`);
if (!module.validate()) fail('the snipped module does not validate');
const cut = new Set(snipped);
const entries = cutUnnamedEntries(module, readsOf(module, cut));
if (!module.validate()) fail('the module does not validate with its table entries cut');
const bytes = module.emitBinary();
const textRunning = runningText(module);
const reads = readsOf(module, cut, textRunning);
module.dispose();
const memory = dataOf(bytes);
const paths = zeroPanicLocations(bytes);
// None found: rustc laid `Location` out otherwise. Fail rather than ship the paths unnoticed.
if (paths.count === 0) fail('no panic location found to zero (has core::panic::Location changed?)');
const messages = zeroPanicMessages(memory, textBefore, cut, reads);
if (messages.count === 0) fail('no panic message found to zero (have the panic functions changed?)');
const templates = zeroDeadTemplates(memory, textBefore, reads);
if (templates.count === 0) fail('no panic message template found to zero (has core::fmt::Arguments changed?)');
const tables = zeroPrintableTables(memory, textBefore, textRunning, reads);
writeFileSync(wasmPath, bytes);
console.error(`snip-panics: ${snipped.length} functions cut to unreachable, ${entries} table entries, ${paths.count} source paths (${paths.bytes} B) of ${paths.locations} locations, ${messages.count} messages (${messages.bytes} B) and ${templates.count} message templates (${templates.bytes} B) and the printable-character tables (${tables} B) zeroed`);

/** What the running code of `module` can read or call: the addresses and numbers its code
 *  names (but what it passes the `cut` functions, which no longer read it) and every aligned
 *  word of its data (a vtable's function table indices among them). The running code is a
 *  copy (with its names) without the functions only the cut code called, which the -Oz
 *  after drops. */
function readsOf(module, cut, textRunning = runningText(module)) {
  const named = namedByCode(textRunning, cut);
  // With the panic locations' lines and columns made 1 (below), as they will be: a line
  // number is no table index.
  const data = module.emitBinary();
  zeroPanicLocations(data);
  return new Set([...named, ...dataOf(data).words()]);
}

/** Replaces the table entries whose index nothing `reads` by traps, one function of each
 *  type; returns how many. */
function cutUnnamedEntries(module, reads) {
  if (module.getNumElementSegments() !== 1) fail('a function table not of one element segment');
  const segment = binaryen.getElementSegmentInfo(module.getElementSegmentByIndex(0));
  const start = binaryen.getExpressionInfo(segment.offset).value;
  if (typeof start !== 'number') fail('a function table whose offset is not a constant');
  if (binaryen.getTableInfo(module.getTable(segment.table)).module) fail('an imported function table');
  for (let i = 0; i < module.getNumExports(); i++) {
    const { kind, value } = binaryen.getExportInfo(module.getExportByIndex(i));
    if (kind === binaryen.ExternalTable && value === segment.table) fail('an exported function table');
  }
  const traps = new Map();
  let count = 0;
  const functions = segment.data.map((name, i) => {
    if (reads.has(start + i)) return name;
    const { params, results } = binaryen.getFunctionInfo(module.getFunction(name));
    const type = `${params}:${results}`;
    if (!traps.has(type)) {
      const trap = `snipped_table_entry_${traps.size}`;
      module.addFunction(trap, params, results, [], module.unreachable());
      traps.set(type, trap);
    }
    count += 1;
    return traps.get(type);
  });
  module.removeElementSegment(segment.name);
  module.addActiveElementSegment(segment.table, segment.name, functions, module.i32.const(start));
  return count;
}

/** The i32 constants and memory offsets (`i32.load offset=N`) a module's text names: the
 *  addresses its code can read at, or read from onwards. */
function constants(text) {
  const found = new Set();
  for (const [, constant, offset] of text.matchAll(/\(i32\.const (\d+)\)|offset=(\d+)/g)) {
    found.add(Number(constant ?? offset));
  }
  return found;
}

/** The data of `wasm` by memory address: `text(address, length)` gives the bytes there as
 *  text (undefined unless one segment holds them all), `words()` every aligned word, and
 *  `zero(address, length)` makes them zeros. */
function dataOf(wasm) {
  const segments = dataSegments(wasm);
  const offset = (address, length) => {
    const segment = segments.find((s) => address >= s.address && address + length <= s.address + s.length);
    return segment ? segment.offset + (address - segment.address) : -1;
  };
  return {
    text(address, length) {
      const start = offset(address, length);
      return start < 0 ? undefined : Buffer.from(wasm.subarray(start, start + length)).toString('latin1');
    },
    // Aligned, as Rust lays a pointer out in static data, and read from memory as the
    // segments fill it: binaryen's memory packing splits the data where runs of zeros begin,
    // so a word's zero high bytes (a small number's, a table index's) are in no segment,
    // and its low ones end one.
    *words() {
      const start = Math.min(...segments.map((s) => s.address)) & ~3;
      const end = Math.max(...segments.map((s) => s.address + s.length));
      const memory = new Uint8Array(end - start + 4);
      for (const s of segments) memory.set(wasm.subarray(s.offset, s.offset + s.length), s.address - start);
      const view = new DataView(memory.buffer);
      for (let i = 0; i < end - start; i += 4) yield view.getUint32(i, true);
    },
    zero(address, length) {
      const start = offset(address, length);
      wasm.fill(0, start, start + length);
    },
  };
}

/** The text of the code of `module` that can still run: a copy (with its names) without
 *  the functions nothing running calls, which the -Oz after drops. */
function runningText(module) {
  binaryen.setDebugInfo(true);
  const running = binaryen.readBinary(module.emitBinary());
  binaryen.setDebugInfo(false);
  running.runPasses(['remove-unused-module-elements']);
  const text = running.emitText();
  running.dispose();
  return text;
}

/** The addresses the running code names, as an i32 constant, a load's or store's offset,
 *  or a half of an i64 constant (LLVM packs a `&'static str` it stores, its address and its
 *  length, into one), but for what it passes the cut functions, which they no longer read. */
function namedByCode(textAfter, cut) {
  const running = textAfter.replace(
    /\(call \$("[^"]*"|[^\s()]+)((?:\s*\(i32\.const \d+\))+)/g,
    (call, name) => (cut.has(name.replace(/^"|"$/g, '')) ? '' : call),
  );
  const named = constants(running);
  for (const [, value] of running.matchAll(/\(i64\.const (-?\d+)\)/g)) {
    const both = BigInt.asUintN(64, BigInt(value));
    named.add(Number(both & 0xffffffffn));
    named.add(Number(both >> 32n));
  }
  return named;
}

/** Whether `text` is there, and printable. */
function printable(text) {
  return text !== undefined && /^[\x20-\x7e\n]+$/.test(text);
}

/** Whether `text` has words: a table of characters or digits (which code reads at an
 *  offset from its start, so that no address names the bytes inside it) has none. */
function worded(text) {
  return / /.test(text) && /[a-z]{2}/.test(text);
}

/** Zeroes the `length` bytes at `address` unless anything reads from one of them; says
 *  whether it did. */
function zeroUnread(memory, address, length, reads) {
  for (let inner = address; inner < address + length; inner++) if (reads.has(inner)) return false;
  memory.zero(address, length);
  return true;
}

// The messages (`&'static str`) the code passed the cut functions as their first two
// arguments, when they are printable words none of whose bytes anything else reads: the
// address and the length (`panic("assertion failed: …")`, `expect_failed`,
// `unwrap_failed`), or, for `panic_fmt` handed a message without arguments, the address
// and twice the length plus one; the same length wherever the address is passed. Their
// text, like the paths, only a panic printed.
function zeroPanicMessages(memory, textBefore, cut, reads) {
  const call = /\(call \$("[^"]*"|[^\s()]+)\s*\(i32\.const (\d+)\)\s*\(i32\.const (\d+)\)/g;
  const lengths = new Map();
  for (const [, quoted, address, passed] of textBefore.matchAll(call)) {
    const name = quoted.replace(/^"|"$/g, '');
    if (!cut.has(name)) continue;
    const formatted = /::panicking::panic_fmt$/.test(name);
    const length = !formatted ? Number(passed) : Number(passed) % 2 === 1 ? (Number(passed) - 1) / 2 : -1;
    const seen = lengths.get(address);
    lengths.set(address, seen === undefined || seen === length ? length : -1);
  }
  let count = 0;
  let zeroed = 0;
  for (const [key, length] of lengths) {
    const address = Number(key);
    const text = length > 0 && length <= 512 ? memory.text(address, length) : undefined;
    if (!printable(text) || !worded(text)) continue;
    if (zeroUnread(memory, address, length, reads)) {
      count += 1;
      zeroed += length;
    }
  }
  return { count, bytes: zeroed };
}

// The formatted messages only the cut code wrote (`index out of bounds: the len is {} but
// the index is {}`, the slicing errors, `assert_eq!`'s): `core::fmt::Arguments` names each
// by the address of a template in the data, its text pieces each after its length byte
// (1-127), between argument marks (0xC0, which no UTF-8 text holds), ended by a 0. Each
// template whose address the code named before the cut and nothing reads now, that has at
// least one mark and words (a table of characters or digits, which code reads at an offset
// from its start, has none), and none of whose bytes anything reads, is zeroed whole. An
// address that leads to no template of that form is left alone, as is every other byte.
function zeroDeadTemplates(memory, textBefore, reads) {
  let count = 0;
  let zeroed = 0;
  for (const address of constants(textBefore)) {
    if (reads.has(address)) continue;
    let text = '';
    let marks = 0;
    let end = address;
    let whole = false;
    for (let byte = memory.text(end, 1)?.charCodeAt(0); byte !== undefined; byte = memory.text(end, 1)?.charCodeAt(0)) {
      if (byte === 0) {
        whole = text !== '';
        break;
      }
      if (byte === 0xc0) {
        marks += 1;
        end += 1;
        continue;
      }
      const piece = byte < 0x80 ? memory.text(end + 1, byte) : undefined;
      if (!printable(piece)) break;
      text += piece;
      end += 1 + byte;
    }
    if (!whole || marks === 0 || !worded(text)) continue;
    if (zeroUnread(memory, address, end - address, reads)) {
      count += 1;
      zeroed += end - address;
    }
  }
  return { count, bytes: zeroed };
}

// core's tables of printable characters (`core::unicode::printable`: the characters `{:?}`
// escapes), which only `is_printable` reads, for `Debug for char` (into which binaryen may
// have inlined it), which only a panic's message (a bad string slice's) wrote: once the cut
// leaves them unreachable, the tables are made zeros (1,458 B no encoder can shrink: 1.5 KB
// brotli on 2026-12-07). A table is where such a function reads memory by an index from a
// fixed address (a load's offset, or a constant added to a local): each is zeroed from
// there to the next address anything names (a constant of any code, a word of the data, a
// table), and only if nothing still running reads any of those bytes. Statics never
// overlap, so no other static's bytes lie in between. Fails rather than ship them unnoticed.
function zeroPrintableTables(memory, textBefore, textRunning, reads) {
  const header = /\n \(func \$"(core(\[[0-9a-f]+\])?::unicode::printable::\w+|<char as core(\[[0-9a-f]+\])?::fmt::Debug>::fmt)"/g;
  const starts = [...textBefore.matchAll(header)].map((match) => match.index);
  if (starts.length === 0) fail('core::unicode::printable not found (has core changed?)');
  if (new RegExp(header.source).test(textRunning)) fail('core::unicode::printable still runs: its tables are read');
  const indexed = new Set();
  for (const start of starts) {
    const end = textBefore.indexOf('\n (func ', start + 1);
    const body = textBefore.slice(start, end < 0 ? undefined : end);
    for (const [, address] of [
      ...body.matchAll(/\(i32\.load8_u offset=(\d+)/g),
      ...body.matchAll(/\(i32\.add\s*\(local\.get \$\w+\)\s*\(i32\.const (\d+)\)\s*\)/g),
    ]) {
      // Addresses in the data, not the small offsets of a pair's second byte.
      if (memory.text(Number(address), 1) !== undefined) indexed.add(Number(address));
    }
  }
  const named = [...new Set([...constants(textBefore), ...reads, ...indexed])].sort((a, b) => a - b);
  let zeroed = 0;
  for (const address of indexed) {
    const next = named.find((other) => other > address);
    const length = next - address;
    if (length > 0 && length <= 1024 && memory.text(address, length) !== undefined && zeroUnread(memory, address, length, reads)) {
      zeroed += length;
    }
  }
  if (zeroed === 0) fail('no printable-character table found to zero (has core changed?)');
  return zeroed;
}

// The source file paths of panic locations (`core::panic::Location`: a `&str` of the file,
// then the line and the column), which only a panic's message printed, made zeros, and
// their lines and columns 1 (so that a change to a source file's lines changes no byte of
// the wasm, and its size with it, which moved by up to 100 B brotli with a comment): the
// -Oz after this leaves zero runs out of the data segments (memory starts zeroed). A path
// is zeroed only as a location names it, by its address and length, so no neighbouring
// text goes with it; only if it is a path: printable, with a slash, ending in `.rs`; and
// only if a line and a column follow it. (The running code passes locations on to the
// functions that may panic, which only the cut code reads them in: no crate of the widget
// prints one, through `Location::caller()` or `file!()`, but in a panic's message.)
// (Rust's own way, -Zlocation-detail=none, is for nightly compilers.)
function zeroPanicLocations(wasm) {
  const segments = dataSegments(wasm);
  const view = new DataView(wasm.buffer, wasm.byteOffset, wasm.byteLength);
  const at = (address, length) =>
    segments.find((s) => address >= s.address && address + length <= s.address + s.length);
  const path = /^[\x21-\x7e]*\/[\x21-\x7e]*\.rs$/;
  // Found first, zeroed after: several locations name one path.
  const locations = [];
  for (const segment of segments) {
    const first = segment.offset + ((4 - (segment.address % 4)) % 4);
    for (let i = first; i + 16 <= segment.offset + segment.length; i += 4) {
      const address = view.getUint32(i, true);
      const length = view.getUint32(i + 4, true);
      if (length < 4 || length > 512) continue;
      const target = at(address, length);
      if (!target) continue;
      const start = target.offset + (address - target.address);
      const text = Buffer.from(wasm.subarray(start, start + length)).toString('latin1');
      if (!path.test(text)) continue;
      // A location: its line and column follow the path.
      const line = view.getUint32(i + 8, true);
      const column = view.getUint32(i + 12, true);
      if (line < 1 || line > 1e6 || column < 1 || column > 1e4) continue;
      locations.push({ at: i, start, length });
    }
  }
  const paths = new Map();
  for (const location of locations) {
    paths.set(location.start, location.length);
    // Line 1, column 1: the same bytes for every location, whatever the lines of the code.
    view.setUint32(location.at + 8, 1, true);
    view.setUint32(location.at + 12, 1, true);
  }
  let zeroed = 0;
  for (const [start, length] of paths) {
    wasm.fill(0, start, start + length);
    zeroed += length;
  }
  return { count: paths.size, locations: locations.length, bytes: zeroed };
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
