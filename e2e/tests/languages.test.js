// The visitor's language, end to end with the built files: which language is chosen
// (data-lang, else <html lang>, else the browser's, else English; pt-BR counts as pt, and
// de_DE as de), the
// widget's words from locales/, the notice's German translation and its own hash in the
// record, Arabic right to left with the English notice marked as English, the language file
// fetched beside the index that pins its hash (after it, through SRI, where the page can't
// hash), a tampered or missing language file falling back to English with a warning either
// way, and a returning German visitor downloading no wasm.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { holdWasm } from '../harness/browser.js';
import { noticeHash, root } from '../harness/paths.js';
import { assertRecord } from '../harness/records.js';
import { SITE, setupSuite } from '../harness/world.js';

const world = setupSuite();
const locale = (tag) => JSON.parse(readFileSync(join(root, 'locales', `${tag}.json`), 'utf8'));
const notice = (tag) => JSON.parse(readFileSync(join(root, 'notices', `qualys-privacy-highlights.${tag}.json`), 'utf8'));
const ENGLISH = locale('en').messages;

/** Makes the browser report `languages` as navigator.languages. */
function browserLanguages(languages) {
  return {
    fn: (list) => Object.defineProperty(Navigator.prototype, 'languages', { get: () => list }),
    arg: languages,
  };
}

/** Opens a host page and waits for the banner; returns the page and its widget. */
async function bannerOn(s, options) {
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, ...options }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  return { page, w };
}

/** Takes crypto.subtle away, as a plain-http page (not a secure context) has it. */
const NO_SUBTLE = () => Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined });

async function spoken(w) {
  const root = w.host.locator('.assent');
  return { lang: await root.getAttribute('lang'), dir: await root.getAttribute('dir') };
}

world.scenario('German from <html lang>: its words, the German notice, and a record saying de with that notice\'s hash', async (s) => {
  const de = locale('de').messages;
  const { w } = await bannerOn(s, { lang: 'de-AT' });
  assert.deepEqual(await spoken(w), { lang: 'de', dir: 'ltr' }, 'de-AT counts as de');
  assert.equal((await w.bannerButton('decline-all').textContent()).trim(), de.decline_all);
  assert.equal((await w.banner.locator('.summary').textContent()).trim(), notice('de').summary);
  assert.equal(await w.banner.locator('.summary').getAttribute('lang'), null, 'the notice is in the widget\'s language');

  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal((await w.dialog.locator('h2').textContent()).trim(), notice('de').title);
  const label = await w.dialog.locator('li[data-purpose="new_products"] label').textContent();
  assert.equal(label.trim(), locale('de').purposes.new_products.label);
  await w.dialogButton('decline-all').click();

  const [record] = await s.collector.waitForRecords({ count: 1 });
  const hash = noticeHash('qualys-privacy-highlights.de.json');
  assert.notEqual(hash, noticeHash('qualys-privacy-highlights.en.json'), 'the translation has its own hash');
  assertRecord(record, { site: SITE, notice: { ...notice('de'), hash }, language: 'de' });
});

