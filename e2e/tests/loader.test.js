// The loader (no wasm for a returning visitor with nothing to send) and the demo pages as
// built into dist/, served by the collector itself.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { widgetReady } from '../harness/browser.js';
import { distFiles, root } from '../harness/paths.js';
import { EMBEDDED, assertRecord } from '../harness/records.js';
import { startGate } from '../harness/servers.js';
import { OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const run = promisify(execFile);
const world = setupSuite();
const dist = distFiles().dir;

world.scenario('returning visitor: no wasm download, Assent.preferences() works, data-assent-open loads it', async (s) => {
  const url = s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint,
    bodyHtml: '<footer><a href="#privacy" id="privacy-choices" data-assent-open>Privacy choices</a></footer>',
  });
  const record = await s.acceptedBefore(url);

  const wasmSeen = [];
  const page = await s.context.newPage();
  page.on('request', (request) => {
    if (/(\.wasm|assent_bg\.js)$/.test(new URL(request.url()).pathname)) wasmSeen.push(request.url());
  });
  const served = s.widget.wasmRequests();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  const w = s.ui(page);
  assert.deepEqual(wasmSeen, [], 'no request for the wasm or its glue');
  assert.equal(s.widget.wasmRequests(), served, 'the widget origin served no wasm');
  assert.equal(await w.host.count(), 0, 'nothing mounted');
  const preferences = await w.preferences();
  assert.equal(preferences?.record_id, record.record_id, 'Assent.preferences() returns the stored record');
  assert.deepEqual(preferences, record, 'exactly the stored record');

  await page.locator('#privacy-choices').click();
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(wasmSeen.length, 2, 'the glue and the wasm are fetched once, on demand');
  for (const id of OPTIONAL) assert.equal(await w.toggle(id).isChecked(), true, `${id} shows the stored grant`);
  await w.toggle('updates').click();
  await w.dialogButton('save').click();
  const records = await s.collector.waitForRecords({ count: 2 });
  assert.equal(records[1].site, SITE);
  assert.equal(records[1].purposes.find((p) => p.purpose === 'updates').state, 'denied');
});

