// The widget on hostile or unusual host pages: throwing storage, a sandboxed frame, a wasm
// served with the wrong type, hostile CSS, a strict CSP with Trusted Types, XSS payloads in
// every input, host scripts clicking its buttons, and an origin the collector does not accept.
import assert from 'node:assert/strict';

import { comparePng, keep } from '../harness/images.js';
import { defaultNotice } from '../harness/paths.js';
import { EMBEDDED, assertRecord } from '../harness/records.js';
import { OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const world = setupSuite();

world.scenario('localStorage that throws: the widget works and the record is stored', async (s) => {
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  assert.equal(await page.evaluate(() => { try { return !window.localStorage; } catch { return true; } }), true,
    'localStorage throws in this page');
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('accept-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  assert.equal((await w.preferences())?.record_id, record.record_id, 'the choice is kept in memory');
  assert.equal((await s.collector.records()).length, 1);
}, {
  initScripts: [() => {
    Object.defineProperty(window, 'localStorage', {
      configurable: true,
      get() { throw new DOMException('The operation is insecure.', 'SecurityError'); },
    });
  }],
});

world.scenario('stored values of the wrong types: the release wasm reads past them, the banner shows, and a click is recorded', async (s) => {
  // The wasm starts at once for the outbox, reads all three and refuses each as it would
  // a damaged entry: serde's "invalid type" error, whose message the release build
  // must still be able to write (scripts/snip-panics.mjs leaves what it calls).
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await eventually('the widget started', () => page.evaluate(() => performance.getEntriesByName('assent:ready').length > 0));
  await w.bannerButton('accept-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  assert.deepEqual(s.console.filter((line) => /pageerror|RuntimeError|unreachable|could not start/.test(line)), []);
}, {
  initScripts: [{
    fn: (site) => {
      if (location.protocol !== 'http:') return;
      const key = (name) => `assent:v1:${site}:${name}`;
      // Each refused at another field: a string, enums, an option, a boolean, a list.
      const wrong = [{ record_id: true }, { source: 5 }, { gpc: 'yes' }, { subject_token: 5 }, { client_time: 5 },
        { notice: { hash: 5 } }, { purposes: [{ basis: 5 }] }, { purposes: [{ purpose: 'updates', basis: 'consent', state: 5 }] },
        { purposes: 'all' }, 'text', 12];
      localStorage.setItem(key('choice'), JSON.stringify({ purposes: [{ basis: 5 }] }));
      localStorage.setItem(key('outbox'), JSON.stringify(wrong));
      localStorage.setItem(key('receipt'), JSON.stringify({ receipt_id: [], site: false }));
    },
    arg: SITE,
  }],
});

world.scenario('in a sandboxed frame, where storage and cookies throw, with data-cookie-domain: the banner shows and takes a click', async (s) => {
  const inner = s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint, extraAttributes: { 'data-cookie-domain': 'localhost' },
  });
  const outer = s.localhost.file('/sandboxed.html', `<!doctype html><html lang="en"><meta charset="utf-8"><title>Sandboxed</title>
<iframe sandbox="allow-scripts" title="A covered site, sandboxed" src="${inner}" width="1000" height="600"></iframe>`, 'text/html');
  const page = await s.open(outer);
  const banner = page.frameLocator('iframe').locator('assent-host section.banner');
  await banner.waitFor({ state: 'visible' });
  await banner.locator('button[data-action="decline-all"]').click();
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const choice = await eventually('the choice, kept in memory', () => frame.evaluate(() => window.Assent.preferences()));
  assert.ok(choice.purposes.filter((p) => p.basis === 'consent').every((p) => p.state === 'denied'), 'declined');
});

world.scenario('a server that serves the wasm with the wrong MIME type: the widget still runs, and the console says why it was slower', async (s) => {
  const page = await s.context.newPage();
  await page.route('**/assent_bg.wasm', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-type': 'application/octet-stream' } });
  });
  await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }), { waitUntil: 'load' });
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('accept-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
  assert.ok(s.console.some((line) => line.startsWith('[warning]') && line.includes('application/wasm')),
    'the console says the server should serve application/wasm');
});

