// The banner the loader paints on a first visit (loader/banner.js), with the built files:
// it is the widget's own (same elements, attributes and words, in English, German and
// Arabic), nothing more is fetched until the visitor clicks it, a click on it is not lost
// (the wasm records it once it arrives, on this page or the next, and once when two tabs
// were handed it), it works from the keyboard, no frame shows it together with the
// widget's own, and a glue file that does not match its SRI hash runs nothing and leaves no
// dead banner behind, whether the browser fetches it through modulepreload or, without it,
// a module script.
import assert from 'node:assert/strict';

import { holdWasm, widgetReady } from '../harness/browser.js';
import { EMBEDDED, assertRecord } from '../harness/records.js';
import { OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const world = setupSuite();

/** Opens `url` with the wasm held back until `release()` (harness `holdWasm`). */
async function openHoldingWasm(s, url) {
  const page = await s.context.newPage();
  const held = await holdWasm(page);
  const requested = [];
  page.on('request', (request) => {
    const name = new URL(request.url()).pathname.split('/').pop();
    if (/^assent_bg\.(js|wasm)$/.test(name)) requested.push(name);
  });
  FETCHED.set(page, requested);
  await page.goto(url, { waitUntil: 'load' });
  return { page, ...held };
}

const FETCHED = new WeakMap();

/** The glue and wasm requests of a page opened by `openHoldingWasm`, sorted. */
function fetched(page) {
  return [...FETCHED.get(page)].sort();
}

/** The widget's banner as a tree: each element's name, attributes (sorted) and children. */
function bannerTree(page) {
  return page.evaluate(() => {
    const shadow = document.querySelector('assent-host').shadowRoot;
    const tree = (node) => (node.nodeType === Node.TEXT_NODE ? node.data : {
      tag: node.localName,
      attributes: [...node.attributes].map((a) => `${a.name}=${a.value}`).sort(),
      children: [...node.childNodes].map(tree),
    });
    const roots = [...shadow.querySelectorAll('.assent')];
    const banners = [...shadow.querySelectorAll('section.banner')];
    return {
      count: [roots.length, banners.length],
      root: roots[0] && tree(roots[0]).attributes,
      banner: banners[0] && tree(banners[0]),
      // The widget's own root holds its live status line; the painted one does not.
      widgets: shadow.querySelectorAll('.assent > p[role=alert]').length,
    };
  });
}

for (const lang of ['en', 'de', 'ar']) {
  world.scenario(`the painted banner is the widget's own (${lang}): same elements, attributes and words, before the wasm arrives`, async (s) => {
    const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang });
    const { page, release, caught } = await openHoldingWasm(s, url);
    const w = s.ui(page);
    await w.banner.waitFor({ state: 'visible' });
    const painted = await bannerTree(page);
    assert.equal(caught(), false, 'the wasm not even asked for');
    assert.deepEqual(painted.count, [1, 1], 'one banner');
    assert.equal(painted.widgets, 0, 'painted by the loader');
    assert.equal(await page.evaluate(() => performance.getEntriesByName('assent:banner-visible').length), 1,
      'the banner-visible mark is set when it is painted');
    assert.equal(await page.evaluate(() => performance.getEntriesByName('assent:ready').length), 0, 'not ready');
    await page.waitForLoadState('networkidle');
    assert.deepEqual(fetched(page), [], 'neither the glue nor the wasm fetched before a click');

    // The widget's own banner: open the preferences from the painted one, then close them.
    await w.bannerButton('open').click();
    await eventually('the click fetches the glue and the wasm', () => fetched(page).join() === 'assent_bg.js,assent_bg.wasm');
    assert.deepEqual(await page.evaluate(() => {
      const banner = document.querySelector('assent-host').shadowRoot.querySelector('section.banner');
      const open = banner.querySelector('[data-action=open]');
      return [banner.getAttribute('aria-busy'), open.getAttribute('aria-busy'), getComputedStyle(open, '::after').content];
    }), [null, 'true', '"…" / ""'], 'while the wasm arrives, the open button says it is busy, and shows it (seen only: its name stays the catalogue words); not the banner, whose accept and decline still count');
    release();
    await w.dialog.waitFor({ state: 'visible' });
    await w.dialogButton('close').click();
    await w.banner.waitFor({ state: 'visible' });
    const own = await bannerTree(page);
    assert.deepEqual(own.count, [1, 1], 'still one banner');
    assert.deepEqual(own.root, painted.root, 'the same class, lang and dir');
    assert.deepEqual(own.banner, painted.banner, 'the same section, summary and buttons');
    assert.equal(own.widgets, 1, 'the widget\'s own');
    assert.equal(await page.evaluate(() => performance.getEntriesByName('assent:banner-visible').length), 1,
      'the mark is set once');
    await widgetReady(page);
  });
}

