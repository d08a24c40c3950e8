// One first visit, measured: a fresh context (empty storage, empty cache), the profile's
// emulation set over CDP before navigating, and a probe that the page runs before any of
// its own scripts.
import { chromium } from 'playwright-core';

import { CHROMIUM as DEBIAN_CHROMIUM, CHROMIUM_ARGS } from '../../scripts/chromium.mjs';

export const CHROMIUM = process.env.ASSENT_BENCH_CHROMIUM || DEBIAN_CHROMIUM;

// How long a banner may take to show before the run counts as failed.
const BANNER_TIMEOUT_MS = 30_000;
// Long tasks count from navigation until this long after the banner shows.
const TBT_WINDOW_MS = 2_000;

export const PROFILES = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
  phone: {
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, isMobile: true, hasTouch: true,
    cpuThrottlingRate: 4,
    // 150 ms, 1.6 Mbit/s down, 750 kbit/s up (CDP wants bytes per second).
    network: { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750 },
  },
};

/** The V8 heap after a full GC (so start-up garbage does not count), over CDP: usedSize, the
 * heap in use; backingStorageSize, the bytes behind ArrayBuffers. */
async function heapUsage(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = await cdp.send('Runtime.getHeapUsage');
  return { heapUsed: heap.usedSize, backing: heap.backingStorageSize ?? null };
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      // navigator.webdriver would read true, and vanilla-cookieconsent hides its banner from
      // bots by that; every visitor measured here is meant to be a person.
      '--disable-blink-features=AutomationControlled',
      // No internet here: any host but the bench server fails at once instead of hanging,
      // and shows up in the run's failed requests.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
}

/** A mobile or desktop Chrome user agent (widgets such as Osano's lay out by it), never "Headless". */
function userAgent(browser, mobile) {
  const version = browser.version();
  return mobile
    ? `Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version} Mobile Safari/537.36`
    : `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version} Safari/537.36`;
}

/**
 * Runs in every page measured, the bare one too, before its scripts: collects long tasks
 * (buffered, so none before the observer is missed) into window.__longtasks.
 */
function watchLongTasks() {
  const tasks = [];
  Object.defineProperty(window, '__longtasks', { value: tasks });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) tasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

/** Total blocking time and the longest task of `tasks` (0 and 0 when none was long). */
function blocking(tasks) {
  return {
    tbt: tasks.reduce((sum, t) => sum + Math.max(0, t.duration - 50), 0),
    longest: tasks.reduce((max, t) => Math.max(max, t.duration), 0),
  };
}

/**
 * Runs in the page before its scripts. Finds the first moment the banner is visible: checked on every DOM
 * mutation (a banner is shown by inserting it or changing a class or style) and on every
 * frame (a stylesheet arriving or a fade-in starting changes no DOM). With `mark`, the
 * widget's own performance mark is also taken.
 */
function probe({ banner, mark }) {
  const find = new Function(`return ${banner};`);
  const state = { dom: null };
  let resolve;
  state.shown = new Promise((r) => { resolve = r; });
  Object.defineProperty(window, '__bench', { value: state });

  // WebAssembly memory is outside the V8 heap figures CDP gives: keep every memory an
  // instance exports, to read its size at the end.
  const memories = [];
  const keep = (result) => {
    for (const value of Object.values((result.instance ?? result).exports ?? {})) {
      if (value instanceof WebAssembly.Memory) memories.push(value);
    }
    return result;
  };
  for (const name of ['instantiate', 'instantiateStreaming']) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) { return original.apply(this, args).then(keep); };
  }
  state.wasmMemory = () => memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);

  // The visitor's click on the banner's accept button (it reaches the document, shadow DOM or not).
  state.clickAt = null;
  document.addEventListener('click', () => { state.clickAt ??= performance.now(); }, true);

  if (mark) {
    new PerformanceObserver((list) => {
      if (list.getEntries().some((e) => e.name === mark)) resolve();
    }).observe({ type: 'mark', buffered: true });
  }

  // Rendered and visible: in the document, a non-empty box that reaches into the viewport,
  // and neither it nor an ancestor hidden by display, visibility or opacity 0.
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    if (r.bottom <= 0 || r.right <= 0 || r.top >= innerHeight || r.left >= innerWidth) return false;
    return el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true });
  };
  const observer = new MutationObserver(() => check());
  const check = () => {
    if (state.dom !== null) return;
    let el = null;
    try { el = find(); } catch { /* the widget's objects are not there yet */ }
    if (!visible(el)) return;
    state.dom = performance.now();
    observer.disconnect();
    resolve();
  };
  observer.observe(document, { subtree: true, childList: true, attributes: true, characterData: false });
  const frame = () => { check(); if (state.dom === null) requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
}