// `*` itself would hide <html> and <body>, and nothing inside a hidden <body> can be seen:
// the rule applies to every other element, the host element included.
const HOSTILE_CSS = `
*:not(html):not(body) { display: none !important; font-size: 50px !important; }
html, body { font-size: 50px !important; line-height: 3 !important; color: red !important;
  font-family: fantasy !important; letter-spacing: 6px !important; text-transform: uppercase !important;
  word-spacing: 20px !important; text-align: right !important; direction: ltr; visibility: visible; }
:root { --bg: #000; --fg: #f00; --line: #0f0; --accent: #f0f; --accent-fg: #ff0; --focus: #0ff; }
button { all: unset !important; display: block !important; background: red !important; color: yellow !important;
  border: 9px dashed lime !important; padding: 40px !important; font-size: 60px !important; }
dialog { display: block !important; position: fixed !important; inset: 0 !important; background: #000 !important;
  width: 100vw !important; height: 100vh !important; z-index: 2147483647 !important; }
section, p, ul, li, input, label, a, fieldset, legend, footer, header, h1, h2, h3 {
  color: magenta !important; margin: 50px !important; padding: 50px !important; border: 5px solid red !important; }
assent-host { position: absolute !important; top: -9999px !important; transform: scale(3) !important;
  filter: invert(1) !important; opacity: 0.1 !important; visibility: hidden !important; }
`;

async function shoot(locator) {
  return locator.screenshot({ animations: 'disabled', caret: 'hide', scale: 'css' });
}

function assertLooksTheSame(name, plain, hostile) {
  const result = comparePng(plain, hostile);
  if (!result.sameSize || result.fraction > 0.002) {
    const kept = keep(name, { plain, hostile });
    assert.fail(`${name} looks different on the hostile page: ${JSON.stringify(result)}; screenshots: ${kept.join(', ')}`);
  }
}

world.scenario('hostile host CSS: the widget looks and works the same', async (s) => {
  const body = '<footer><a href="#privacy" data-assent-open>Privacy choices</a></footer>';
  const plainPage = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, bodyHtml: body }));
  const plain = s.ui(plainPage);
  await plain.banner.waitFor({ state: 'visible' });
  const plainBox = await plain.banner.boundingBox();
  const plainBanner = await shoot(plain.banner);
  await plain.bannerButton('open').click();
  await plain.dialog.waitFor({ state: 'visible' });
  const plainDialogBox = await plain.dialog.boundingBox();
  const plainDialog = await shoot(plain.dialog);
  await plainPage.close();

  const hostilePage = await s.open(s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint, bodyHtml: body, headHtml: `<style>${HOSTILE_CSS}</style>`,
  }));
  const hostile = s.ui(hostilePage);
  await hostile.banner.waitFor({ state: 'visible' });
  assert.equal(await hostilePage.locator('main').isVisible(), false, 'the hostile CSS is in force on the host page');
  assert.deepEqual(await hostile.banner.boundingBox(), plainBox, 'the banner sits in the same place');
  assertLooksTheSame('banner', plainBanner, await shoot(hostile.banner));
  await hostile.bannerButton('open').click();
  await hostile.dialog.waitFor({ state: 'visible' });
  assert.deepEqual(await hostile.dialog.boundingBox(), plainDialogBox, 'the dialog sits in the same place');
  assertLooksTheSame('dialog', plainDialog, await shoot(hostile.dialog));

  // And it works: choose one purpose and save.
  await hostile.toggle('updates').click();
  await hostile.dialogButton('save').click();
  await hostile.dialog.waitFor({ state: 'hidden' });
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: ['updates'] });
});

world.scenario('strict CSP with Trusted Types: no violations, the flow completes, the record is stored', async (s) => {
  const csp = [
    "default-src 'none'",
    `script-src ${s.widget.origin} 'wasm-unsafe-eval'`,
    `connect-src ${s.widget.origin} ${s.collector.origin}`,
    `style-src ${s.widget.origin}`,
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
  const body = '<footer><a href="#privacy" id="privacy-choices" data-assent-open>Privacy choices</a></footer>';
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, csp, bodyHtml: body }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  await w.toggle('new_products').click();
  await w.toggle('upgrades').click();
  await w.dialogButton('save').click();
  await w.dialog.waitFor({ state: 'hidden' });
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, {
    site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: ['new_products', 'upgrades'],
  });
  // Reopen from the host element: still no violation anywhere.
  await page.locator('#privacy-choices').click();
  await w.dialog.waitFor({ state: 'visible' });
  await w.dialogButton('close').click();
  assert.deepEqual((await w.seen()).violations, [], 'no securitypolicyviolation events');
  // Then reload, as the returning visitor the page now has (the loader alone, no banner):
  // none there either. The recorder starts afresh with the page; a violation's event is
  // a task queued when it happens, so one task after the load has seen them all.
  await page.reload({ waitUntil: 'load' });
  assert.equal(await page.evaluate(() => window.Assent.preferences()?.record_id), record.record_id, 'the choice is read');
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve)));
  assert.equal(await w.banners.count(), 0, 'no banner');
  const { violations } = await w.seen();
  assert.deepEqual(violations, [], 'no securitypolicyviolation events after the reload');
  const cspConsole = s.console.filter((line) => /Content Security Policy|Trusted Type/i.test(line));
  assert.deepEqual(cspConsole, [], 'no CSP complaints in the console');
});

