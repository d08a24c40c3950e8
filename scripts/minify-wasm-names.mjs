// Build step (scripts/bundle.sh): the wasm's import, export and module names are long and
// hash-suffixed (`__wbg_fetch_858ffa201963e190`), and every visitor downloads each of them
// twice, in the wasm and in the glue. `wasm-opt --minify-imports-and-exports-and-modules`
// shortens them in the wasm and prints the mapping; this rewrites the glue to match, and
// fails if the glue does not use a name exactly as expected.
//
// Usage: node scripts/minify-wasm-names.mjs MINIFIED.wasm MAPPING.json GLUE.js
import { readFileSync, writeFileSync } from 'node:fs';

const [wasmPath, mappingPath, gluePath] = process.argv.slice(2);
const fail = (message) => {
  console.error(`minify-wasm-names: ${message}`);
  process.exit(1);
};
if (!gluePath) fail('usage: minify-wasm-names.mjs MINIFIED.wasm MAPPING.json GLUE.js');

const mapping = JSON.parse(readFileSync(mappingPath, 'utf8'));
let glue = readFileSync(gluePath, 'utf8');
const escape = (name) => name.replace(/[$]/g, '\\$');
const count = (pattern) => (glue.match(pattern) || []).length;

// Every import now comes from one module with a short name; the glue names it once.
const wasmImports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath)));
const modules = new Set(wasmImports.map((i) => i.module));
const oldModules = new Set(mapping.imports.map(([module]) => module));
if (modules.size !== 1 || oldModules.size !== 1) fail(`expected one import module, found ${[...oldModules]} -> ${[...modules]}`);
const [oldModule] = oldModules;
const [newModule] = modules;
const moduleKey = new RegExp(`"${escape(oldModule).replace(/\./g, '\\.')}":`, 'g');
if (count(moduleKey) !== 1) fail(`the glue names module ${oldModule} ${count(moduleKey)} times`);
glue = glue.replace(moduleKey, `"${newModule}":`);

// Imports the -Oz after the minification left unused (those only a panic reached,
// scripts/snip-panics.mjs): their shims leave the glue's import object. Each is an entry of
// wasm-bindgen's form, from `<12 spaces>name: function(` up to the next entry or the
// object's end.
const imported = new Set(wasmImports.map((i) => i.name));
for (const [, name, short] of mapping.imports) {
  if (imported.has(short)) continue;
  const lines = glue.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`            ${name}: function(`));
  let end = start + 1;
  while (end < lines.length && !/^ {12}[\w$]+: |^ {0,8}\S/.test(lines[end])) end++;
  if (start < 0 || !/^ {12}\}.*,$/.test(lines[end - 1]) || count(new RegExp(`\\b${escape(name)}\\b`, 'g')) !== 1) {
    fail(`the unused import ${name} is not one entry of the glue's import object`);
  }
  lines.splice(start, end - start);
  glue = lines.join('\n');
}

// Imports: keys of the glue's import object, each exactly once.
for (const [, name, short] of mapping.imports.filter(([, , short]) => imported.has(short))) {
  const key = new RegExp(`\\b${escape(name)}(?=:)`, 'g');
  if (count(key) !== 1) fail(`import ${name} appears ${count(key)} times as a key`);
  glue = glue.replace(key, short);
}

// Exports: where the glue reads them off the instance (`wasm.name`); JS functions of the
// same name stay as they are. An export the glue never reads must not be named at all.
for (const [name, short] of mapping.exports) {
  const use = new RegExp(`\\bwasm\\.${escape(name)}\\b`, 'g');
  if (count(use) === 0 && count(new RegExp(`\\b${escape(name)}\\b`, 'g')) > 0) {
    fail(`export ${name} is named in the glue, but not as wasm.${name}`);
  }
  glue = glue.replace(use, `wasm.${short}`);
}
const left = glue.match(/\b__wbg_[A-Za-z0-9_]+_[0-9a-f]{16}\b(?=:)/);
if (left) fail(`an import key was left unmapped: ${left[0]}`);

writeFileSync(gluePath, glue);
