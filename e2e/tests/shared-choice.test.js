// One choice for the covered sites of a parent domain (data-cookie-domain): two host names
// under qualys.test (Chromium maps *.qualys.test to 127.0.0.1), a real collector, the
// built widget. A choice made on one site counts on the other with no banner, no wasm and
// no second record; a change there reaches the first; a bad cookie is ignored and said so.
import assert from 'node:assert/strict';

import { OPTIONAL, eventually, setupSuite } from '../harness/world.js';

const DOMAIN = 'qualys.test';
const world = setupSuite({
  browserArgs: [`--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`],
  hosts: { www: `www.${DOMAIN}`, pci: `pci.${DOMAIN}` },
});
const both = (w) => [w.www.origin, w.pci.origin];
const YEAR_S = 365 * 24 * 3600;

function sitePage(s, host, site) {
  return s.world[host].page({
    site, endpoint: s.collector.endpoint, extraAttributes: { 'data-cookie-domain': DOMAIN },
  });
}

/** A tab at `url` that counts its wasm requests. */
async function openCounting(s, url) {
  const page = await s.context.newPage();
  const wasm = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.endsWith('.wasm')) wasm.push(request.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, wasm };
}

async function sharedCookie(s) {
  const cookies = await s.context.cookies(s.world.www.origin);
  return cookies.filter((c) => c.name === 'assent_v1');
}

function stateOf(choice, purpose) {
  return choice.purposes.find((p) => p.purpose === purpose)?.state;
}