/**
 * Runs in every page measured, the bare one too, before its scripts: grows V8's cache of
 * small integers' strings to its full size (64 KB, one per renderer) by printing more
 * numbers than its first size holds. Any real site's own scripts grow it; on the bare host
 * page it grows only when two numbers printed happen to share a slot, and then counts as
 * the widget's. Instantiating a wasm module names each exported function after its index
 * (as the JS API says), so Assent's accept grew it or not by the indices of one build.
 */
function warmNumberStringCache() {
  for (let i = 0; i < 4096; i++) String(i);
}

/**
 * In the page, once the banner shows: wait out the TBT window, then read what was seen
 * (`tasks`: the long tasks that started between navigation and the window's end).
 */
async function collect({ timeoutMs, windowMs, mark }) {
  const b = window.__bench;
  const timedOut = await Promise.race([
    b.shown.then(() => false),
    new Promise((r) => setTimeout(() => r(true), Math.max(0, timeoutMs - performance.now()))),
  ]);
  if (timedOut) return { timedOut };
  const until = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));
  const markTime = () => (mark ? performance.getEntriesByName(mark)[0]?.startTime ?? null : null);
  // Whichever came first, the mark or the DOM check, the other follows within a frame or so
  // (and observers deliver late): wait out the window, then read both.
  await until(Math.min(b.dom ?? Infinity, markTime() ?? Infinity) + windowMs);
  const markAt = markTime();
  // The widget's own mark when it sets one, else the probe's DOM check.
  const at = markAt ?? b.dom;
  const end = at + windowMs;
  await until(end);
  const resources = performance.getEntriesByType('resource');
  const before = resources.filter((r) => r.responseEnd <= at);
  return {
    timedOut,
    visible: at,
    method: markAt !== null ? 'mark' : 'dom',
    dom: b.dom,
    mark: markAt,
    tasks: window.__longtasks.filter((t) => t.start < end),
    // encodedBodySize: the body as sent, i.e. brotli bytes (same-origin, so not zeroed).
    bytes: before.reduce((sum, r) => sum + r.encodedBodySize, 0),
    files: before.map((r) => new URL(r.name).pathname),
    bytesAll: resources.reduce((sum, r) => sum + r.encodedBodySize, 0),
    wasmMemory: b.wasmMemory(),
  };
}

/**
 * In the page, after a click on the banner's accept button: waits until the widget has
 * stored the choice in the browser (`stored`, an expression), then out the TBT window, and
 * reads what the click cost: time to stored, long tasks that ended after the click (`tasks`),
 * bytes fetched in all.
 */
async function afterAccept({ stored, timeoutMs, windowMs }) {
  const b = window.__bench;
  const isStored = new Function(`return ${stored};`);
  const clickAt = b.clickAt;
  while (!isStored()) {
    if (performance.now() - clickAt > timeoutMs) return { timedOut: true };
    await new Promise((r) => setTimeout(r, 5));
  }
  const storedAt = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  return {
    timedOut: false,
    storedIn: storedAt - clickAt,
    tasks: window.__longtasks.filter((t) => t.start + t.duration > clickAt),
    bytesAll: performance.getEntriesByType('resource').reduce((sum, r) => sum + r.encodedBodySize, 0),
    wasmMemory: b.wasmMemory(),
  };
}

/** In the page of a returning visitor: the widget's files fetched, and whether a banner shows. */
function returning(banner) {
  // The host's own files: not the services the visitor consented to (answered empty).
  const resources = performance.getEntriesByType('resource').filter((r) => r.name.startsWith(location.origin));
  let shown = null;
  try { shown = new Function(`return ${banner};`)(); } catch { /* none */ }
  return {
    bytesAll: resources.reduce((sum, r) => sum + r.encodedBodySize, 0),
    files: resources.map((r) => new URL(r.name).pathname),
    banner: Boolean(shown && shown.isConnected && shown.checkVisibility()),
    wasmMemory: window.__bench.wasmMemory(),
  };
}

/**
 * A page in a new context under `profile`, with the profile's emulation set over CDP, the
 * probe installed (with `widget`), and failed requests collected into `failed`.
 * `storageState`: a returning visitor's cookies and storage (and what they consented to
 * answered, `answerConsented`).
 */