for (const strictDynamic of [true, false]) {
  const which = strictDynamic ? "with 'strict-dynamic'" : 'the nonce alone';
  world.scenario(`a nonce-based strict CSP (${which}, Trusted Types): the glue and the wasm load, no violations, the record is stored`, async (s) => {
    const nonce = 'aGFyZGVuaW5nLW5vbmNl';
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'${strictDynamic ? " 'strict-dynamic'" : ''} 'wasm-unsafe-eval'`,
      `connect-src ${s.widget.origin} ${s.collector.origin}`,
      `style-src ${s.widget.origin}`,
      "object-src 'none'",
      "base-uri 'none'",
      "require-trusted-types-for 'script'",
      "trusted-types 'none'",
    ].join('; ');
    const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, csp, extraAttributes: { nonce } }));
    const w = s.ui(page);
    await w.banner.waitFor({ state: 'visible' });
    await w.bannerButton('accept-all').click();
    const [record] = await s.collector.waitForRecords({ count: 1 });
    assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: OPTIONAL });
    const { violations } = await w.seen();
    assert.deepEqual(violations, [], 'no securitypolicyviolation events');
    assert.deepEqual(s.console.filter((line) => /Content Security Policy|Trusted Type/i.test(line)), [], 'no CSP complaints');
  });
}

const PAYLOAD = '"><img src=x onerror="window.__xss=(window.__xss||0)+1;alert(1)"><script>window.__xss=(window.__xss||0)+1;alert(2)</script>';
const SHORT_PAYLOAD = '<img src=x onerror=alert(1)>';

/** The default notice with a payload appended to every display string. */
function hostileNotice() {
  const notice = defaultNotice();
  const TEXT_KEYS = new Set(['organisation', 'title', 'summary', 'text', 'heading', 'address', 'fax', 'label', 'description']);
  const walk = (value) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) {
        if (typeof child === 'string' && TEXT_KEYS.has(key)) value[key] = `${child} ${PAYLOAD}`;
        else walk(child);
      }
    }
  };
  walk(notice);
  notice.id = 'hostile-notice';
  notice.version = SHORT_PAYLOAD;
  return notice;
}

/** Whatever the payloads could have done in `page`, and what the widget's links point at. */
async function damage(page) {
  return page.evaluate(() => {
    const shadow = document.querySelector('assent-host')?.shadowRoot;
    const inShadow = shadow ? [...shadow.querySelectorAll('img, script, iframe, object, embed, svg, style, link')].map((e) => e.outerHTML) : [];
    const hrefs = shadow ? [...shadow.querySelectorAll('a')].map((a) => a.getAttribute('href')) : [];
    const scripts = [...document.querySelectorAll('script')].length;
    const images = [...document.querySelectorAll('img')].length;
    return { xss: window.__xss ?? null, inShadow, hrefs, scripts, images };
  });
}

function assertHarmless(s, result) {
  assert.equal(result.xss, null, 'no payload ran');
  assert.deepEqual(result.inShadow, [], 'no markup from strings inside the widget');
  assert.equal(result.scripts, 1, 'the only script element is the widget tag');
  assert.equal(result.images, 0, 'no images were created');
  for (const href of result.hrefs) assert.match(href, /^(https:|mailto:|tel:)/, `link ${href}`);
  assert.deepEqual(s.dialogs, [], 'no alert');
}