world.scenario('accept clicked on the painted banner: it goes at once, and the record is stored once the wasm runs', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const { page, release, delivered, caught } = await openHoldingWasm(s, url);
  const w = s.ui(page);
  await w.bannerButton('accept-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  await eventually('the wasm asked for, and held back', () => caught());
  assert.equal(delivered(), false, 'the wasm has not arrived');
  assert.equal(await w.preferences(), null, 'not saved yet');
  // Every banner the wasm draws from now on is counted, even one gone in the same frame.
  await page.evaluate(() => {
    window.drawnBanners = 0;
    new MutationObserver((changes) => {
      for (const node of changes.flatMap((change) => [...change.addedNodes])) {
        if (node.nodeType === Node.ELEMENT_NODE && node.querySelector('section.banner')) window.drawnBanners++;
      }
    }).observe(document.querySelector('assent-host').shadowRoot, { childList: true, subtree: true });
  });

  release();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  assert.equal(await w.banners.count(), 0, 'no banner comes back');
  await widgetReady(page);
  assert.equal(await page.evaluate(() => window.drawnBanners), 0, 'the wasm never draws the banner the click answered');
  assert.deepEqual((await w.preferences()).record_id, record.record_id);
});

world.scenario('open, then decline clicked on the painted banner before the wasm arrives: the decline is what counts', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const { page, release, caught } = await openHoldingWasm(s, url);
  const w = s.ui(page);
  await w.bannerButton('open').click();
  await eventually('the wasm asked for, and held back', () => caught());
  await w.bannerButton('decline-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  release();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
  await widgetReady(page);
  assert.equal(await w.dialog.isVisible(), false, 'the highlights not opened over the answered banner');
  assert.equal(await w.banners.count(), 0, 'no banner comes back');
});

world.scenario('accept clicked on the painted banner, then the page left before the wasm arrived: the next page records it, showing no banner', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const first = await openHoldingWasm(s, url);
  const w = s.ui(first.page);
  await w.bannerButton('accept-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  await eventually('the wasm asked for, and held back', () => first.caught());
  await first.page.close();
  assert.equal(first.delivered(), false, 'the first page never had the wasm');
  assert.deepEqual(await s.collector.records(), [], 'nothing recorded yet');

  const next = await s.open(url);
  const [record] = await s.collector.waitForRecords({ count: 1 });
  // Read once the click is recorded, after any frame a banner could have been painted in
  // (the mark stays once set).
  const shown = await next.evaluate(() => performance.getEntriesByName('assent:banner-visible').length);
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  assert.equal(shown, 0, 'no banner painted on the next page');
  const after = s.ui(next);
  assert.equal(await after.banners.count(), 0, 'and none shown by the widget');
  await eventually('the kept click forgotten', async () => (await after.storage(SITE, 'painted')) === null);
  await eventually('the record delivered', async () => ['[]', null].includes(await after.storage(SITE, 'outbox')));
  // The page after: a returning visitor, who sends nothing (the click is not handed over
  // again) and is shown nothing.
  const sent = s.posts.length;
  const served = s.widget.wasmRequests();
  await next.reload({ waitUntil: 'load' });
  await next.waitForLoadState('networkidle');
  // The loader decides before the load event: a page with something to send fetches the wasm.
  assert.equal(s.widget.wasmRequests(), served, 'nothing to hand over: no wasm fetched');
  assert.equal(s.posts.length, sent, 'nothing sent again');
  assert.equal(await after.host.count(), 0, 'no banner');
  assert.equal((await s.collector.records()).length, 1, 'recorded once');
});

