// One test file's world: a browser, the widget's origin and two host origins, shared by its
// scenarios; each scenario gets a fresh collector (fresh database) and a fresh browser
// context. A failing scenario reports its name, the collector's log and the browser console.
import { after, before, test } from 'node:test';

import { launchBrowser, recorderInitScript, widgetOf } from './browser.js';
import { ensureCollectorBinary, startCollector } from './collector.js';
import { startHostServer, startWidgetServer } from './servers.js';

export const SITE = 'pci.qualys.com';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const OPTIONAL = ['new_products', 'announcements', 'upgrades', 'updates'];
export const MANDATORY = ['security', 'initial_use', 'expiration', 'product_enhancement', 'migration'];

const TAIL = 12_000;

/**
 * `setupSuite({ browserArgs, hosts })`: `browserArgs` go to Chromium's command line;
 * `hosts` maps names to host names for more host-page origins (`world[name]`), besides
 * `world.localhost` and `world.ip`.
 */
export function setupSuite({ browserArgs = [], hosts = {} } = {}) {
  const world = {};
  const hostNames = { localhost: 'localhost', ip: '127.0.0.1', ...hosts };
  before(async () => {
    ensureCollectorBinary();
    world.browser = await launchBrowser(browserArgs);
    world.widget = await startWidgetServer();
    for (const [name, hostname] of Object.entries(hostNames)) {
      world[name] = await startHostServer({ hostname, widget: world.widget });
    }
  });
  after(async () => {
    await world.browser?.close();
    await world.widget?.stop();
    for (const name of Object.keys(hostNames)) await world[name]?.stop();
  });

  /**
   * `scenario(name, fn, options)`: options are `allowedOrigins(world) => [...]` (default:
   * both host origins), `collector: false` (start none), `initScripts: [fn|{fn,arg}]`,
   * `timeout` (ms).
   */
  world.scenario = (name, fn, options = {}) => {
    test(name, { timeout: options.timeout ?? 90_000 }, async () => {
      const s = await begin(world, name, options);
      try {
        await fn(s);
        // Whatever a scenario stored, the chain and its signed receipts must check out.
        if (s.collector) {
          const verified = await s.collector.verify();
          if (!verified.ok) throw new Error(`assent-collector verify failed: ${JSON.stringify(verified)}`);
        }
      } catch (error) {
        throw failure(name, error, s);
      } finally {
        await s.end();
      }
    });
  };
  return world;
}

