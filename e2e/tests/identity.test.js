// Identified preferences end to end: a manage link minted by the collector's CLI, the widget
// naming the person, the choice attributed to them (and only as a keyed hash), what the
// mailer reads (preferences, change feed, signed webhooks), refused links, and the RFC 8058
// one-click unsubscribe driven by curl as a mail provider would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';

import { assertRecord } from '../harness/records.js';
import { startWebhookReceiver } from '../harness/webhooks.js';
import { OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const run = promisify(execFile);
const world = setupSuite();
const EMAIL = 'jane.doe@example.com';
const HINT = 'j•••@example.com';
const OTHER_SITE = 'www.qualys.com';
let receiver;
before(async () => { receiver = await startWebhookReceiver(); });
after(async () => { await receiver?.stop(); });
const withWebhook = { collectorOptions: () => ({ webhook: receiver }) };

/** Every byte the collector's SQLite database holds (main file and WAL). */
function databaseBytes(collector) {
  const file = collector.database.replace(/^sqlite:/, '');
  const dir = dirname(file);
  return readdirSync(dir)
    .filter((name) => name.startsWith('assent.db'))
    .map((name) => readFileSync(`${dir}/${name}`).toString('latin1'))
    .join('');
}

function assertNoAddressInClear(s, feed) {
  assert.ok(!databaseBytes(s.collector).includes('jane.doe'), 'no address in clear in the database');
  assert.ok(!s.collector.log().includes('jane.doe'), 'no address in clear in the collector log');
  assert.ok(!JSON.stringify(feed).includes('jane.doe'), 'no address in clear in the feed');
}

/** The widget's visible text (its shadow root included). */
const widgetText = (w) => w.host.evaluate((host) => host.shadowRoot.textContent);

world.scenario('a manage link names the person; their choices are theirs, in preferences, the feed and signed webhooks', async (s) => {
  const notice = { id: 'qualys-privacy-highlights', version: '2011-12-31', hash: s.widget.embeddedNoticeHash };
  receiver.deliveries.length = 0;
  const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const link = await s.collector.link({ email: EMAIL, site: SITE, page: pageUrl });
  assert.equal(link.manage_url, `${pageUrl}#assent=${link.token}`);
  assert.ok(link.unsubscribe_url.startsWith(`${s.collector.origin}/`), link.unsubscribe_url);
  assert.ok(!link.token.includes('jane'), 'the token does not carry the address');

  // The e-mail's link: the dialog opens for the person, the token leaves the address bar.
  const page = await s.open(link.manage_url);
  const w = s.ui(page);
  await w.dialog.waitFor({ state: 'visible' });
  await eventually('the dialog names the person', async () => (await w.dialog.textContent()).includes(HINT));
  assert.ok(!page.url().includes('assent='), `the token is gone from the address bar: ${page.url()}`);
  for (const id of OPTIONAL) assert.equal(await w.toggle(id).isChecked(), false, `${id} starts off`);
  await w.toggle('new_products').click();
  await w.dialogButton('save').click();
  let rows = await eventually('one stored row', async () => {
    const all = await s.collector.rows();
    return all.length === 1 && all;
  });
  assertRecord(rows[0].record, { site: SITE, notice, granted: ['new_products'] });
  assert.match(rows[0].subject, /^hmac-sha256:[0-9a-f]{64}$/, 'stored under the person’s subject');
  assert.equal(rows[0].record.subject_token, undefined, 'the token itself is not stored');
  const subject = rows[0].subject;

  // Another covered site, another device: the toggles start from what the collector holds.
  const otherUrl = s.ip.page({ site: OTHER_SITE, endpoint: s.collector.endpoint });
  const second = await s.collector.link({ email: EMAIL, site: OTHER_SITE, page: otherUrl });
  const otherPage = await s.open(second.manage_url);
  const w2 = s.ui(otherPage);
  await w2.dialog.waitFor({ state: 'visible' });
  await eventually('the toggles come from the collector', async () => w2.toggle('new_products').isChecked());
  for (const id of OPTIONAL.filter((p) => p !== 'new_products')) {
    assert.equal(await w2.toggle(id).isChecked(), false, `${id} as the collector holds it`);
  }
  await w2.dialogButton('decline-all').click();
  rows = await eventually('two stored rows', async () => {
    const all = await s.collector.rows();
    return all.length === 2 && all;
  });
  assertRecord(rows[1].record, { site: OTHER_SITE, notice, granted: [] });
  assert.equal(rows[1].subject, subject, 'the same person on another site');

  // What the mailer reads.
  const preferences = await s.collector.preferences(EMAIL);
  for (const id of OPTIONAL) assert.equal(preferences.purposes[id].state, 'denied', `${id} denied`);
  assert.equal(preferences.purposes.new_products.set_by.record_id, rows[1].record.record_id);
  assert.equal(preferences.purposes.new_products.set_by.site, OTHER_SITE);
  assert.equal(preferences.purposes.security.basis, 'contract');

  const feed = await s.collector.changes(0);
  assert.deepEqual(feed.changes.map((c) => c.record_id), rows.map((r) => r.record.record_id), 'the feed, in chain order');
  assert.ok(feed.changes.every((c) => c.subject === subject && c.source === 'widget'));
  assert.equal(feed.next, rows[1].seq, 'the cursor is the last seq');
  assert.deepEqual((await s.collector.changes(feed.next)).changes, [], 'nothing after the cursor');

  const hooks = await eventually('both changes at the webhook receiver', async () => {
    const ids = new Set(receiver.deliveries.map((d) => d.json?.record_id));
    return rows.every((r) => ids.has(r.record.record_id)) && receiver.deliveries;
  });
  for (const hook of hooks) {
    assert.ok(hook.valid, `webhook ${hook.id} has a valid Standard Webhooks signature`);
    assert.equal(hook.json.subject, subject);
    assert.equal(hook.json.type, 'preferences.changed');
  }
  assertNoAddressInClear(s, feed);
}, withWebhook);

world.scenario('a returning visitor (no wasm on a plain reload) who follows a manage link gets the widget, for the person', async (s) => {
  const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  await s.acceptedBefore(pageUrl);

  const served = s.widget.wasmRequests();
  const plain = await s.open(pageUrl);
  await plain.waitForLoadState('networkidle');
  assert.equal(await s.ui(plain).host.count(), 0, 'a plain reload mounts nothing');
  await plain.close();
  assert.equal(s.widget.wasmRequests(), served, 'and loads no wasm');

  const link = await s.collector.link({ email: EMAIL, site: SITE, page: pageUrl });
  const page = await s.open(link.manage_url);
  const w = s.ui(page);
  await w.dialog.waitFor({ state: 'visible' });
  await eventually('the dialog names the person', async () => (await w.dialog.textContent()).includes(HINT));
  assert.equal(s.widget.wasmRequests(), served + 1, 'the manage link loaded the wasm');
  // The receipt this browser holds is of its own choice, not the person's: not offered
  // under their name.
  assert.ok(await w.storage(SITE, 'receipt'), 'this browser holds a receipt');
  assert.equal(await w.dialog.locator('section.receipt').count(), 0, 'the dialog offers no receipt of this browser\'s own');
  // The person has no preferences at the collector yet: the toggles say so, whatever this
  // browser chose anonymously before.
  for (const id of OPTIONAL) assert.equal(await w.toggle(id).isChecked(), false, `${id} as the collector holds it`);
});

world.scenario('320 px wide, a manage link for an address with a long domain: its line wraps, nothing scrolls sideways, the close button shows', async (s) => {
  const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const domain = 'departmentofexampleuniversityresearch.example.com';
  const link = await s.collector.link({ email: `jo@${domain}`, site: SITE, page: pageUrl });
  const page = await s.context.newPage();
  await page.setViewportSize({ width: 320, height: 640 });
  await page.goto(link.manage_url, { waitUntil: 'load' });
  const w = s.ui(page);
  await w.dialog.waitFor({ state: 'visible' });
  await eventually('the dialog names the person', async () => (await w.dialog.textContent()).includes(`j•••@${domain}`));
  const layout = await w.dialog.evaluate((dialog) => {
    const close = dialog.querySelector('[data-action=close]').getBoundingClientRect();
    const box = dialog.getBoundingClientRect();
    return { sideways: dialog.scrollWidth - dialog.clientWidth, closeInside: close.left >= box.left && close.right <= box.right };
  });
  assert.deepEqual(layout, { sideways: 0, closeInside: true });
});

/** A covered page showing the banner, and a manage link minted for it for `email`. */
async function signedInPage(s, email = EMAIL) {
  const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const link = await s.collector.link({ email, site: SITE, page: pageUrl });
  const page = await s.open(pageUrl);
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  return { pageUrl, link, page, w };
}

world.scenario('Assent.identify(token) on a signed-in page attributes the choice', async (s) => {
  const { link, page, w } = await signedInPage(s);
  await page.evaluate((token) => window.Assent.identify(token), link.token);
  await w.dialog.waitFor({ state: 'visible' });
  await eventually('the dialog names the person', async () => (await w.dialog.textContent()).includes(HINT));
  await w.dialogButton('accept-all').click();
  const rows = await eventually('one stored row', async () => {
    const all = await s.collector.rows();
    return all.length === 1 && all;
  });
  assert.match(rows[0].subject ?? '', /^hmac-sha256:/, 'attributed to the person');
  const preferences = await s.collector.preferences(EMAIL);
  for (const id of OPTIONAL) assert.equal(preferences.purposes[id].state, 'granted');
});

// A signed-in page's identify beside another (a manage link's, a second call): the one
// started last is whom the preferences are for, whichever answer comes first.
world.scenario('two Assent.identify calls at once: the later one counts even when the earlier one\'s answer comes last', async (s) => {
  const { pageUrl, link: later, page, w } = await signedInPage(s);
  const first = await s.collector.link({ email: 'ann@example.com', site: SITE, page: pageUrl });
  // The first check's request is held until the later one has been answered.
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.route('**/v1/identity', async (route) => {
    if ((route.request().postData() ?? '').includes(first.token)) await held;
    await route.continue();
  });
  await page.evaluate((token) => {
    window.__firstIdentify = window.Assent.identify(token).then(() => 'resolved', (error) => error.code);
  }, first.token);
  await page.evaluate((token) => window.Assent.identify(token), later.token);
  await eventually('the dialog names the later person', async () => (await w.dialog.textContent()).includes(HINT));
  release();
  assert.equal(await page.evaluate(() => window.__firstIdentify), 'identity_superseded', 'the earlier call is told it was replaced');
  assert.ok((await w.dialog.textContent()).includes(HINT), 'still the later person');
  assert.ok(!(await w.dialog.textContent()).includes('a•••@example.com'), 'not the earlier one');
  await w.dialogButton('accept-all').click();
  await eventually('one stored row', async () => (await s.collector.rows()).length === 1);
  for (const id of OPTIONAL) assert.equal((await s.collector.preferences(EMAIL)).purposes[id].state, 'granted', `${id}: the later person's`);
  assert.deepEqual((await s.collector.preferences('ann@example.com')).purposes, {}, 'nothing for the earlier person');
});

// A signed-in page's identity (minted for ten minutes) left open past its link's expiry: a
// save then would be stored under no one while the dialog still named the person. The
// collector's answer is made to say one second is left (the widget counts it by its own
// clock from the answer).
world.scenario('an identity whose link expires while the preferences are open: the save says so and stores nothing, the next save is this browser\'s', async (s) => {
  const { link, page, w } = await signedInPage(s);
  await page.route('**/v1/identity', async (route) => {
    const response = await route.fetch();
    const answer = await response.json();
    assert.ok(answer.expires_in > 60, `the collector says how long is left: ${JSON.stringify(answer)}`);
    await route.fulfill({ response, json: { ...answer, expires_in: 1 } });
  });
  await page.evaluate((token) => window.Assent.identify(token), link.token);
  await eventually('the dialog names the person', async () => (await w.dialog.textContent()).includes(HINT));
  await w.toggle('new_products').click();
  await new Promise((r) => setTimeout(r, 1_100));
  await w.dialogButton('save').click();
  const alert = w.host.locator('.refusal[role=alert]');
  await alert.waitFor({ state: 'visible' });
  assert.ok(!(await widgetText(w)).includes(HINT), 'nobody is named any more');
  assert.equal(await w.toggle('new_products').isChecked(), true, 'the toggles as the visitor set them');
  const seen = await w.seen();
  assert.equal(seen.errors.at(-1)?.code, 'token_expired', 'the host hears why');
  assert.equal(seen.changes.length, 0, 'nothing saved');
  assert.equal(await w.storage(SITE, 'outbox'), null, 'nothing to send');
  // Saved again, it is this browser's choice.
  await w.dialogButton('save').click();
  const rows = await eventually('one stored row', async () => {
    const all = await s.collector.rows();
    return all.length === 1 && all;
  });
  assert.equal(rows[0].subject, null, 'this browser\'s, under no one');
  assert.equal((await s.collector.preferences(EMAIL)).purposes.new_products?.state ?? 'denied', 'denied',
    'not in the person\'s preferences');
});

// The record keeps its token in the outbox while the collector is out of reach. Should the
// token expire meanwhile, the record still reaches the collector and is stored, under no
// one. (The time passing is the outbox's token swapped for one already expired: waiting for
// a live token to expire would race the page's own start on a busy machine.)
world.scenario('a choice whose link expires while it waits in the outbox is stored anyway, under no one', async (s) => {
  const notice = { id: 'qualys-privacy-highlights', version: '2011-12-31', hash: s.widget.embeddedNoticeHash };
  const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const link = await s.collector.link({ email: EMAIL, site: SITE, page: pageUrl });
  const expired = (await s.collector.link({ email: EMAIL, site: SITE, page: pageUrl, ttl: '1s' })).token;
  const page = await s.open(link.manage_url);
  const w = s.ui(page);
  await w.dialog.waitFor({ state: 'visible' });
  await eventually('the dialog names the person', async () => (await w.dialog.textContent()).includes(HINT));

  // Out of reach for the record under its live token, whenever the page sends it (a retry
  // made just before the swap below included); the record under the expired token gets through.
  await s.context.route(`${s.collector.endpoint}*`, (route) => (
    (route.request().postData() ?? '').includes(link.token) ? route.abort() : route.continue()
  ));
  await w.toggle('new_products').click();
  await w.dialogButton('save').click();
  const waiting = await eventually('the record waits in the outbox with its token', async () => {
    const outbox = JSON.parse((await w.storage(SITE, 'outbox')) ?? '[]');
    return outbox.length === 1 && outbox[0].subject_token === link.token && outbox;
  });
  // The token's exp is in whole seconds: two seconds on, it has passed whatever the rounding.
  await new Promise((r) => setTimeout(r, 2_100));
  waiting[0].subject_token = expired;
  await page.evaluate(([key, value]) => localStorage.setItem(key, value), [`assent:v1:${SITE}:outbox`, JSON.stringify(waiting)]);

  // The next page sends what waits.
  await page.reload();
  const rows = await eventually('one stored row', async () => {
    const all = await s.collector.rows();
    return all.length === 1 && all;
  });
  assertRecord(rows[0].record, { site: SITE, notice, granted: ['new_products'] });
  assert.equal(rows[0].subject, null, 'stored under no one');
  assert.equal(rows[0].record.record_id, waiting[0].record_id, 'the record that waited');
  await eventually('the outbox empty', async () => ['[]', null].includes(await w.storage(SITE, 'outbox')));
  assert.equal((await s.collector.preferences(EMAIL)).purposes.new_products?.state ?? 'denied', 'denied',
    'not in the person\'s preferences');
});

for (const [name, code, makeToken] of [
  ['past its expiry', 'token_expired', async (s, page) => {
    const link = await s.collector.link({ email: EMAIL, site: SITE, page, ttl: '1s' });
    // The token's exp is in whole seconds: two seconds on, it has passed whatever the rounding.
    await new Promise((r) => setTimeout(r, 2_100));
    return link.token;
  }],
  ['tampered with', 'token_invalid', async (s, page) => {
    const { token } = await s.collector.link({ email: EMAIL, site: SITE, page });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    claims.sub = `hmac-sha256:${'0'.repeat(64)}`;
    return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
  }],
  ['minted by another collector', 'token_invalid', async (s, page) => {
    const other = join(s.collector.dir, 'other-link.key');
    await s.collector.cli('keygen', '--link-key', other);
    const { token } = await s.collector.link({ email: EMAIL, site: SITE, page, linkKey: other });
    return token;
  }],
  ['for another site', 'token_wrong_site', async (s, page) => (await s.collector.link({ email: EMAIL, site: OTHER_SITE, page })).token],
]) {
  world.scenario(`a link ${name} is refused in plain words, the host hears assent:error, nothing is attributed`, async (s) => {
    const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
    const token = await makeToken(s, pageUrl);
    const page = await s.open(`${pageUrl}#assent=${token}`);
    const w = s.ui(page);
    const seen = await eventually('assent:error', async () => {
      const events = await w.seen();
      return events.errors.length > 0 && events;
    });
    assert.equal(seen.errors[0].status, 403);
    assert.equal(seen.errors[0].code, code);
    assert.ok(!page.url().includes('assent='), 'the token is gone from the address bar');
    const alert = w.host.locator('.refusal[role=alert]');
    await alert.waitFor({ state: 'visible' });
    assert.ok((await alert.textContent()).trim().length > 10, 'the visitor reads why');
    assert.ok(!(await widgetText(w)).includes(HINT), 'nobody is named');
    // The visitor may still choose, anonymously.
    await page.evaluate(() => window.Assent.open());
    await w.dialog.waitFor({ state: 'visible' });
    await w.dialogButton('decline-all').click();
    const rows = await eventually('one stored row', async () => {
      const all = await s.collector.rows();
      return all.length === 1 && all;
    });
    assert.equal(rows[0].subject, null, 'not attributed to anyone');
    assert.deepEqual((await s.collector.changes(0)).changes, [], 'no change for the mailer');
  });
}

world.scenario('one-click unsubscribe (RFC 8058) with curl: GET changes nothing, POST records a denial once, in the feed', async (s) => {
  const pageUrl = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const link = await s.collector.link({ email: EMAIL, site: SITE, page: pageUrl });
  const curl = async (...args) => (await run('curl', ['-sS', '--max-time', '15', ...args])).stdout;

  const confirmation = await curl('-w', '\n%{http_code}', link.unsubscribe_url);
  assert.match(confirmation, /\n200$/, 'GET answers 200');
  assert.match(confirmation, /<form[^>]+method="post"/i, 'a confirmation form');
  assert.match(confirmation, /<button/i, 'one button');
  assert.deepEqual(await s.collector.rows(), [], 'a GET alone changes nothing');

  const status = await curl('-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-d', 'List-Unsubscribe=One-Click', link.unsubscribe_url);
  assert.equal(status, '200');
  const rows = await s.collector.rows();
  assert.equal(rows.length, 1, 'one record');
  assert.equal(rows[0].record.source, 'unsubscribe');
  assert.ok(rows[0].receipt.split('.').length === 3, 'with a signed receipt');
  for (const id of OPTIONAL) {
    assert.equal(rows[0].record.purposes.find((p) => p.purpose === id).state, 'denied', `${id} denied`);
  }
  const feed = await s.collector.changes(0);
  assert.deepEqual(feed.changes.map((c) => [c.record_id, c.source]), [[rows[0].record.record_id, 'unsubscribe']]);
  const preferences = await s.collector.preferences(EMAIL);
  assert.equal(preferences.purposes.updates.set_by.source, 'unsubscribe');

  const replay = await curl('-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-d', 'List-Unsubscribe=One-Click', link.unsubscribe_url);
  assert.equal(replay, '200', 'a replay answers success');
  assert.equal((await s.collector.rows()).length, 1, 'and adds nothing');

  const forged = await curl('-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-d', 'List-Unsubscribe=One-Click', `${link.unsubscribe_url.slice(0, -3)}AAA`);
  assert.match(forged, /^4\d\d$/, `a forged link is a 4xx (${forged})`);
  assert.equal((await s.collector.rows()).length, 1);
  assertNoAddressInClear(s, feed);
});