world.scenario('accept clicked on the painted banner, and a second tab opened before the wasm arrived: both are handed the click, it is recorded once', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const first = await openHoldingWasm(s, url);
  await s.ui(first.page).bannerButton('accept-all').click();
  const kept = await eventually('the click kept', async () => s.ui(first.page).storage(SITE, 'painted'));
  await eventually("the first tab's wasm asked for, and held back", () => first.caught());

  // The second tab's loader finds the kept click and hands it to its own wasm.
  const second = await s.open(url);
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  const [, , at, id] = kept.split(' ');
  assert.equal(record.record_id, id, 'under the record id kept at the click');
  assert.equal(Date.parse(record.client_time), Number(at), 'at the moment of the click');
  await widgetReady(second);
  await eventually('the record delivered', async () => ['[]', null].includes(await s.ui(second).storage(SITE, 'outbox')));

  // The first tab's wasm arrives after that: the click it was handed is recorded already.
  first.release();
  await widgetReady(first.page);
  const w = s.ui(first.page);
  assert.equal(await w.banners.count(), 0, 'the first tab asks nothing');
  // Opened through the API once it runs: by then the click has been handled (or not).
  await first.page.evaluate(() => window.Assent.open());
  await w.dialog.waitFor({ state: 'visible' });
  // A second record would be in the first tab's outbox, or, once sent, at the collector,
  // which stores a repeat of one id once: the record's save tells the page, at once.
  assert.deepEqual((await w.seen()).changes, [], 'the first tab records nothing');
  assert.ok(['[]', null].includes(await w.storage(SITE, 'outbox')), 'nothing on its way from the first tab');
  assert.equal((await s.collector.records()).length, 1, 'one click, one record');
  assert.equal((await w.preferences()).record_id, record.record_id, 'the first tab shows that record');
});