// `url` opened in a new page of the scenario's browser, as a returning visitor: no request
// for the wasm or its glue, nothing painted or mounted. Gives the page's widget.
async function returningWithoutWasm(s, url) {
  const wasmSeen = [];
  const page = await s.context.newPage();
  page.on('request', (request) => {
    if (/(\.wasm|assent_bg\.js)$/.test(new URL(request.url()).pathname)) wasmSeen.push(request.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  const w = s.ui(page);
  assert.deepEqual(wasmSeen, [], 'no request for the wasm or its glue');
  assert.equal(await w.host.count(), 0, 'no banner painted, nothing mounted');
  return w;
}

// Templates often leave spaces around an attribute's value, and a site may be written as
// people write it (upper case, a port). The loader reads the site as the wasm does (trimmed;
// one that is not a lowercase host name is the page's host name's), or a returning
// visitor's choice, stored under the wasm's key, would never be found without the wasm and
// the banner would be painted on every page.
for (const [declared, site, why] of [
  [`  ${SITE}\n`, SITE, 'spaces around it'],
  ['PCI.Qualys.com:443', 'localhost', 'upper case and a port: the page\'s host name'],
]) {
  world.scenario(`data-site with ${why}: a returning visitor still downloads no wasm and sees no banner`, async (s) => {
    const url = s.localhost.page({ site: declared, endpoint: s.collector.endpoint });
    const record = await s.acceptedBefore(url);
    assert.equal(record.site, site, 'the site the record names');

    const w = await returningWithoutWasm(s, url);
    assert.equal((await w.preferences())?.record_id, record.record_id, 'Assent.preferences() finds the stored choice');
  });
}

// A page whose host name is not a site's name (the trailing dot of a fully qualified
// `www.qualys.com.`, here `localhost.`): the wasm keys the choice under localhost, and so
// does the loader, or a returning visitor would download the wasm on every page.
world.scenario('a page at a host name with a trailing dot: a returning visitor still downloads no wasm', async (s) => {
  const url = s.localhost.page({ site: null, endpoint: null }).replace('//localhost:', '//localhost.:');
  assert.match(url, /^http:\/\/localhost\.:/);
  const first = await s.open(url);
  const chosen = s.ui(first);
  await chosen.banner.waitFor({ state: 'visible' });
  await chosen.bannerButton('accept-all').click();
  await eventually('the choice stored under localhost', async () => (await chosen.storage('localhost', 'choice')) !== null);
  await first.close();

  const w = await returningWithoutWasm(s, url);
  assert.equal((await w.preferences())?.site, 'localhost', 'Assent.preferences() finds the stored choice');
});

// The demo's address (scripts/demo.sh): its pages hard-code this endpoint, allow it in their
// CSP, and are opened here at it too. Nothing listens there: every request to it is handed
// to this test's collector, on whatever port it bound, so nothing depends on port 8787 being
// free and the collector's allow-list is the demo's own, known before the collector starts.
const DEMO_ORIGIN = 'http://127.0.0.1:8787';

world.scenario('the six demo pages, served by the collector: each shows the banner and stores its site; the sample subscriber’s manage link names them', async (s) => {
  const pages = readdirSync(join(dist, 'sites')).filter((f) => f.endsWith('.html')).sort();
  assert.equal(pages.length, 6, `six covered-site pages in dist/sites (${pages.join(', ')})`);
  await s.context.route(`${DEMO_ORIGIN}/**`, async (route) => {
    const response = await route.fetch({ url: route.request().url().replace(DEMO_ORIGIN, s.collector.origin) });
    return route.fulfill({ response });
  });

  const expected = [];
  for (const [i, file] of pages.entries()) {
    const html = readFileSync(join(dist, 'sites', file), 'utf8');
    const site = html.match(/data-site="([^"]+)"/)?.[1];
    assert.ok(site, `${file} declares data-site`);
    assert.match(html, /data-endpoint="http:\/\/127\.0\.0\.1:8787\/v1\/records"/, `${file} posts to the demo collector`);
    expected.push(site);
    const page = await s.open(`${DEMO_ORIGIN}/sites/${file}`);
    const w = s.ui(page);
    await w.banner.waitFor({ state: 'visible' });
    const accept = i % 2 === 0;
    await w.bannerButton(accept ? 'accept-all' : 'decline-all').click();
    const records = await s.collector.waitForRecords({ count: i + 1 });
    const record = records.at(-1);
    assertRecord(record, {
      site,
      notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash },
      granted: accept ? OPTIONAL : [],
    });
    // Nothing a site owner trying the demo would see in the console: no page error, and no
    // error such as a file the page asks for that the server does not have (its icon).
    const errors = s.console.filter((line) => /^\[(pageerror|error)\]/.test(line));
    assert.deepEqual(errors, [], `${file}: no errors in the console`);
    await page.close();
  }
  const stored = (await s.collector.records()).map((r) => r.site).sort();
  assert.deepEqual(stored, [...expected].sort(), 'one record per covered site');

  // The demo's sample subscriber e-mail (scripts/demo.sh writes it the same way): its
  // "manage my preferences" link opens pci.qualys.com for that person.
  await run(join(root, 'scripts', 'subscriber-page.sh'), [
    s.collector.binary, join(dist, 'subscriber.html'), DEMO_ORIGIN,
    s.collector.database, s.collector.subjectKey, s.collector.linkKey,
  ], { timeout: 15_000 });
  const mail = await s.open(`${DEMO_ORIGIN}/subscriber.html`);
  assert.match(await mail.locator('pre.mail').textContent(), /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
  // Each link's own expiry: the unsubscribe link outlives the manage link by most of a year.
  const said = (await mail.locator('main').textContent()).replace(/\s+/g, ' ');
  const [, manageExpires, unsubscribeExpires] = /the manage link expires (\S+), the unsubscribe link (\S+)\./.exec(said) ?? [];
  assert.ok(Date.parse(unsubscribeExpires) - Date.parse(manageExpires) > 300 * 86_400_000, said);
  await mail.getByRole('link', { name: 'Manage my preferences' }).click();
  await mail.waitForURL(/\/sites\/pci\.qualys\.com\.html/);
  const w = s.ui(mail);
  await w.dialog.waitFor({ state: 'visible' });
  await eventually('the dialog names the subscriber', async () => (await w.dialog.textContent()).includes('j•••@example.com'));
  await w.dialogButton('decline-all').click();
  const rows = await eventually('the subscriber’s record', async () => {
    const all = await s.collector.rows();
    return all.length === pages.length + 1 && all;
  });
  assert.match(rows.at(-1).subject ?? '', /^hmac-sha256:/, 'stored under the subscriber');
}, {
  allowedOrigins: () => [DEMO_ORIGIN],
  collectorOptions: () => ({ staticDir: dist }),
});

world.scenario('the collector can host the widget for a covered site on another origin', async (s) => {
  const widgetOrigin = s.collector.origin;
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, scriptUrl: `${widgetOrigin}/assent.js` });
  assert.notEqual(new URL(url).origin, widgetOrigin, 'the page and the widget are on two origins');
  const fetched = [];
  s.context.on('requestfinished', (request) => {
    if (/\/(assent\.js|assent_bg\.js|assent_bg\.wasm)$/.test(request.url())) fetched.push(request.url());
  });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('accept-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  // The wasm is compiled as it streams in, so its record may be stored before the test
  // hears that its download finished: the event comes when it comes.
  await eventually('the three files fetched', () => fetched.length >= 3);
  assert.deepEqual(
    fetched.sort(),
    ['assent.js', 'assent_bg.js', 'assent_bg.wasm'].map((name) => `${widgetOrigin}/${name}`),
    'the loader, the glue and the wasm, each from the collector',
  );
}, {
  collectorOptions: () => ({ staticDir: dist }),
});

world.scenario('a data-assent-open link goes where it points when the widget cannot start', async (s) => {
  const policy = s.localhost.file('/privacy-statement.html', '<!doctype html><html lang="en"><title>Privacy statement</title><h1>Privacy statement</h1>', 'text/html');
  const url = s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint,
    bodyHtml: `<footer><a href="${new URL(policy).pathname}" id="privacy-choices" data-assent-open>Privacy choices</a></footer>`,
  });
  const page = await s.open(url);
  await s.ui(page).banner.waitFor({ state: 'visible' });
  await page.route('**/assent_bg.wasm', (route) => route.abort());
  await page.locator('#privacy-choices').click();
  await page.waitForURL(policy);
  assert.equal(await page.title(), 'Privacy statement');
});