world.scenario('XSS payloads in every data-* value: nothing runs, nothing is sent', async (s) => {
  // Every POST the pages make, to any address.
  const posted = [];
  s.context.on('request', (request) => { if (request.method() === 'POST') posted.push(request.url()); });
  const page = await s.open(s.localhost.page({
    site: null,
    endpoint: null,
    extraAttributes: {
      'data-endpoint': `javascript:alert(1)//${PAYLOAD}`,
      'data-site': PAYLOAD,
      'data-notice': `javascript:alert(1)//${PAYLOAD}`,
      'data-lang': PAYLOAD,
      'data-policy-url': `javascript:alert(1)//${PAYLOAD}`,
      'data-theme': PAYLOAD,
    },
  }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  assert.equal(await w.banner.locator('.summary').textContent(), defaultNotice().summary, 'the embedded notice is shown');
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  assertHarmless(s, await damage(page));
  await w.dialogButton('accept-all').click();
  await w.dialog.waitFor({ state: 'hidden' });
  const choice = await eventually('the choice kept locally', () => w.preferences());
  assert.doesNotMatch(choice.site, /[<>"]/, `site falls back to a host name (${choice.site})`);
  assertHarmless(s, await damage(page));
  // With no valid endpoint there is no outbox: the save (which has happened, above) queued
  // nothing to send, and nothing was sent anywhere. (The page names no collector: its
  // database holds nothing whatever the widget does, so it is not asked.)
  assert.equal(await w.storage(choice.site, 'outbox'), null, 'nothing queued to send');
  assert.deepEqual(posted, [], 'no POST to any address');
});

world.scenario('an element of the page named currentScript (DOM clobbering) is not taken for the tag: its data-endpoint and data-site are not used', async (s) => {
  const posted = [];
  s.context.on('request', (request) => { if (request.method() === 'POST') posted.push(request.url()); });
  const elsewhere = `${s.collector.endpoint}/elsewhere`;
  // As in markup a page lets through (a comment): named currentScript, it takes that name's
  // place on document; its src the widget's own, so that the files still load.
  const page = await s.open(s.localhost.page({
    site: SITE,
    endpoint: s.collector.endpoint,
    bodyHtml: `<img name="currentScript" alt="" src="${s.widget.scriptUrl}" data-endpoint="${elsewhere}" data-site="elsewhere.example">`,
  }));
  assert.equal(await page.evaluate(() => document.currentScript?.localName), 'img', 'the page is clobbered');
  const w = s.ui(page);
  await w.bannerButton('accept-all').click();
  const choice = await eventually('the choice kept', () => w.preferences());
  assert.notEqual(choice.site, 'elsewhere.example', "the element's data-site is not the widget's");
  // The choice is saved with its record in the outbox where there is an endpoint: with
  // none known (the tag's own could not be told from the element), no outbox.
  assert.equal(await w.storage(choice.site, 'outbox'), null, 'nothing queued to send');
  assert.deepEqual(posted.filter((url) => url.startsWith(elsewhere)), [], "nothing sent to the element's data-endpoint");
});

world.scenario('XSS payloads in every notice string: shown as text, no script runs, the record is stored', async (s) => {
  const notice = hostileNotice();
  const noticeUrl = s.localhost.file('/notices/hostile.json', JSON.stringify(notice));
  const page = await s.open(s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint, extraAttributes: { 'data-notice': noticeUrl },
  }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  assert.equal(await w.banner.locator('.summary').textContent(), notice.summary, 'the summary is shown as text');
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  const dialogText = await w.dialog.textContent();
  for (const section of notice.sections) {
    assert.ok(dialogText.includes(section.heading), `heading shown as text: ${section.heading.slice(0, 40)}`);
  }
  assert.ok(dialogText.includes(notice.title), 'the title is shown as text');
  for (const purpose of notice.purposes) {
    assert.equal(await w.dialog.locator(`li[data-purpose="${purpose.id}"] label`).textContent(), purpose.label);
  }
  assertHarmless(s, await damage(page));
  await w.toggle('announcements').click();
  await w.dialogButton('save').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { id: 'hostile-notice', version: SHORT_PAYLOAD }, granted: ['announcements'] });
  assertHarmless(s, await damage(page));
});

world.scenario('a notice with a javascript: link is refused: the embedded notice is shown instead', async (s) => {
  const notice = defaultNotice();
  notice.full_statement.href = 'javascript:alert(1)';
  notice.summary = 'This notice must never be shown.';
  const noticeUrl = s.localhost.file('/notices/js-link.json', JSON.stringify(notice));
  const page = await s.open(s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint, extraAttributes: { 'data-notice': noticeUrl },
  }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  assert.equal(await w.banner.locator('.summary').textContent(), defaultNotice().summary);
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  assertHarmless(s, await damage(page));
  await w.dialogButton('decline-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
});

world.scenario('a host script calling .click() on the widget\'s buttons: no record, no stored choice', async (s) => {
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  // What a host (or injected) script can do from the page.
  await page.evaluate(() => {
    const root = document.querySelector('assent-host').shadowRoot;
    root.querySelector('section.banner [data-action="accept-all"]').click();
    root.querySelector('section.banner [data-action="decline-all"]').click();
    root.querySelector('section.banner [data-action="accept-all"]')
      .dispatchEvent(new MouseEvent('click', { bubbles: true, composed: true, cancelable: true }));
  });
  await w.banner.waitFor({ state: 'visible' });
  // The API may open the dialog; untrusted clicks on its buttons must still not count.
  await page.evaluate(() => window.Assent.open());
  await w.dialog.waitFor({ state: 'visible' });
  await page.evaluate(() => {
    const root = document.querySelector('assent-host').shadowRoot;
    root.querySelector('[role=dialog] [data-action="save"]').click();
    root.querySelector('[role=dialog] [data-action="accept-all"]').click();
    root.querySelector('[role=dialog] [data-action="decline-all"]').click();
  });
  await w.dialog.waitFor({ state: 'visible' });
  assert.equal(await w.preferences(), null, 'no choice');
  assert.equal(await w.storage(SITE, 'choice'), null, 'nothing stored');
  assert.deepEqual((await w.seen()).changes, [], 'no assent:change');
  assert.equal(s.posts.length, 0, 'nothing sent');
  assert.equal((await s.collector.records()).length, 0, 'the database holds nothing');

  // A real click still works, and it is the only one that counted: the scripted clicks,
  // made before it, would have been saved and sent before it too.
  await w.dialogButton('save').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
  await eventually('an empty outbox', async () => ['[]', null].includes(await w.storage(SITE, 'outbox')));
  await eventually('every POST settled', () => s.posts.every((p) => p.done));
  assert.deepEqual([...new Set(s.posts.map((p) => p.recordId))], [record.record_id], 'only its record was sent');
  assert.equal((await s.collector.records()).length, 1, 'only the real click is recorded');
  assert.equal((await w.seen()).changes.length, 1, 'one assent:change, the real click\'s');
});

world.scenario('a host script calling .click() on a purpose toggle does not change what is recorded', async (s) => {
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  // A script ticks every optional purpose behind the visitor's back (the change event the
  // browser fires for a scripted click is itself trusted: only the click is not).
  await page.evaluate((ids) => {
    const root = document.querySelector('assent-host').shadowRoot;
    for (const id of ids) root.querySelector(`li[data-purpose="${id}"] input`).click();
  }, OPTIONAL);
  await w.dialogButton('save').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice: { ...EMBEDDED, hash: s.widget.embeddedNoticeHash }, granted: [] });
});

world.scenario('an origin the collector does not allow: 403, assent:error, the choice kept locally and its record waiting to be sent again', async (s) => {
  const page = await s.open(s.ip.page({ site: SITE, endpoint: s.collector.endpoint }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('decline-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  const choice = await eventually('the choice kept locally', () => w.preferences());
  assert.equal(choice.site, SITE);
  const errors = await eventually('an assent:error event', async () => {
    const seen = await w.seen();
    return seen.errors.length > 0 ? seen.errors : null;
  });
  assert.equal(errors[0].record_id, choice.record_id, 'assent:error names the record');
  assert.equal(errors[0].status, 403, 'assent:error carries the 403');
  // Playwright reports a response a moment after the page has it: wait for it.
  await eventually('the collector answered 403', () => s.posts.some((p) => p.status === 403));
  assert.equal((await s.collector.records()).length, 0, 'the database holds nothing');
  // The site's setup refused, not the record: it waits for the collector's list to be fixed.
  const waiting = JSON.parse(await w.storage(SITE, 'outbox'));
  assert.deepEqual(waiting.map((r) => r.record_id), [choice.record_id], 'the record waits in the outbox');
  await page.reload({ waitUntil: 'load' });
  // (Each page's assent:error is its own: the one leaving sends it too, by keepalive, and
  // hears no answer.)
  const again = await eventually('the next page sends it again, and is told', async () => {
    const seen = await w.seen();
    return seen.errors.length > 0 ? seen.errors : null;
  });
  assert.equal(again[0].record_id, choice.record_id);
  // Told by the wasm, which the record waiting made the loader start: had it asked again,
  // its banner would show by now.
  assert.equal(await w.banners.count(), 0, 'the banner stays away');
  assert.equal((await w.preferences())?.record_id, choice.record_id, 'the choice survives a reload');
}, { allowedOrigins: (world) => [world.localhost.origin] });