world.scenario('Arabic from the browser (no data-lang, no <html lang>): right to left, the English notice marked as English, Arabic purposes', async (s) => {
  const ar = locale('ar');
  const { w } = await bannerOn(s, { lang: null });
  assert.deepEqual(await spoken(w), { lang: 'ar', dir: 'rtl' });
  assert.equal((await w.bannerButton('accept-all').textContent()).trim(), ar.messages.accept_all);
  const summary = w.banner.locator('.summary');
  assert.equal(await summary.getAttribute('lang'), 'en', 'the English summary is marked as English');
  assert.equal(await summary.getAttribute('dir'), 'auto', 'and runs in its own direction');

  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  // Mirrored: the close button sits left of the title.
  const close = await w.dialogButton('close').boundingBox();
  const title = await w.dialog.locator('h2').boundingBox();
  assert.ok(close.x < title.x, `close (${close.x}) is left of the title (${title.x})`);
  const statement = w.dialog.locator('.full-statement a');
  assert.equal(await statement.evaluate((a) => a.closest('[lang]').lang), 'en', 'the English link text is marked as English');
  for (const [id, words] of Object.entries(ar.purposes)) {
    const item = w.dialog.locator(`li[data-purpose="${id}"]`);
    assert.equal((await item.locator('label').textContent()).trim(), words.label, `${id}: label`);
    assert.equal((await item.locator('.description').textContent()).trim(), words.description, `${id}: reason`);
  }
  await w.toggle('updates').click();
  await w.dialogButton('save').click();

  const [record] = await s.collector.waitForRecords({ count: 1 });
  const english = notice('en');
  assertRecord(record, {
    site: SITE,
    notice: { ...english, hash: noticeHash('qualys-privacy-highlights.en.json') },
    granted: ['updates'],
    language: 'ar',
  });
}, { initScripts: [browserLanguages(['ar-EG', 'en'])] });

world.scenario('data-lang wins over the page and the browser, and pt-BR counts as pt', async (s) => {
  const { w } = await bannerOn(s, { lang: 'de', extraAttributes: { 'data-lang': 'pt-BR' } });
  assert.deepEqual(await spoken(w), { lang: 'pt', dir: 'ltr' });
  assert.equal((await w.bannerButton('decline-all').textContent()).trim(), locale('pt').messages.decline_all);
}, { initScripts: [browserLanguages(['fr'])] });

world.scenario('a tag written with spaces or an underscore counts: <html lang="de_DE"> is German, data-lang " fr " French', async (s) => {
  const german = await bannerOn(s, { lang: 'de_DE' });
  assert.deepEqual(await spoken(german.w), { lang: 'de', dir: 'ltr' });
  assert.equal((await german.w.bannerButton('decline-all').textContent()).trim(), locale('de').messages.decline_all);
  const french = await bannerOn(s, { lang: 'en', extraAttributes: { 'data-lang': ' fr ' } });
  assert.deepEqual(await spoken(french.w), { lang: 'fr', dir: 'ltr' });
  assert.ok(!s.console.some((line) => line.includes('data-lang')), 'no warning about data-lang');
}, { initScripts: [browserLanguages(['en'])] });

world.scenario('a data-lang the widget does not speak is reported, and the page\'s language is used', async (s) => {
  const { w } = await bannerOn(s, { lang: 'fr', extraAttributes: { 'data-lang': 'ja' } });
  assert.deepEqual(await spoken(w), { lang: 'fr', dir: 'ltr' });
  assert.ok(s.console.some((line) => line.startsWith('[warning]') && line.includes('data-lang ja')), 'the console says why');
});

world.scenario('a page and browser in languages the widget lacks: English', async (s) => {
  const { w } = await bannerOn(s, { lang: 'ja' });
  assert.deepEqual(await spoken(w), { lang: 'en', dir: 'ltr' });
  assert.equal((await w.bannerButton('decline-all').textContent()).trim(), ENGLISH.decline_all);
}, { initScripts: [browserLanguages(['zh-CN', 'ko'])] });

world.scenario('a German first visit asks for its language file without waiting for the index that pins its hash', async (s) => {
  // The index is answered only once the language file has been asked for: were the two
  // asked one after the other, the banner would never show.
  let asked;
  const languageAsked = new Promise((resolve) => { asked = resolve; });
  await s.context.route('**/locales/de.json', (route) => { asked(); return route.continue(); });
  await s.context.route('**/locales/index.json', async (route) => { await languageAsked; await route.continue(); });
  const { w } = await bannerOn(s, { lang: 'de' });
  assert.deepEqual(await spoken(w), { lang: 'de', dir: 'ltr' });
  assert.equal((await w.bannerButton('decline-all').textContent()).trim(), locale('de').messages.decline_all);
  assert.equal((await w.banner.locator('.summary').textContent()).trim(), notice('de').summary);
});