// A site that takes data-endpoint out while a visitor's records wait: its pages can't send
// them, so they fetch no wasm for them; a page with the endpoint sends them.
world.scenario('records waiting, a page without data-endpoint: no wasm, the choice stands; a page with it sends them', async (s) => {
  // Through a gate that cuts every connection while down: page.route can't stop the
  // keepalive request the first page sends as it closes.
  const gate = await startGate(s.collector.origin);
  s.cleanup.push(() => gate.stop());
  gate.down();
  const withEndpoint = s.localhost.page({ site: SITE, endpoint: `${gate.origin}/v1/records` });
  const first = await s.open(withEndpoint);
  const w = s.ui(first);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('decline-all').click();
  const id = await eventually('the choice', async () => (await w.preferences())?.record_id);
  await eventually('the record waiting', async () => (await w.storage(SITE, 'outbox'))?.includes(id));
  await first.close();

  const without = await returningWithoutWasm(s, s.localhost.page({ site: SITE }));
  assert.equal((await without.preferences())?.record_id, id, 'Assent.preferences() finds the choice');
  assert.ok((await without.storage(SITE, 'outbox')).includes(id), 'the record still waits');

  // The harness's own check, not the widget's: the gate held.
  assert.equal((await s.collector.records()).length, 0, 'the gate let nothing through to the collector');
  gate.up();
  const later = s.ui(await s.open(withEndpoint));
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assert.equal(record.record_id, id, 'the waiting record is sent');
  assert.equal(await later.banners.count(), 0, 'and no banner asks again');
});