async function openPage(browser, profileName, widget, failed, storageState) {
  const profile = PROFILES[profileName];
  const context = await browser.newContext({
    viewport: profile.viewport,
    deviceScaleFactor: profile.deviceScaleFactor,
    isMobile: profile.isMobile,
    hasTouch: profile.hasTouch,
    userAgent: userAgent(browser, profile.isMobile),
    storageState,
  });
  const page = await context.newPage();
  page.on('requestfailed', (r) => failed.push(`${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.url()} (${r.status()})`); });
  const cdp = await context.newCDPSession(page);
  if (profile.cpuThrottlingRate) await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpuThrottlingRate });
  if (profile.network) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', profile.network);
  }
  await page.addInitScript(warmNumberStringCache);
  await page.addInitScript(watchLongTasks);
  if (widget) await page.addInitScript(probe, { banner: widget.banner, mark: widget.mark ?? null });
  if (storageState) await answerConsented(page);
  return { context, page, cdp };
}

/**
 * Once a choice is made: Assent's endpoint (it posts the choice), and the services a peer
 * loads once they are consented to (tarteaucitron's Hotjar), answered here, empty, so that
 * neither costs more than a fast server would. Before that, any request off this machine
 * fails, and the run reports it.
 */
async function answerConsented(page) {
  await page.route((u) => u.port === '8787' || u.hostname !== '127.0.0.1', (route) => route.fulfill({
    status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type' },
  }));
}

/**
 * One first visit of `url` under `profile`. `widget` null measures the bare host page (the
 * baseline of memory and of TBT). With `accept`, the visitor then clicks the banner's accept button
 * (`result.accept` says what that cost) and comes back later, in a new context with the
 * first one's cookies and storage (`result.returning`). Returns the metrics, or throws if
 * the banner never showed (or, with `accept`, the choice was never stored).
 */
export async function visit(browser, url, profileName, widget, accept = false) {
  const failed = [];
  const { context, page, cdp } = await openPage(browser, profileName, widget, failed);
  let later = null;
  try {
    await page.goto(url, { waitUntil: widget ? 'commit' : 'load' });
    const result = { failed, wasmMemory: 0 };
    if (widget) {
      Object.assign(result, await page.evaluate(collect, {
        timeoutMs: BANNER_TIMEOUT_MS, windowMs: TBT_WINDOW_MS, mark: widget.mark ?? null,
      }));
      if (result.timedOut) {
        throw new Error(`${widget.name}, ${profileName}: no visible banner within ${BANNER_TIMEOUT_MS / 1000} s`
          + (failed.length ? `; failed requests: ${failed.join(', ')}` : ''));
      }
      Object.assign(result, blocking(result.tasks));
    } else {
      // The bare page's own long tasks, the baseline of the widgets' TBT: from navigation
      // to the window's length after its load (it does nothing after that).
      await page.waitForTimeout(TBT_WINDOW_MS);
      Object.assign(result, blocking(await page.evaluate(() => window.__longtasks)));
    }
    // Memory once the banner has shown and the page has settled.
    Object.assign(result, await heapUsage(cdp));
    if (!widget || !accept) return result;

    // Then the visitor accepts.
    if (await page.evaluate((stored) => new Function(`return ${stored};`)(), widget.stored)) {
      throw new Error(`${widget.name}, ${profileName}: a choice is stored before any click`);
    }
    await answerConsented(page);
    // A real mouse click (CDP input) at the button's centre: Playwright's locators would
    // inject their own script into the page, and its heap would count as the widget's.
    const at = await page.evaluate((button) => {
      const box = new Function(`return ${button};`)().getBoundingClientRect();
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }, widget.accept);
    await page.mouse.click(at.x, at.y);
    const after = await page.evaluate(afterAccept, { stored: widget.stored, timeoutMs: BANNER_TIMEOUT_MS, windowMs: TBT_WINDOW_MS });
    if (after.timedOut) throw new Error(`${widget.name}, ${profileName}: no choice stored within ${BANNER_TIMEOUT_MS / 1000} s of the click`);
    result.accept = { ...after, ...blocking(after.tasks), ...(await heapUsage(cdp)) };

    // The visitor comes back another day: a new context (a new renderer, an empty cache)
    // with this one's cookies and storage, the page, then the TBT window.
    later = await openPage(browser, profileName, widget, failed, await context.storageState());
    await later.page.goto(url, { waitUntil: 'load' });
    await later.page.waitForTimeout(TBT_WINDOW_MS);
    const back = await later.page.evaluate(returning, widget.banner);
    result.returning = { ...back, ...(await heapUsage(later.cdp)) };
    return result;
  } finally {
    await context.close();
    if (later) await later.context.close();
  }
}