world.scenario('choose on one covered site: the other shows no banner, loads no wasm, sends no record; a change there reaches the first', async (s) => {
  const wwwUrl = sitePage(s, 'www', 'www.qualys.com');
  const pciUrl = sitePage(s, 'pci', 'pci.qualys.com');

  const first = await s.open(wwwUrl);
  const w1 = s.ui(first);
  await w1.banner.waitFor({ state: 'visible' });
  await w1.bannerButton('decline-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assert.equal(record.site, 'www.qualys.com');
  // Its outbox empty (the POST answered), or a later www page would find the record
  // waiting there and fetch the wasm to send it.
  await eventually('www\'s outbox empty', async () => ['[]', null].includes(await w1.storage('www.qualys.com', 'outbox')));

  const [cookie] = await eventually('the shared cookie', async () => {
    const found = await sharedCookie(s);
    return found.length === 1 && found;
  });
  assert.equal(cookie.domain, `.${DOMAIN}`, 'on the parent domain');
  assert.equal(cookie.path, '/');
  assert.equal(cookie.sameSite, 'Lax');
  assert.equal(cookie.secure, false, 'Secure only on https pages');
  const lifetime = cookie.expires - Date.now() / 1000;
  assert.ok(lifetime > YEAR_S - 120 && lifetime <= YEAR_S + 5, `a year at most (${lifetime} s)`);
  const hashHex = s.widget.embeddedNoticeHash.slice('sha256:'.length);
  const clientMs = Date.parse(record.client_time);
  assert.equal(
    cookie.value,
    `h=${hashHex}&r=${record.record_id}&t=${clientMs}&p=${OPTIONAL.map((p) => `${p}:d`).join('.')}`,
    'notice hash, record id and time, the optional purposes: nothing personal',
  );

  // The other covered site: the loader alone, from the cookie.
  const postsBefore = s.posts.length;
  const second = await openCounting(s, pciUrl);
  await second.page.waitForLoadState('networkidle');
  const w2 = s.ui(second.page);
  assert.deepEqual(second.wasm, [], 'no wasm download on the second site');
  assert.equal(await w2.host.count(), 0, 'no banner: nothing mounted');
  const summary = {
    record_id: record.record_id,
    client_time: new Date(clientMs).toISOString(),
    notice: { hash: s.widget.embeddedNoticeHash },
    purposes: OPTIONAL.map((purpose) => ({ purpose, basis: 'consent', state: 'denied' })),
    cookie_domain: DOMAIN,
  };
  assert.deepEqual(await w2.preferences(), summary, 'Assent.preferences() gives the shared choice');

  // Opened there, the dialog shows it, and the wasm gives the same answer as the loader.
  await second.page.evaluate(() => window.Assent.open());
  await w2.dialog.waitFor({ state: 'visible' });
  for (const id of OPTIONAL) assert.equal(await w2.toggle(id).isChecked(), false, `${id} shows the decline`);
  assert.deepEqual(await w2.preferences(), summary, 'the wasm agrees with the loader');
  // The wasm has started (its dialog shows): a record it made of the shared choice would be
  // in this site's storage by now, whether or not its POST has gone.
  assert.equal(await w2.storage('pci.qualys.com', 'choice'), null, 'no choice of its own stored');
  assert.ok(['[]', null].includes(await w2.storage('pci.qualys.com', 'outbox')), 'nothing waits to be sent');
  assert.equal(s.posts.length, postsBefore, 'no second record for the same choice');

  // A change on the second site: one new record, and the cookie follows it.
  await w2.toggle('new_products').click();
  await w2.dialogButton('save').click();
  const records = await s.collector.waitForRecords({ count: 2 });
  assert.equal(records[1].site, 'pci.qualys.com');
  assert.equal(stateOf(records[1], 'new_products'), 'granted');
  await eventually('the cookie names the new record', async () => (await sharedCookie(s))[0]?.value.includes(records[1].record_id));

  // Back on the first site: its own record is older, so the shared choice counts, still without wasm.
  const again = await openCounting(s, wwwUrl);
  await again.page.waitForLoadState('networkidle');
  const w3 = s.ui(again.page);
  assert.deepEqual(again.wasm, [], 'no wasm download: the later choice is in the cookie');
  assert.equal(await w3.host.count(), 0, 'no banner');
  const latest = await w3.preferences();
  assert.equal(latest.record_id, records[1].record_id, 'the first site reflects the change');
  assert.equal(stateOf(latest, 'new_products'), 'granted');
  await again.page.evaluate(() => window.Assent.open());
  await w3.dialog.waitFor({ state: 'visible' });
  assert.equal(await w3.toggle('new_products').isChecked(), true, 'and so does its dialog');
  assert.equal(await w3.toggle('updates').isChecked(), false);
  // A record the wasm made here would be in this site's storage by now (its POST may be
  // heard of later).
  assert.ok(['[]', null].includes(await w3.storage('www.qualys.com', 'outbox')), 'nothing on its way');
  assert.deepEqual((await w3.seen()).changes, [], 'nothing recorded here');
  assert.equal(s.posts.length, postsBefore + 1, 'nothing more was sent');
}, { allowedOrigins: both });

world.scenario('a garbled or forged shared cookie is ignored with a warning; one for another notice asks again', async (s) => {
  const url = sitePage(s, 'www', 'www.qualys.com');
  const hashHex = s.widget.embeddedNoticeHash.slice('sha256:'.length);
  const id = '0f8e3c1a-5b2d-4e6f-8a9b-1c2d3e4f5a6b';
  const cases = [
    { value: 'h=nothex&r=x&p=new_products:g', warning: /shared cookie is garbled: ignored/ },
    {
      value: `h=${hashHex}&r=${id}&t=1764000000000&p=security:g.announcements:g.upgrades:g.updates:g`,
      warning: /shared cookie is for other purposes: ignored/,
    },
    { value: `h=${'0'.repeat(64)}&r=${id}&t=1764000000000&p=${OPTIONAL.map((p) => `${p}:g`).join('.')}`, warning: null },
  ];
  for (const { value, warning } of cases) {
    await s.context.clearCookies();
    await s.context.addCookies([{ name: 'assent_v1', value, domain: `.${DOMAIN}`, path: '/' }]);
    const logged = s.console.length;
    const page = await s.open(url);
    const w = s.ui(page);
    await w.banner.waitFor({ state: 'visible' });
    assert.equal(await w.preferences(), null, `no choice from ${value}`);
    const said = s.console.slice(logged).filter((line) => line.startsWith('[warning]') && /shared (choice )?cookie/.test(line));
    if (warning) {
      assert.ok(said.some((line) => warning.test(line)), `warned for ${value}: ${said.join(' | ')}`);
    } else {
      assert.deepEqual(said, [], 'a cookie of another notice is no error: it is asked again');
    }
    await page.close();
  }

  // A data-cookie-domain that is not a parent of the page: said, and no cookie is written.
  await s.context.clearCookies();
  const foreign = s.world.www.page({
    site: 'www.qualys.com', endpoint: s.collector.endpoint, extraAttributes: { 'data-cookie-domain': 'example.com' },
  });
  const logged = s.console.length;
  const page = await s.open(foreign);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('accept-all').click();
  await s.collector.waitForRecords({ count: 1 });
  assert.ok(
    s.console.slice(logged).some((line) => /data-cookie-domain is not this host or a parent: ignored/.test(line)),
    'the bad attribute is said',
  );
  assert.deepEqual(await s.context.cookies(), [], 'no cookie anywhere');
}, { allowedOrigins: both });