// A glue that could not be fetched once (a network blip, say) is tried again: the page's
// next Assent.open() starts the widget. (Chromium keeps no failed module fetch.)
world.scenario('the glue fails to load once: the next Assent.open() on the same page opens the dialog', async (s) => {
  const url = s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint,
    bodyHtml: '<footer><button type="button" id="privacy-choices" data-assent-open>Privacy choices</button></footer>',
  });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  const failed = new Promise((resolve) => {
    page.on('console', (message) => { if (/could not start/.test(message.text())) resolve(); });
  });
  await page.route('**/assent_bg.js*', (route) => route.abort(), { times: 1 });
  await page.locator('#privacy-choices').click();
  await failed;
  assert.equal(await w.dialog.count(), 0, 'no dialog while the glue is out of reach');
  await page.locator('#privacy-choices').click();
  await w.dialog.waitFor({ state: 'visible' });
});

world.scenario('a page that swaps its body for the next page\'s (Turbo Drive, htmx): the banner stays, and the new body\'s data-assent-open opens the highlights', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  // As Turbo Drive renders the next page: a new body in the old one's place, the head's
  // scripts (the widget's) not run again.
  const nextPage = () => page.evaluate(() => {
    const body = document.createElement('body');
    const link = body.appendChild(document.createElement('a'));
    link.href = '#privacy';
    link.id = 'privacy-choices';
    link.textContent = 'Privacy choices';
    link.setAttribute('data-assent-open', '');
    document.body.replaceWith(body);
  });
  await nextPage();
  assert.equal(await w.banner.isVisible(), true, 'the painted banner still shows');
  await page.locator('#privacy-choices').click();
  await w.dialog.waitFor({ state: 'visible' });
  await w.dialogButton('close').click();
  await w.banner.waitFor({ state: 'visible' });
  await nextPage();
  assert.equal(await w.banner.isVisible(), true, "the widget's own banner still shows");
  // As htmx's hx-boost renders the next page: the body's content replaced, the body kept.
  await page.evaluate(() => { document.body.innerHTML = '<main><p>The next page.</p></main>'; });
  assert.equal(await w.banner.isVisible(), true, 'and after the body\'s content is replaced');
  await w.bannerButton('decline-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assert.equal(record.site, SITE);
});

world.scenario('an element with id="Assent" or a cross-origin frame named Assent does not stop the widget', async (s) => {
  // Each is window.Assent until the loader defines its own. The frame is sandboxed: another
  // origin (an opaque one) from the start, whose properties throw when read.
  const url = s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint,
    bodyHtml: '<p id="Assent">A host element named Assent.</p><iframe name="Assent" sandbox title="A frame"></iframe>',
  });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => typeof window.Assent.preferences), 'function', 'window.Assent is the API');
  await w.bannerButton('decline-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assert.equal(record.site, SITE);
});

world.scenario('the script tag twice on one page: one widget, one banner, one record', async (s) => {
  const tag = `<script src="${s.widget.scriptUrl}" integrity="${s.widget.integrity['assent.js']}" crossorigin="anonymous" data-site="${SITE}" data-endpoint="${s.collector.endpoint}" defer></script>`;
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, bodyHtml: tag });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  assert.equal(await page.locator('assent-host').count(), 1, 'one host element');
  await w.bannerButton('decline-all').click();
  await s.collector.waitForRecords({ count: 1 });
  await widgetReady(page);
  assert.equal(await page.locator('assent-host').count(), 1, 'still one, with the wasm running');
  assert.equal((await s.collector.records()).length, 1, 'one record');
  assert.deepEqual(s.console.filter((line) => /^\[(pageerror|error)\]/.test(line)), [], 'the second tag ran without an error');
});

world.scenario('the widget leaves no global but window.Assent', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.open(url);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  // The whole widget, not the loader alone: its glue and wasm running too.
  await w.runWithOwnBanner();
  await widgetReady(page);
  const added = await page.evaluate(() => {
    // A blank frame's window has the same built-in globals as this one; the rest were added.
    const frame = document.createElement('iframe');
    document.body.append(frame);
    const builtIn = new Set(Object.getOwnPropertyNames(frame.contentWindow));
    frame.remove();
    return Object.getOwnPropertyNames(window).filter((name) => !builtIn.has(name));
  });
  assert.deepEqual(added.filter((name) => !/^\d+$/.test(name)), ['Assent']);
  assert.equal(await page.evaluate(() => Object.isFrozen(window.Assent)), true, 'the API cannot be replaced piecemeal');
});