async function begin(world, name, options) {
  const logs = [];
  const collector = options.collector === false
    ? null
    : await startCollector({
      allowedOrigins: options.allowedOrigins
        ? options.allowedOrigins(world)
        : [world.localhost.origin, world.ip.origin],
      ...(options.collectorOptions ? options.collectorOptions(world) : {}),
    });
  const context = await world.browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(15_000); // generous: CI machines with two busy cores
  context.setDefaultNavigationTimeout(20_000);
  await context.addInitScript(recorderInitScript);
  for (const script of options.initScripts || []) {
    if (typeof script === 'function') await context.addInitScript(script);
    else await context.addInitScript(script.fn, script.arg);
  }

  // Every POST to the collector, with the record id it carried and how it ended.
  const posts = [];
  const dialogs = [];
  const track = (request) => {
    if (!collector || request.method() !== 'POST' || !request.url().startsWith(collector.endpoint)) return null;
    let recordId = null;
    try { recordId = JSON.parse(request.postData() || 'null')?.record_id ?? null; } catch { /* not JSON */ }
    let tab = null;
    try { tab = tabs.get(request.frame().page()) ?? null; } catch { /* a request without a frame */ }
    const entry = { recordId, request, tab, status: null, failure: null, done: false, at: Date.now(), endAt: null };
    posts.push(entry);
    return entry;
  };
  const entries = new Map();
  const tabs = new Map();
  context.on('request', (request) => {
    const entry = track(request);
    if (entry) entries.set(request, entry);
  });
  context.on('requestfinished', async (request) => {
    const entry = entries.get(request);
    if (!entry) return;
    const response = await request.response().catch(() => null);
    entry.status = response ? response.status() : null;
    // When the test heard of it, as for a failed request (which has no browser timing): one
    // clock for every entry, good for the failure log only, since the events arrive late. A
    // test that orders requests times them in the page (delivery.test.js, timePagePosts).
    entry.endAt = Date.now();
    entry.done = true;
  });
  context.on('requestfailed', (request) => {
    const entry = entries.get(request);
    if (!entry) return;
    entry.failure = request.failure()?.errorText || 'failed';
    entry.endAt = Date.now();
    entry.done = true;
  });

  const watch = (page) => {
    tabs.set(page, tabs.size + 1);
    const label = () => page.url();
    page.on('console', (m) => logs.push(`[${m.type()}] ${label()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${label()}: ${e.stack || e.message}`));
    page.on('dialog', async (d) => {
      dialogs.push({ type: d.type(), message: d.message(), url: label() });
      logs.push(`[dialog ${d.type()}] ${label()}: ${d.message()}`);
      await d.dismiss().catch(() => {});
    });
  };
  context.on('page', watch);

  return {
    world,
    name,
    collector,
    context,
    console: logs,
    posts,
    dialogs,
    widget: world.widget,
    localhost: world.localhost,
    ip: world.ip,
    ui: widgetOf,
    /** A new tab at `url`, waiting for the `load` event. */
    async open(url) {
      const page = await context.newPage();
      await page.goto(url, { waitUntil: 'load' });
      return page;
    },
    /**
     * A first visit to `url` that accepts everything, as a returning visitor made it: the
     * record is stored and the outbox empty when this returns the record (the tab closed).
     */
    async acceptedBefore(url) {
      const page = await this.open(url);
      const w = widgetOf(page);
      await w.banner.waitFor({ state: 'visible' });
      await w.bannerButton('accept-all').click();
      const [record] = await collector.waitForRecords({ count: 1 });
      // Under the site the record names, which is the page's host name's where the page
      // declares none it can use: under another site's key the outbox always reads empty,
      // and the page closed while its record's POST was still on its way.
      await eventually('an empty outbox', async () => ['[]', null].includes(await w.storage(record.site, 'outbox')));
      await page.close();
      return record;
    },
    /**
     * The records stored once what was on its way has arrived: at least `count`, then every
     * POST of a tab still open answered or failed (a closed tab's keepalive ones may never
     * be reported), then read again. An exact count checked on the read that first reached
     * `count` could not see one more record arriving just after.
     */
    async settledRecords({ count = 1, timeout } = {}) {
      await collector.waitForRecords({ count, timeout });
      const closed = (request) => {
        try { return request.frame().page().isClosed(); } catch { return true; }
      };
      await eventually('every POST of an open tab answered', () => posts.every((p) => p.done || closed(p.request)));
      return collector.records();
    },
    /** Successful (2xx) POSTs per record id. */
    deliveredCounts() {
      const counts = {};
      for (const p of posts) {
        if (p.status !== null && p.status >= 200 && p.status < 300) counts[p.recordId] = (counts[p.recordId] || 0) + 1;
      }
      return counts;
    },
    /** Functions run at the end of the scenario (servers it started). */
    cleanup: [],
    async end() {
      await context.close().catch(() => {});
      for (const fn of this.cleanup.reverse()) await fn();
      await collector?.stop();
    },
  };
}

function failure(name, error, s) {
  const parts = [`scenario failed: ${name}`, String(error?.stack || error)];
  if (s.collector) parts.push(`--- collector log (last ${TAIL} chars) ---\n${s.collector.log().slice(-TAIL)}`);
  parts.push(`--- browser console (${s.console.length} lines) ---\n${s.console.slice(-80).join('\n')}`);
  parts.push(`--- POSTs to the collector (times: when the test heard of each) ---\n${s.posts.map((p) => `tab ${p.tab}: ${p.recordId} [${p.at}..${p.endAt ?? ''}] → ${p.status ?? p.failure ?? 'pending'}`).join('\n') || '(none)'}`);
  return new Error(parts.join('\n'));
}

/** Polls `check()` until it returns a truthy value, or throws with `what` after `timeout` ms. */
export async function eventually(what, check, { timeout = 15_000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