world.scenario('two tabs show the painted banner, one accepts, then the other declines and is left before its wasm arrives: the next page records the decline, the later word', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const first = await openHoldingWasm(s, url);
  const second = await openHoldingWasm(s, url);
  await s.ui(first.page).bannerButton('accept-all').click();
  await eventually("the first tab's wasm asked for", () => first.caught());
  first.release();
  const [accepted] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(accepted, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  await eventually('the accept delivered', async () => ['[]', null].includes(await s.ui(first.page).storage(SITE, 'outbox')));
  await first.page.close();

  // The second tab's banner, painted before the accept, is still up.
  const w = s.ui(second.page);
  await w.bannerButton('decline-all').click();
  const kept = await eventually('the decline kept', async () => {
    const value = await w.storage(SITE, 'painted');
    return /decline-all/.test(value) && value;
  });
  await eventually("the second tab's wasm asked for, and held back", () => second.caught());
  await second.page.close();

  const next = await s.open(url);
  const records = await s.collector.waitForRecords({ count: 2 });
  const declined = records.find((record) => record.record_id !== accepted.record_id);
  assertRecord(declined, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
  assert.equal(declined.record_id, kept.split(' ')[3], 'under the record id kept at the click');
  await widgetReady(next);
  assert.equal(await s.ui(next).banners.count(), 0, 'no banner on the next page');
  assert.deepEqual((await s.ui(next).preferences()).record_id, declined.record_id, 'the decline is the choice the page holds');
});

world.scenario('accept clicked on the painted banner offline: the widget cannot be fetched, the choice is kept, and the next page online records it', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await s.context.setOffline(true);
  await w.bannerButton('accept-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  await eventually('the failed start reported', () => s.console.some((line) => /Assent: the widget could not start/.test(line)));
  assert.match(await w.storage(SITE, 'painted'), /^sha256:[0-9a-f]{8} accept-all \d+ [0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/,
    'the click is kept, under the notice hash, with its time and record id');
  await page.close();

  await s.context.setOffline(false);
  const next = await s.open(url);
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  assert.equal(await s.ui(next).banners.count(), 0, 'no banner on the next page');
});

world.scenario('a click kept by an earlier build, under the whole notice hash, is still recorded on the next page', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.open(url);
  await s.ui(page).banner.waitFor({ state: 'visible' });
  await page.evaluate(([key, value]) => localStorage.setItem(key, value),
    [`assent:v1:${SITE}:painted`, `${s.widget.embeddedNoticeHash} decline-all`]);
  await page.close();

  const next = await s.open(url);
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
  assert.equal(await s.ui(next).banners.count(), 0, 'no banner on the next page');
});

world.scenario('a click kept on the painted banner is forgotten only once its choice is stored, even on a CPU so slow that the widget\'s first render yields to the page', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.context.newPage();
  const held = await holdWasm(page);
  // Each removal of the kept click notes whether the choice was stored by then: a tab
  // closed right after a removal that came first would lose the click.
  await page.addInitScript(() => {
    const remove = Storage.prototype.removeItem;
    window.forgotten = [];
    Storage.prototype.removeItem = function (key) {
      if (/:painted$/.test(key)) window.forgotten.push(this.getItem(key.replace(/painted$/, 'choice')) !== null);
      return remove.call(this, key);
    };
  });
  await page.goto(url, { waitUntil: 'load' });
  const w = s.ui(page);
  await w.bannerButton('accept-all').click();
  await eventually('the wasm asked for, and held', () => held.caught());
  // Yew yields to the page when a render takes over 16 ms: at 20x it does. Only the
  // widget's start is slowed, not the page's load before it.
  const cdp = await s.context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
  held.release();
  await widgetReady(page);
  const forgotten = await eventually('the kept click forgotten', () => page.evaluate(() => (window.forgotten.length ? window.forgotten : null)));
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  assert.deepEqual(forgotten, [true], 'forgotten once, after the choice was stored');
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
});

/**
 * Notes, at every frame before it is painted, what of the widget shows: "painted" (the
 * loader's banner) and "own" (anything the wasm draws: its banner or its dialog), in
 * `window.shownPerFrame`, one entry each time that changes.
 */
const SHOWN_PER_FRAME = () => {
  window.shownPerFrame = [];
  const frame = () => {
    const shadow = document.querySelector('assent-host')?.shadowRoot;
    const shown = [...(shadow?.querySelectorAll('.assent') ?? [])]
      .map((root) => [root.closest('.painted') ? 'painted' : 'own', root])
      .filter(([, root]) => [...root.querySelectorAll('section.banner, dialog')].some((e) => e.checkVisibility()))
      .map(([which]) => which)
      .join('+');
    if (window.shownPerFrame.at(-1) !== shown) window.shownPerFrame.push(shown);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
};

world.scenario('the widget takes over from the painted banner in one step, then opens its dialog over its banner: no frame shows both banners, or nothing, even on a CPU so slow that its renders yield to the page', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  // A signed-in page that names the visitor starts the widget without a click.
  const link = await s.collector.link({ email: 'jane.doe@example.com', site: SITE, page: url });
  const page = await s.context.newPage();
  await page.addInitScript(SHOWN_PER_FRAME);
  await page.goto(url, { waitUntil: 'load' });
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  // Yew yields to the page when a render takes over 16 ms: at 20x it does. Only the
  // widget's start is slowed (it waits for the visitor, or this call), not the page's load.
  const cdp = await s.context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 20 });
  await page.evaluate((token) => window.Assent.identify(token), link.token);
  await w.dialog.waitFor({ state: 'visible' });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  const frames = await page.evaluate(() => window.shownPerFrame);
  assert.deepEqual(frames.filter((shown) => shown.includes('+')), [], `never both (frames: ${frames.join(' | ')})`);
  assert.ok(frames.includes('painted') && frames.includes('own'), `both seen (frames: ${frames.join(' | ')})`);
  assert.ok(frames.indexOf('painted') < frames.indexOf('own'), `the painted banner, then the widget's own (frames: ${frames.join(' | ')})`);
  // Yew may yield between drawing the dialog and the effect that opens it: the widget's
  // banner stays until the dialog is open.
  assert.ok(!frames.slice(frames.indexOf('painted')).includes(''), `once shown, never nothing (frames: ${frames.join(' | ')})`);
});

