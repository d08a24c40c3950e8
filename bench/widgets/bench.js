// The widget benchmark: the built Assent widget and four consent widgets from npm, each on
// the same host page, first visits in headless Chromium on a desktop and a phone profile.
// Prints a Markdown report and writes it to report.md. A benchmark, not a test: it exits 0
// whoever is fastest, and 1 only when something did not run (a banner that never showed,
// a file a widget asked for that is not served, a request that failed).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { NAMES, WIDGETS, siteFiles } from './pages.js';
import { PROFILES, launch, visit } from './measure.js';
import { startServer } from './server.js';

const USAGE = `usage: node bench.js [--runs N] [--profiles desktop,phone] [--widgets ${NAMES.join(',')}] [--out FILE]`;

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '11' },
      profiles: { type: 'string', default: Object.keys(PROFILES).join(',') },
      widgets: { type: 'string', default: NAMES.join(',') },
      out: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'report.md') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) { console.log(USAGE); process.exit(0); }
  const list = (text, known, what) => {
    const names = text.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = names.filter((n) => !known.includes(n));
    if (unknown.length || !names.length) throw new Error(`unknown ${what}: ${unknown.join(', ') || '(none)'}\n${USAGE}`);
    return names;
  };
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer\n${USAGE}`);
  return {
    runs,
    profiles: list(values.profiles, Object.keys(PROFILES), 'profile'),
    widgets: list(values.widgets, NAMES, 'widget').map((n) => WIDGETS.find((w) => w.name === n)),
    out: values.out,
  };
}

const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => (x === null ? '–' : Math.round(x).toLocaleString('en-US'));
const kb = (x) => (x === null ? '–' : (x / 1000).toFixed(1));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
const log = (line) => process.stderr.write(`[bench] ${line}\n`);

async function main() {
  const opts = options();
  const loadStart = load();
  const started = new Date();
  const server = await startServer(siteFiles(opts.widgets));
  const browser = await launch();
  const chromium = browser.version();
  // results[profile][widget] = runs; baseline[profile] = the bare page's visits, one per run.
  const results = {};
  const baseline = {};
  const errors = [];
  const failedRequests = new Set();
  try {
    for (const profile of opts.profiles) {
      results[profile] = Object.fromEntries(opts.widgets.map((w) => [w.name, []]));
      baseline[profile] = [];
      // One visit first, not counted: the browser's own first-context start-up is not a widget's.
      await visit(browser, `${server.url}/baseline.html`, profile, null);
      for (let run = 0; run < opts.runs; run++) {
        baseline[profile].push(await visit(browser, `${server.url}/baseline.html`, profile, null));
        // Widgets take turns within each run, starting one further along each time, so a
        // burst of load on the machine or a position effect does not land on one widget.
        const order = opts.widgets.map((_, i) => opts.widgets[(i + run) % opts.widgets.length]);
        for (const widget of order) {
          try {
            const r = await visit(browser, `${server.url}/${widget.name}.html`, profile, widget, true);
            r.failed.forEach((f) => failedRequests.add(`${widget.name}: ${f}`));
            results[profile][widget.name].push(r);
            log(`${profile} ${run + 1}/${opts.runs} ${widget.name}: banner ${ms(r.visible)} ms, ${kb(r.bytes)} kB, TBT ${ms(r.tbt)} ms; accepted: stored in ${ms(r.accept.storedIn)} ms, ${kb(r.accept.bytesAll)} kB in all`);
          } catch (error) {
            errors.push(error.message);
            log(`${profile} ${run + 1}/${opts.runs} ${widget.name}: FAILED ${error.message}`);
          }
        }
      }
    }
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }

  const report = render({
    opts, results, baseline, errors, failedRequests,
    chromium, started, loadStart, loadEnd: load(), missed: server.missed,
  });
  writeFileSync(opts.out, report);
  console.log(report);
  log(`written to ${opts.out}`);
  return errors.length || server.missed.length || failedRequests.size ? 1 : 0;
}

/** Medians of one widget on one profile; memory is the JS heap above the bare page's, plus wasm memory. */
function summarise(runs, baseline) {
  const pick = (f) => median(runs.map(f).filter((x) => x !== null && x !== undefined));
  const base = median(baseline.map((r) => r.heapUsed));
  return {
    n: runs.length,
    bytes: pick((r) => r.bytes),
    bytesAll: pick((r) => r.bytesAll),
    visible: pick((r) => r.visible),
    min: runs.length ? Math.min(...runs.map((r) => r.visible)) : null,
    max: runs.length ? Math.max(...runs.map((r) => r.visible)) : null,
    mark: pick((r) => r.mark),
    dom: pick((r) => r.dom),
    method: [...new Set(runs.map((r) => r.method))].join('+'),
    tbt: pick((r) => r.tbt),
    longest: pick((r) => r.longest),
    heap: pick((r) => r.heapUsed - base),
    wasm: pick((r) => r.wasmMemory),
    memory: pick((r) => r.heapUsed - base + r.wasmMemory),
    backing: pick((r) => r.backing),
    files: runs[0]?.files ?? [],
    // After the click on accept.
    acceptStored: pick((r) => r.accept?.storedIn),
    acceptBytes: pick((r) => r.accept?.bytesAll),
    acceptTbt: pick((r) => r.accept?.tbt),
    acceptLongest: pick((r) => r.accept?.longest),
    acceptMemory: pick((r) => (r.accept ? r.accept.heapUsed - base + r.accept.wasmMemory : null)),
    // Back on the page after accepting.
    returnBytes: pick((r) => r.returning?.bytesAll),
    returnMemory: pick((r) => (r.returning ? r.returning.heapUsed - base + r.returning.wasmMemory : null)),
    returnBanner: runs.filter((r) => r.returning?.banner).length,
    returnFiles: runs[0]?.returning?.files ?? [],
  };
}

function render({ opts, results, baseline, errors, failedRequests, chromium, started, loadStart, loadEnd, missed }) {
  const s = {};
  for (const p of opts.profiles) {
    s[p] = Object.fromEntries(opts.widgets.map((w) => [w.name, summarise(results[p][w.name], baseline[p])]));
  }
  const get = (profile, name, key) => s[profile]?.[name]?.[key] ?? null;
  // Bytes and memory do not depend on the profile's speed: taken from desktop when it ran.
  const main = opts.profiles.includes('desktop') ? 'desktop' : opts.profiles[0];
  const lines = [];
  const out = (line = '') => lines.push(line);
  // A Markdown table with a row per widget; columns: [heading, cell(widget), 'left' for text,
  // the bare page's cell]. With any bare cell, a last row for the bare host page.
  const table = (columns) => {
    out(`| widget | ${columns.map(([heading]) => heading).join(' | ')} |`);
    out(`|---|${columns.map(([, , align]) => (align === 'left' ? '---' : '---:')).join('|')}|`);
    for (const w of opts.widgets) out(`| ${w.label()} | ${columns.map(([, cell]) => cell(w)).join(' | ')} |`);
    if (columns.some(([, , , bare]) => bare)) {
      out(`| *bare host page, no widget* | ${columns.map(([, , , bare]) => (bare ? bare() : '–')).join(' | ')} |`);
    }
  };
  // The bare page's medians on a profile (the same runs' baseline).
  const bare = (profile, key) => (baseline[profile] ? median(baseline[profile].map((r) => r[key])) : null);

  out('# Consent widgets: first-visit cost');
  out();
  out(`- date: ${started.toISOString()}`);
  out(`- Chromium ${chromium} (headless, ${process.env.ASSENT_BENCH_CHROMIUM || '/usr/bin/chromium'}), Node ${process.version}`);
  out(`- runs: ${opts.runs} per widget and profile (medians below); profiles: ${opts.profiles.join(', ')}`);
  out(`- machine: ${cpus().length} cores; load average (1 / 5 / 15 min) at start ${loadStart}, at end ${loadEnd}`);
  out();
  table([
    ['brotli KB', (w) => kb(get(main, w.name, 'bytes'))],
    ['banner visible, desktop (ms)', (w) => ms(get('desktop', w.name, 'visible'))],
    ['banner visible, phone (ms)', (w) => ms(get('phone', w.name, 'visible'))],
    ['TBT phone (ms)', (w) => ms(get('phone', w.name, 'tbt')), null, () => ms(bare('phone', 'tbt'))],
    ['longest task desktop (ms)', (w) => ms(get('desktop', w.name, 'longest')), null, () => ms(bare('desktop', 'longest'))],
    ['JS heap + wasm (KB)', (w) => kb(get(main, w.name, 'memory'))],
  ]);
  out();

  const peers = opts.widgets.filter((w) => w.name !== 'assent');
  if (opts.widgets.some((w) => w.name === 'assent') && peers.length) {
    for (const p of opts.profiles) {
      const ranked = peers.filter((w) => get(p, w.name, 'visible') !== null)
        .sort((a, b) => get(p, a.name, 'visible') - get(p, b.name, 'visible'));
      const assent = get(p, 'assent', 'visible');
      if (!ranked.length || assent === null) continue;
      const fastest = ranked[0];
      const ratio = assent / get(p, fastest.name, 'visible');
      out(`Assent banner visible, ${p}: ${ms(assent)} ms = **${ratio.toFixed(2)}×** the fastest peer (${fastest.label()}, ${ms(get(p, fastest.name, 'visible'))} ms).  `);
    }
    out();
  }

  out('## Then the visitor accepts');
  out();
  out('The same visits, continued: a click on the banner\'s accept button, then 2 s.');
  out();
  table([
    ['KB fetched in all', (w) => kb(get(main, w.name, 'acceptBytes'))],
    ['choice stored after the click, desktop (ms)', (w) => ms(get('desktop', w.name, 'acceptStored'))],
    ['phone (ms)', (w) => ms(get('phone', w.name, 'acceptStored'))],
    ['TBT phone since the click (ms)', (w) => ms(get('phone', w.name, 'acceptTbt'))],
    ['longest task desktop (ms)', (w) => ms(get('desktop', w.name, 'acceptLongest'))],
    ['JS heap + wasm (KB)', (w) => kb(get(main, w.name, 'acceptMemory'))],
  ]);
  out();

  out('## Then the visitor comes back');
  out();
  out('The same visitors, later: the page in a new browser context holding the first one\'s cookies and storage, then 2 s.');
  out();
  table([
    ['KB fetched', (w) => kb(get(main, w.name, 'returnBytes'))],
    ['files fetched', (w) => get(main, w.name, 'returnFiles')?.join(', ') || '–', 'left'],
    ['banner shown again (runs)', (w) => `${get(main, w.name, 'returnBanner')} of ${get(main, w.name, 'n')}`],
    ['JS heap + wasm (KB)', (w) => kb(get(main, w.name, 'returnMemory'))],
  ]);
  out();

  out('## Per profile');
  for (const p of opts.profiles) {
    out();
    out(`### ${p}`);
    out();
    const x = (w) => s[p][w.name];
    table([
      ['runs', (w) => x(w).n],
      ['brotli KB before banner', (w) => kb(x(w).bytes)],
      ['KB fetched in all', (w) => kb(x(w).bytesAll)],
      ['banner visible (ms)', (w) => ms(x(w).visible)],
      ['min–max (ms)', (w) => `${ms(x(w).min)}–${ms(x(w).max)}`],
      ['how', (w) => x(w).method || '–', 'left'],
      ['TBT (ms)', (w) => ms(x(w).tbt), null, () => ms(bare(p, 'tbt'))],
      ['longest task (ms)', (w) => ms(x(w).longest), null, () => ms(bare(p, 'longest'))],
      ['JS heap Δ (KB)', (w) => kb(x(w).heap)],
      ['wasm memory (KB)', (w) => kb(x(w).wasm)],
      ['ArrayBuffers + external strings (KB)', (w) => kb(x(w).backing)],
    ]);
    const a = s[p].assent;
    if (a && a.mark !== null && a.dom !== null) {
      out();
      out(`Assent, medians: its own mark (\`assent:banner-visible\`, used above) at ${ms(a.mark)} ms; the DOM probe the peers are measured with at ${ms(a.dom)} ms.`);
    }
    out();
    out(`Bare host page JS heap (baseline): ${kb(bare(p, 'heapUsed'))} KB.`);
  }
  out();
  out('Files fetched before the banner:');
  out();
  for (const w of opts.widgets) out(`- ${w.name}: ${(s[main][w.name].files).join(', ') || '–'}`);
  out();
  out('## How');
  out();
  out('- One host page, the same for every widget; each widget set up as its documentation shows, with a minimal first-visit configuration of a couple of categories (Osano\'s cookieconsent has none: opt-in, all or nothing). Page and files from a local Node server on 127.0.0.1, every file brotli-compressed alike (quality 11, the smallest of a few encoder settings: `scripts/brotli.mjs`, which writes Assent\'s own `.br` files), `cache-control: no-store`.');
  out('- Every run is a new browser context: empty storage and cache, a first visit. Runs alternate between widgets. desktop: 1280×800, no throttling. phone: 390×844 at 3×, mobile, CPU throttled 4× and network emulated (150 ms latency, 1.6 Mbit/s down, 750 kbit/s up) over CDP.');
  out('- **brotli KB**: the sum of Resource Timing `encodedBodySize` (the bytes on the wire minus headers) of every file that finished loading before the banner was visible; the host page itself is not counted. KB = 1,000 bytes.');
  out('- **banner visible**: ms after navigation start. Assent: its `assent:banner-visible` performance mark (the DOM probe below when absent). Peers: a probe run before the page\'s scripts checks, on every DOM mutation and every animation frame, that the banner element (`#cc-main .cm`, `.klaro .cookie-notice`, `#tarteaucitronAlertBig`, `.cc-window`) is in the document, has a non-empty box inside the viewport, and is not hidden by display, visibility or opacity 0 (`checkVisibility`). A fade-in counts from its first frame above opacity 0.');
  out('- **TBT**: the sum of (duration − 50 ms) over long tasks (`PerformanceObserver` `longtask`, buffered) that started between navigation and 2 s after the banner was visible; **longest task**: the longest of them (0 when there was none). The bare host page\'s own (from navigation to 2 s after its load, in a visit of its own at the start of each run) are the last row: every widget\'s figure includes the page\'s, which the machine\'s load moves. Assent fetches its glue and wasm only once the visitor clicks its banner, so on a first visit they count in the accept table.');
  out('- **After accept**: Playwright clicks the banner\'s accept button; **choice stored** is the time from the click (a capture listener on the document) until the choice is in the browser: Assent\'s record in localStorage (written by the wasm, not the click the loader keeps at once), the peers\' cookies (`cc_cookie`, `klaro`, `tarteaucitron`, `cookieconsent_status`). TBT and longest task count long tasks that ended after the click, up to 2 s after the choice was stored; memory and bytes are read then. Assent\'s endpoint is answered by the benchmark (204).');
  out('- **Coming back**: after those 2 s, the same page in a new browser context (a new renderer, an empty cache) given the first context\'s cookies and storage (Playwright `storageState`); bytes and files are the host\'s files the page fetched (a service the visitor consented to, such as tarteaucitron\'s Hotjar, is answered empty and not counted), memory as below, read after 2 s.');
  out('- **JS heap + wasm**: after those 2 s (Assent: after its wasm runs) and a forced GC (CDP `HeapProfiler.collectGarbage`), CDP `Runtime.getHeapUsage().usedSize` minus the median of the same on the bare host page, plus the `byteLength` of every `WebAssembly.Memory` the page instantiated (the probe wraps `WebAssembly.instantiate`/`instantiateStreaming` to see them). `backingStorageSize` is shown apart: in this Chromium it counts ArrayBuffers and external strings (script sources among them) but not WebAssembly memory. Not measured: compiled wasm and JS code, DOM and style memory (Blink\'s heap). Every page, the bare one too, first prints 4,096 numbers, so that V8\'s cache of small integers\' strings (64 KB, one per renderer, which any real site\'s scripts fill) is at its full size before the widget runs: on the bare page it grows only when two numbers printed share a slot, so a widget would pay for it by chance (instantiating a wasm module prints its exported functions\' indices).');
  if (failedRequests.size || missed.length || errors.length) {
    out();
    out('## Problems');
    out();
    errors.forEach((e) => out(`- run failed: ${e}`));
    missed.forEach((m) => out(`- asked for but not served: ${m}`));
    failedRequests.forEach((f) => out(`- request failed: ${f}`));
  }
  return `${lines.join('\n')}\n`;
}

main().then(
  (code) => process.exit(code),
  (error) => { console.error(`bench: ${error.message}`); process.exit(1); },
);