world.scenario('where the page can\'t hash (no crypto.subtle, as on plain http): the banner in German all the same', async (s) => {
  const { w } = await bannerOn(s, { lang: 'de' });
  assert.deepEqual(await spoken(w), { lang: 'de', dir: 'ltr' });
  assert.equal((await w.bannerButton('decline-all').textContent()).trim(), locale('de').messages.decline_all);
}, { initScripts: [NO_SUBTLE] });

for (const [what, fulfil] of [
  ['tampered (its hash is not the index\'s)', async (route) => {
    const response = await route.fetch();
    const text = (await response.text()).replace('Alle ablehnen', 'Alles akzeptieren');
    await route.fulfill({ response, body: text });
  }],
  ['missing (404)', (route) => route.fulfill({ status: 404, body: 'not found' })],
]) {
  for (const [where, initScripts] of [['', []], [', where the page can\'t hash', [NO_SUBTLE]]]) {
    world.scenario(`a ${what} language file${where}: English, a console warning, and the choice still recorded`, async (s) => {
      await s.context.route('**/locales/de.json', fulfil);
      const { w } = await bannerOn(s, { lang: 'de' });
      assert.deepEqual(await spoken(w), { lang: 'en', dir: 'ltr' });
      assert.equal((await w.bannerButton('decline-all').textContent()).trim(), ENGLISH.decline_all);
      assert.ok(
        s.console.some((line) => line.startsWith('[warning]') && line.includes('the de translation did not load')),
        'the console says why',
      );
      await w.bannerButton('decline-all').click();
      const [record] = await s.collector.waitForRecords({ count: 1 });
      assertRecord(record, { site: SITE, notice: { ...notice('en'), hash: noticeHash('qualys-privacy-highlights.en.json') } });
    }, { initScripts });
  }
}

// The evidence is the notice the visitor saw: a click on the English banner shown for want of
// the German file, kept while the page was left before the wasm came, is never recorded as
// the German notice's, though the next page has the German file.
world.scenario('a click kept on the English banner shown when the German file failed is not recorded under the German notice', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: 'de' });
  await s.context.route('**/locales/de.json', (route) => route.fulfill({ status: 404, body: 'not found' }));
  const first = await s.context.newPage();
  await holdWasm(first);
  await first.goto(url, { waitUntil: 'load' });
  const w = s.ui(first);
  await w.banner.waitFor({ state: 'visible' });
  assert.deepEqual(await spoken(w), { lang: 'en', dir: 'ltr' });
  await w.bannerButton('accept-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  await first.close();
  await s.context.unroute('**/locales/de.json');

  const next = await s.open(url);
  const again = s.ui(next);
  await again.banner.waitFor({ state: 'visible' });
  assert.deepEqual(await spoken(again), { lang: 'de', dir: 'ltr' }, 'asked again, in German');
  await again.bannerButton('decline-all').click();
  const records = await s.settledRecords({ count: 1 });
  assert.equal(records.length, 1, 'one record: the German decline, not the English click');
  assertRecord(records[0], { site: SITE, language: 'de', notice: { ...notice('de'), hash: noticeHash('qualys-privacy-highlights.de.json') } });
  assert.ok(records[0].purposes.filter((p) => p.basis === 'consent').every((p) => p.state === 'denied'));
});

world.scenario('a returning German visitor with nothing to send downloads no wasm and no language file', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: 'de' });
  await s.acceptedBefore(url);

  const page = await s.context.newPage();
  const fetched = [];
  page.on('request', (request) => fetched.push(new URL(request.url()).pathname));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  assert.deepEqual(fetched.filter((path) => path.endsWith('.wasm') || path.includes('/locales/')), [], 'nothing but the page and assent.js');
  assert.equal(await s.ui(page).host.count(), 0, 'nothing mounted');
  assert.equal((await s.ui(page).preferences())?.language, 'de');
});