world.scenario('the painted banner from the keyboard: Tab reaches its buttons, Enter on decline records the choice', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const { page, release, delivered, caught } = await openHoldingWasm(s, url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  const focused = () => page.evaluate(() => document.querySelector('assent-host')
    .shadowRoot.activeElement?.getAttribute('data-action') ?? null);
  for (let i = 0; i < 20 && (await focused()) !== 'decline-all'; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(), 'decline-all', 'Tab reaches the painted decline button');
  // A fetch the focus started may reach Playwright after the key presses return, but the
  // loader's start puts the glue's element in the page at once, in the key's own task.
  const glue = await page.evaluate(() => document.querySelectorAll('[href*="assent_bg.js"], [src*="assent_bg.js"]').length);
  assert.deepEqual([fetched(page), glue, caught()], [[], 0, false], 'focus alone fetches nothing');

  await page.keyboard.press('Enter');
  await w.banner.waitFor({ state: 'hidden' });
  await eventually('the wasm asked for, and held back', () => caught());
  assert.equal(delivered(), false, 'the wasm has not arrived');
  release();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
});

/**
 * Makes the browser one that does not know `<link rel=modulepreload>` (Safari before 17,
 * Firefox before 115): the loader then fetches the glue with a module script element.
 */
const WITHOUT_MODULEPRELOAD = () => {
  const supports = DOMTokenList.prototype.supports;
  DOMTokenList.prototype.supports = function (token) { return token !== 'modulepreload' && supports.call(this, token); };
};

for (const [how, initScripts] of [['a modulepreload link', []], ['a module script (no modulepreload)', [WITHOUT_MODULEPRELOAD]]]) {
  world.scenario(`a glue file that does not match its SRI hash, fetched by ${how}: nothing of it runs, no banner is left, the console says why`, async (s) => {
    const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
    const page = await s.context.newPage();
    await page.route('**/assent_bg.js', async (route) => {
      const response = await route.fetch();
      const body = `${await response.text()}\nwindow.__tampered = true;\n`;
      await route.fulfill({ response, body });
    });
    await page.goto(url, { waitUntil: 'load' });
    const w = s.ui(page);
    await w.bannerButton('open').click();
    await eventually('the failure reported', () => s.console.some((line) => /Assent: the widget could not start/.test(line)));
    assert.equal(await page.evaluate(() => window.__tampered ?? null), null, 'the tampered glue did not run');
    assert.equal(await w.banners.count(), 0, 'no banner whose buttons could not work');
  }, { initScripts });
}

world.scenario('a browser without modulepreload: the glue comes through a module script with its SRI, and the choice is recorded', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.bannerButton('decline-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
  const glue = await page.evaluate(() => [...document.querySelectorAll('script[type=module]')]
    .map((e) => ({ src: e.src, integrity: e.integrity })));
  assert.equal(glue.length, 1, 'one module script');
  assert.match(glue[0].src, /\/assent_bg\.js$/);
  assert.equal(glue[0].integrity, s.widget.integrity['assent_bg.js'], 'with the glue\'s SRI');
}, { initScripts: [WITHOUT_MODULEPRELOAD] });
