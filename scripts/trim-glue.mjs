// Build step (scripts/bundle.sh): parts of wasm-bindgen's glue that every visitor
// downloads and the loader never needs, left out or made smaller. It fails if the glue does not hold them
// exactly as expected, so a wasm-bindgen upgrade can't skip it silently.
// - `initSync` (compiling the wasm on the main thread) is exported but never called: the
//   loader streams the wasm. Unexported, the minifier drops it.
// - `debugString` writes a JavaScript value for `{:?}` in Rust, which only panic messages
//   do (yew's `unwrap`s on DOM calls). It walks arrays, objects and errors in 1.3 KB; the
//   value's own `String()` says enough there, for 230 fewer brotli bytes.
// - The init function's defaults: the wasm's URL guessed from the script's own (the loader
//   always passes `{module_or_path}`), and the warning for the deprecated bare argument.
// - The init function's other inputs: the loader always passes the wasm's fetch (a promise
//   of a Response), never a URL, bytes or a compiled module. The fallback for a server that
//   does not serve the wasm as application/wasm stays.
// - Fallbacks for browsers older than any the widget runs in (it needs constructed
//   stylesheets: Chrome 73, Firefox 101, Safari 16.4): TextEncoder.encodeInto (Chrome 74,
//   Firefox 66, Safari 14.1) and FinalizationRegistry (Chrome 84, Firefox 79, Safari 14.1).
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
/** Replaces `from` (which must occur exactly once) with `to`. */
function replaceOnce(what, from, to) {
  if (glue.split(from).length !== 2) fail(`the glue does not hold ${what} as expected`);
  glue = glue.replace(from, to);
}
replaceOnce('the script URL default', `    let script_src;
    if (typeof document !== 'undefined' && document.currentScript !== null) {
        script_src = new URL(document.currentScript.src, location.href).toString();
    }
`, '');
replaceOnce('the wasm URL default', `        if (module_or_path === undefined && script_src !== undefined) {
            module_or_path = script_src.replace(/\\.js$/, "_bg.wasm");
        }
`, '');
replaceOnce('the deprecated-argument check', `        if (module_or_path !== undefined) {
            if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
                ({module_or_path} = module_or_path)
            } else {
                console.warn('using deprecated parameters for the initialization function; pass a single object instead')
            }
        }
`, `        ({module_or_path} = module_or_path);
`);
replaceOnce('the inputs other than a fetch', `        if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
            module_or_path = fetch(module_or_path);
        }

`, '');
replaceOnce('the wasm loading', `        if (typeof Response === 'function' && module instanceof Response) {
            if (!module.ok) {
                throw new Error(\`failed to fetch Wasm: \${module.status} \${module.statusText} fetching '\${module.url}'\`);
            }

            if (typeof WebAssembly.instantiateStreaming === 'function') {
                try {
                    return await WebAssembly.instantiateStreaming(module, imports);
                } catch (e) {
                    const validResponse = expectedResponseType(module.type);

                    if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                        console.warn("\`WebAssembly.instantiateStreaming\` failed because your server does not serve Wasm with \`application/wasm\` MIME type. Falling back to \`WebAssembly.instantiate\` which is slower. Original error:\\n", e);

                    } else { throw e; }
                }
            }

            const bytes = await module.arrayBuffer();
            return await WebAssembly.instantiate(bytes, imports);
        } else {
            const instance = await WebAssembly.instantiate(module, imports);

            if (instance instanceof WebAssembly.Instance) {
                return { instance, module };
            } else {
                return instance;
            }
        }

        function expectedResponseType(type) {
            switch (type) {
                case 'basic': case 'cors': case 'default': return true;
            }
            return false;
        }
`, `        if (!module.ok) {
            throw new Error(\`failed to fetch Wasm: \${module.status} \${module.statusText} fetching '\${module.url}'\`);
        }
        try {
            return await WebAssembly.instantiateStreaming(module, imports);
        } catch (e) {
            if (module.headers.get('Content-Type') === 'application/wasm') throw e;
            console.warn("\`WebAssembly.instantiateStreaming\` failed because your server does not serve Wasm with \`application/wasm\` MIME type. Falling back to \`WebAssembly.instantiate\` which is slower. Original error:\\n", e);
        }
        return await WebAssembly.instantiate(await module.arrayBuffer(), imports);
`);
replaceOnce('the encodeInto fallback', `    if (!('encodeInto' in cachedTextEncoder)) {
        cachedTextEncoder.encodeInto = function (arg, view) {
            const buf = cachedTextEncoder.encode(arg);
            view.set(buf);
            return {
                read: arg.length,
                written: buf.length
            };
        };
    }
`, '');
replaceOnce('the FinalizationRegistry fallback', `    const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
        ? { register: () => {}, unregister: () => {} }
        : new FinalizationRegistry(`, `    const CLOSURE_DTORS = new FinalizationRegistry(`);
if (glue.includes('script_src')) fail('the glue still uses script_src');
writeFileSync(gluePath, glue);
