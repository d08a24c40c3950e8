// The verify page with a real collector: a receipt file made from a real POST's answer is
// shown as genuine with its purposes, a tampered copy is not, and after `keygen --rotate`
// and a restart the old file still verifies through the published JWK set. The page is
// served by the collector (`--static-dir`) from the files Trunk copies into dist/.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

import { launchBrowser } from '../harness/browser.js';
import { ensureCollectorBinary, startCollector } from '../harness/collector.js';
import { defaultNotice, root } from '../harness/paths.js';

const run = promisify(execFile);
const PAGE_FILES = ['verify.html', 'verify.js', 'verify.css', 'demo.css'];

let browser;
let www;
before(async () => {
  ensureCollectorBinary();
  browser = await launchBrowser();
  www = mkdtempSync(join(tmpdir(), 'assent-e2e-verify-'));
  // At the root, and under a path, as a CDN's folder or a collector behind a path serves it.
  mkdirSync(join(www, 'assent'));
  for (const name of PAGE_FILES) {
    copyFileSync(join(root, 'www', name), join(www, name));
    copyFileSync(join(root, 'www', name), join(www, 'assent', name));
  }
});
after(async () => {
  await browser?.close();
  if (www) rmSync(www, { recursive: true, force: true });
});

/** A record in its canonical form (schema key order, purposes in the notice's order). */
function record(states) {
  return {
    record_id: crypto.randomUUID(),
    site: 'pci.qualys.com',
    notice: { id: 'qualys-privacy-highlights', version: '2011-12-31', hash: `sha256:${'ab'.repeat(32)}` },
    language: 'en',
    purposes: [
      { purpose: 'new_products', basis: 'consent', state: states.new_products },
      { purpose: 'updates', basis: 'consent', state: states.updates },
      { purpose: 'security', basis: 'contract' },
    ],
    gpc: false,
    widget_version: '0.1.0',
    client_time: '2026-12-02T06:30:00.123Z',
  };
}

async function post(collector, body) {
  const response = await fetch(collector.endpoint, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(response.status, 201);
  return response.json();
}

/** The receipt file for a record and the collector's answer (as ReceiptFile::new makes it). */
function receiptFile(original, answer, collector) {
  const sent = structuredClone(original);
  const notice = defaultNotice();
  const contact = notice.sections.flatMap((s) => s.blocks).find((b) => b.contact).contact;
  return {
    version: 'assent-receipt-file/1',
    receipt_id: sent.record_id,
    controller: { name: notice.organisation, contact },
    notice: sent.notice,
    collection_method: 'web widget',
    consent_timestamp: sent.client_time,
    recorded_at: answer.received_at,
    site: sent.site,
    purposes: sent.purposes.map(({ purpose, basis, state }) => (state ? { purpose, lawful_basis: basis, state } : { purpose, lawful_basis: basis })),
    record: sent,
    receipt: { jws: answer.receipt, seq: answer.seq, chain_hash: answer.chain_hash },
    keys: { jwks_uri: `${collector.origin}/.well-known/jwks.json` },
  };
}

function kidOf(jws) {
  return JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString()).kid;
}

/** `verify --receipt-file` with the collector's key ring, or with `keys` (`--jwks FILE`). */
async function cliVerifyFile(collector, path, keys = ['--receipt-key', collector.receiptKey]) {
  try {
    const { stdout } = await run(ensureCollectorBinary(), ['verify', '--receipt-file', path, ...keys]);
    return JSON.parse(stdout);
  } catch (error) {
    return JSON.parse(error.stdout);
  }
}

/** Opens the verify page, keeping every request it makes and every CSP violation. */
async function openPage(context, collector, path = '/verify.html') {
  const page = await context.newPage();
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.effectiveDirective), true);
  });
  await page.goto(`${collector.origin}${path}`);
  return { page, requests };
}

/** Chooses the file and waits for the verdict of that check (not an earlier one). */
async function check(page, path, start = () => page.locator('#receipt-file').setInputFiles(path)) {
  const verdict = page.locator('#verdict');
  const before = Number(await verdict.getAttribute('data-check') ?? 0);
  await start();
  await page.locator(`#verdict[data-check="${before + 1}"]`).waitFor();
  return (await verdict.textContent()).trim();
}

async function purposesShown(page) {
  return page.locator('#purposes tr').evaluateAll((rows) => rows.map((row) => [row.dataset.purpose, row.cells[2].textContent]));
}

test('the verify page: genuine, tampered, and an old receipt after a key rotation', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-files-'));
  let collector = await startCollector({ allowedOrigins: ['http://127.0.0.1:9'], staticDir: www });
  const context = await browser.newContext();
  try {
    const sent = record({ new_products: 'granted', updates: 'denied' });
    const answer = await post(collector, sent);
    const genuinePath = join(dir, 'receipt.json');
    writeFileSync(genuinePath, JSON.stringify(receiptFile(sent, answer, collector), null, 2));
    assert.equal((await cliVerifyFile(collector, genuinePath)).ok, true, 'the CLI accepts the file the test built');

    const { page, requests } = await openPage(context, collector);
    const shown = await check(page, genuinePath);
    assert.match(shown, /^Genuine\./, shown);
    assert.equal(await page.locator('#details').isVisible(), true);
    assert.deepEqual(await purposesShown(page), [
      ['new_products', 'granted'],
      ['updates', 'denied'],
      ['security', 'always sent (needed for the service)'],
    ]);
    const facts = await page.locator('#facts').textContent();
    assert.match(facts, /pci\.qualys\.com/);
    assert.match(facts, /Given toQualys, Inc\.Chosen at/, 'the controller, as the receipt signs it');
    // Whose keys: anyone can publish a key set, so the page says where this one came from.
    assert.ok(shown.includes(`a key published at ${collector.origin}/.well-known/jwks.json,`), shown);
    assert.ok(facts.includes(`${collector.origin}/.well-known/jwks.json`), facts);
    assert.match(facts, new RegExp(answer.received_at.replace(/[.]/g, '\\.')));
    assert.equal(await page.locator('#verdict').getAttribute('role'), 'status', 'the verdict is a live region');
    // Only the page itself and the JWK set were fetched.
    const fetched = requests.map((url) => new URL(url).pathname);
    assert.deepEqual(fetched.filter((path) => !PAGE_FILES.map((f) => `/${f}`).includes(path)), ['/.well-known/jwks.json']);

    // Served under a path, it fetches its own files from there (and takes for this
    // collector's only a key set beside it, which the root's is not).
    const { page: underPath, requests: fromPath } = await openPage(context, collector, '/assent/verify.html');
    assert.match(await check(underPath, genuinePath), /^Signed, by keys the file names\./);
    const pageFiles = fromPath.map((url) => new URL(url).pathname).filter((path) => !path.startsWith('/.well-known/'));
    assert.deepEqual(pageFiles.sort(), PAGE_FILES.map((f) => `/assent/${f}`).sort());
    await underPath.close();

    // A state flipped in the record and in the summary: the signed purposes differ.
    const flipped = receiptFile(sent, answer, collector);
    flipped.record.purposes[1].state = 'granted';
    flipped.purposes[1].state = 'granted';
    const flippedPath = join(dir, 'flipped.json');
    writeFileSync(flippedPath, JSON.stringify(flipped));
    const refused = await check(page, flippedPath);
    assert.match(refused, /^Not genuine\./, refused);
    assert.match(refused, /purposes differs/);
    assert.equal(await page.locator('#details').isVisible(), false, 'nothing of a forged file is shown as fact');
    assert.equal((await cliVerifyFile(collector, flippedPath)).ok, false);

    // The signed payload itself changed to match the flipped file: the signature fails.
    const [head, payload, signature] = answer.receipt.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    claims.purposes[1].state = 'granted';
    flipped.receipt.jws = `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const forgedPath = join(dir, 'forged.json');
    writeFileSync(forgedPath, JSON.stringify(flipped));
    assert.match(await check(page, forgedPath), /^Not genuine\. The signature does not verify/);
    assert.equal((await cliVerifyFile(collector, forgedPath)).ok, false);

    /** A copy of the genuine file changed by `change`, written as NAME.json: what the page
     *  says of it, and whether the CLI accepts it. */
    const changed = async (name, change) => {
      const file = receiptFile(sent, answer, collector);
      change(file);
      const path = join(dir, `${name}.json`);
      writeFileSync(path, JSON.stringify(file));
      return { shown: await check(page, path), cli: (await cliVerifyFile(collector, path)).ok };
    };
    for (const [name, change, shown, cli] of [
      // Another field the receipt does not state, changed: caught by the digest.
      ['language', (f) => { f.record.language = 'de'; }, /^Not genuine\..*digest differs/, false],
      // A field receipt files do not have.
      ['extra', (f) => { f.verified_by = 'the company'; }, /^Not genuine\. Not a receipt file: it has a field "verified_by"/, false],
      // A field's name quoted cut short, its bidi override shown as an escape: a hostile file
      // can neither fill the verdict nor turn its line around.
      ['long name', (f) => { f[`\u202e${'x'.repeat(100)}`] = 1; }, /^Not genuine\. Not a receipt file: it has a field "\\u\{202e\}x{39}…" that/, false],
      // A line separator shown as an escape too, and a name cut between characters, not
      // inside one (an emoji is two UTF-16 units).
      ['separated name', (f) => { f[`a\u2028${'😀'.repeat(50)}`] = 1; }, /^Not genuine\. Not a receipt file: it has a field "a\\u\{2028\}(?:😀){38}…" that/, false],
      // The summary's purposes rewritten so that, as joined text, they read as the record's:
      // one purpose whose basis spells out the others. The table would show it as genuine.
      ['spelled', (f) => {
        f.purposes = [{ purpose: 'new_products', lawful_basis: 'consent granted\nsecurity contract -\nupdates consent', state: 'denied' }];
      }, /^Not genuine\..*purposes does not match/, false],
      // Given to someone else: the receipt signs whom the choice was given to.
      ['given', (f) => { f.controller.name = 'Someone Else Ltd'; }, /^Not genuine\..*controller differs/, false],
      // How it was collected, changed: the record's source says otherwise.
      ['method', (f) => { f.collection_method = 'one-click unsubscribe'; }, /^Not genuine\..*collection method does not match/, false],
      // A time written otherwise that Date.parse reads as the same millisecond: the
      // collector compares to the nanosecond, and so does the page.
      ['retimed', (f) => { f.recorded_at = answer.received_at.replace(/Z$/, '9Z'); }, /^Not genuine\..*time recorded differs/, false],
      // Rewritten by a tool that orders keys its own way: the same record, still genuine.
      ['rewritten', (f) => {
        const reversed = (object) => Object.fromEntries(Object.entries(object).reverse());
        f.record = reversed({ ...f.record, notice: reversed(f.record.notice) });
        f.record.purposes = [...f.record.purposes].reverse().map(reversed);
      }, /^Genuine\./, true],
      // Its time of the choice respelled by a tool, the same instant: what was signed is the
      // time as the collector writes it, and the page, like the CLI, reads it so.
      ['respelled', (f) => {
        f.record.client_time = f.record.client_time.replace('T', 't').replace(/Z$/, '000+00:00');
      }, /^Genuine\./, true],
      // As SQLite and Python's isoformat(' ') write it, with a tenth fraction digit, which
      // the collector drops.
      ['spaced', (f) => { f.record.client_time = f.record.client_time.replace('T', ' ').replace(/Z$/, '0000009Z'); }, /^Genuine\./, true],
      // The same, an hour on in another offset: another text for the same instant, but not
      // the time as the visitor's clock gave it, which the record states and the receipt signs.
      ['offset', (f) => { f.record.client_time = f.record.client_time.replace(/T06(.*)Z$/, 'T07$1+01:00'); }, /^Not genuine\..*digest differs/, false],
      // A record with a field records do not have: not what was signed, however hashed.
      ['noted', (f) => { f.record.note = 'approved by the company'; }, /^Not genuine\. Not a receipt file: its record has a field/, false],
      // A signature cut to one character: a forgery, not a check that could not be made.
      ['cut', (f) => { f.receipt.jws = f.receipt.jws.replace(/\.[^.]*$/, '.A'); }, /^Not genuine\. The receipt is not a JWS/, false],
      // A field the file's parts do not have: refused, as the CLI refuses it.
      ['annotated', (f) => { f.receipt.verified = true; }, /^Not genuine\. Not a receipt file: a part of it has a field/, false],
      // The signature's last character changed in its unused bits only: the same bytes to
      // atob, but not the JWS that was issued, and the CLI refuses it.
      ['loose bits', (f) => {
        const jws = f.receipt.jws;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(jws.at(-1));
        f.receipt.jws = jws.slice(0, -1) + alphabet[(last & 0x30) | ((last + 1) & 0x0f)];
      }, /^Not genuine\. The receipt is not a JWS/, false],
      // Signed, it says, by a key the set does not publish (yet, on the host asked): no
      // verdict on the receipt.
      ['unknown key', (f) => {
        const [head, ...rest] = f.receipt.jws.split('.');
        const header = { ...JSON.parse(Buffer.from(head, 'base64url').toString()), kid: '0000000000000000' };
        f.receipt.jws = [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.');
      }, /^Not checked\. The receipt was signed by key 0000000000000000/, false],
      // The record id in capitals: the same record, for the page as for the CLI.
      ['capitals', (f) => { f.record.record_id = f.record.record_id.toUpperCase(); f.receipt_id = f.receipt_id.toUpperCase(); }, /^Genuine\./, true],
      // The same id in the other forms the collector reads: braces, a URN, 32 digits.
      ['braced', (f) => {
        f.record.record_id = `{${f.record.record_id.toUpperCase()}}`;
        f.receipt_id = `urn:uuid:${f.receipt_id}`;
      }, /^Genuine\./, true],
      ['undashed', (f) => { f.receipt_id = f.receipt_id.replaceAll('-', ''); }, /^Genuine\./, true],
      ['URN in capitals', (f) => { f.receipt_id = `URN:UUID:${f.receipt_id}`; }, /^Genuine\./, true],
      // Rewritten by a tool that writes every field, the absent ones as null: the same file,
      // for the page as for the CLI (which reads a null optional field as absent).
      ['nulled', (f) => {
        Object.assign(f.record, { email: null, subject_token: null });
        for (const p of [...f.record.purposes, ...f.purposes]) if (p.state === undefined) p.state = null;
        for (const name of ['telephone', 'fax']) f.controller.contact[name] ??= null;
      }, /^Genuine\./, true],
      ['no contact', (f) => { f.controller.contact = null; }, /^Not genuine\..*controller differs/, false],
      // A controller the collector would not write (a control character, an empty text):
      // refused as no receipt file, as the CLI refuses it, signed or not (a receipt from
      // before the controller was signed has only the file's word for it).
      ['bell', (f) => { f.controller.name += '\u0007'; }, /^Not genuine\. Not a receipt file: its controller is not one/, false],
      ['no fax', (f) => { f.controller.contact.fax = ''; }, /^Not genuine\. Not a receipt file: its controller is not one/, false],
      // What the CLI refuses as no receipt file, the page refuses too.
      ['no controller', (f) => { delete f.controller; }, /^Not genuine\. Not a receipt file: a field is missing/, false],
      ['no method', (f) => { delete f.collection_method; }, /^Not genuine\. Not a receipt file: a field is missing/, false],
      ['notice with more', (f) => { f.notice = { ...f.notice, url: 'https://example.com/' }; }, /^Not genuine\. Not a receipt file: a part of it has a field/, false],
      // Key set addresses read as written, as the CLI reads them: not as the URL parser
      // makes them (127.1 is 127.0.0.1 to it, this page's server), nor a port no URL has.
      ['short loopback', (f) => { f.keys.jwks_uri = f.keys.jwks_uri.replace('127.0.0.1', '127.1'); }, /^Not genuine\. The public keys address must be https:/, false],
      ['backslash', (f) => { f.keys.jwks_uri = 'https://keys.example.com\\@evil.test/jwks.json'; }, /^Not genuine\. The public keys address must be https:/, false],
      ['port', (f) => { f.keys.jwks_uri = 'https://keys.example.com:99999/jwks.json'; }, /^Not genuine\. The public keys address is not a URL/, false],
      // Another record's id in the summary: not this record's receipt.
      ['other id', (f) => { f.receipt_id = crypto.randomUUID(); }, /^Not genuine\..*receipt id does not match/, false],
    ]) {
      const outcome = await changed(name, change);
      assert.match(outcome.shown, shown, name);
      assert.equal(outcome.cli, cli, `${name}: the CLI agrees`);
    }

    // Times written with another separator that the time crate, and so the page, reads (any
    // one ASCII character): the page shows the instants that were signed, not what the
    // browser's Date makes of such text (a "(" begins a comment to V8: the date's midnight).
    const separated = await changed('separated', (f) => {
      f.record.client_time = f.record.client_time.replace('T', '(');
      f.consent_timestamp = f.consent_timestamp.replace('T', '(');
      f.recorded_at = f.recorded_at.replace('T', '(');
    });
    assert.match(separated.shown, /^Genuine\./);
    assert.equal(separated.cli, true, 'separated: the CLI agrees');
    const separatedFacts = await page.locator('#facts').textContent();
    for (const [term, time] of [['Chosen at (the visitor\'s device clock)', sent.client_time], ['Recorded at', answer.received_at]]) {
      const local = await page.evaluate((t) => new Date(t).toLocaleString(), time);
      assert.ok(separatedFacts.includes(`${term}${local} (${time.replace('T', '(')})`), `${term} ${local}: ${separatedFacts}`);
    }

    // A choice in a month's last second: its time written as the leap second RFC 3339 allows
    // there is the same moment, to the page as to the CLI; a leap second elsewhere is no time.
    const last = { ...record({ new_products: 'denied', updates: 'granted' }), client_time: '2026-11-30T23:59:59.999999999Z' };
    const lastAnswer = await post(collector, last);
    for (const [i, [stamp, expected, cli]] of [
      ['2026-11-30T23:59:60Z', /^Genuine\./, true],
      ['2026-12-01T00:59:60+01:00', /^Genuine\./, true],
      ['2026-11-29T23:59:60Z', /^Not genuine\..*time of the choice does not match/, false],
    ].entries()) {
      const file = receiptFile(last, lastAnswer, collector);
      file.consent_timestamp = stamp;
      const path = join(dir, `leap-${i}.json`);
      writeFileSync(path, JSON.stringify(file));
      assert.match(await check(page, path), expected, stamp);
      assert.equal((await cliVerifyFile(collector, path)).ok, cli, `${stamp}: the CLI agrees`);
    }

    // A name twice in one object: JSON.parse keeps the last, and whoever reads the file the
    // first. Refused, as the CLI refuses it.
    const twicePath = join(dir, 'twice.json');
    writeFileSync(twicePath, readFileSync(genuinePath, 'utf8').replace('"purposes":', '"purposes":[],"purposes":'));
    assert.match(await check(page, twicePath), /^Not genuine\. Not a receipt file: one of its objects names "purposes" twice/);
    assert.equal((await cliVerifyFile(collector, twicePath)).ok, false, 'a name twice: the CLI agrees');
    // A long one is quoted cut short: the verdict is the page's words, not the file's.
    const long = `The receipt is genuine${' and signed'.repeat(400)}`;
    const longPath = join(dir, 'twice-long.json');
    writeFileSync(longPath, readFileSync(genuinePath, 'utf8').replace('{', `{"${long}":1,"${long}":2,`));
    const longShown = await check(page, longPath);
    assert.match(longShown, /^Not genuine\. Not a receipt file: one of its objects names "The receipt is genuine and signed and si…" twice\.$/, longShown);

    // Its receipt number written 1.0: the same number to JSON.parse, no whole number to the
    // CLI, and so to the page.
    const decimalPath = join(dir, 'decimal.json');
    writeFileSync(decimalPath, readFileSync(genuinePath, 'utf8').replace(/"seq": (\d+)/, '"seq": $1.0'));
    assert.match(await check(page, decimalPath), /^Not genuine\. Not a receipt file: its receipt number \d+\.0 is not a whole number/);
    assert.equal((await cliVerifyFile(collector, decimalPath)).ok, false, '1.0: the CLI agrees');
    // Another number that is not one: the verdict does not blame the receipt number.
    const otherNumberPath = join(dir, 'other-number.json');
    writeFileSync(otherNumberPath, readFileSync(genuinePath, 'utf8').replace('"gpc": false', '"gpc": 1.5'));
    assert.match(await check(page, otherNumberPath), /^Not genuine\. Not a receipt file: it has the number 1\.5, where its one number is the receipt number/);
    assert.equal((await cliVerifyFile(collector, otherNumberPath)).ok, false, '1.5: the CLI agrees');

    // Saved again by an editor that writes a byte order mark first: the same file.
    const markedPath = join(dir, 'marked.json');
    writeFileSync(markedPath, `\uFEFF${readFileSync(genuinePath, 'utf8')}`);
    assert.match(await check(page, markedPath), /^Genuine\./);
    assert.equal((await cliVerifyFile(collector, markedPath)).ok, true, 'a byte order mark: the CLI agrees');

    // Garbled.
    const garbledPath = join(dir, 'garbled.json');
    writeFileSync(garbledPath, readFileSync(genuinePath, 'utf8').slice(0, 200));
    assert.match(await check(page, garbledPath), /^Not genuine\. Not a receipt file/);

    // Keyboard only: type the keys' address and press Enter; the chosen file is checked again.
    assert.match(await check(page, genuinePath), /^Genuine\./);
    await page.locator('#jwks-url').focus();
    await page.keyboard.type(`${collector.origin}/.well-known/jwks.json`);
    assert.match(await check(page, genuinePath, () => page.keyboard.press('Enter')), /^Genuine\./);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'check', 'the button follows the address field');
    // With an address typed, the file's own is still read as the CLI reads it: a file naming
    // none it could fetch is no receipt file, whatever the reader trusts.
    const ftpPath = join(dir, 'ftp.json');
    writeFileSync(ftpPath, JSON.stringify({ ...JSON.parse(readFileSync(genuinePath, 'utf8')), keys: { jwks_uri: 'ftp://keys.example.com/jwks.json' } }));
    assert.match(await check(page, ftpPath), /^Not genuine\. Not a receipt file: the public keys address it names is not an https: URL/);
    assert.equal((await cliVerifyFile(collector, ftpPath)).ok, false, 'ftp: the CLI agrees');
    assert.match(await check(page, genuinePath), /^Genuine\./, 'the genuine file chosen again');

    // Where the check itself can't be made, the page says nothing of the receipt: not that
    // it is forged. The keys out of reach:
    const recheck = () => page.locator('#check').click();
    await page.locator('#jwks-url').fill(`${collector.origin}/no-such-keys.json`);
    assert.match(await check(page, genuinePath, recheck), /^Not checked\. The public keys could not be fetched .*: HTTP 404/);
    // A key set address that redirects elsewhere: not followed, since the verdict names the
    // address the keys came from.
    await page.route(`${collector.origin}/moved-keys.json`, (route) => route.fulfill({
      status: 302, headers: { location: `${collector.origin}/.well-known/jwks.json`, 'access-control-allow-origin': '*' },
    }));
    await page.locator('#jwks-url').fill(`${collector.origin}/moved-keys.json`);
    assert.match(await check(page, genuinePath, recheck), /^Not checked\. The public keys could not be fetched/);
    // The loopback as IPv6, as a collector serving on [::1] names its keys: fetched as
    // localhost, which the page's policy can name.
    await page.locator('#jwks-url').fill(`http://[::1]:${new URL(collector.origin).port}/.well-known/jwks.json`);
    assert.match(await check(page, genuinePath, recheck), /^Genuine\. It is signed with a key published at http:\/\/localhost:\d+\/.well-known\/jwks\.json,/);

    // A receipt key is named by its hash, for the page as for `verify --jwks`. Another
    // signer's Ed25519 key in the set, under a kid of its own, signs no receipt, even a JWS
    // shaped as one that names it: not checked, where the CLI finds no key for it.
    const genuineSet = await (await fetch(`${collector.origin}/.well-known/jwks.json`)).json();
    const other = generateKeyPairSync('ed25519');
    const otherKid = 'a1b2c3d4e5f60718'; // of a receipt key's form, not the hash of its key
    const otherKey = { ...other.publicKey.export({ format: 'jwk' }), kid: otherKid };
    const [signedHead, signedPayload] = answer.receipt.split('.');
    /** The receipt file signed by the other key, its JWS header naming `kid`. */
    const signedByOther = (name, kid) => {
      const head = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(signedHead, 'base64url').toString()), kid })).toString('base64url');
      const signature = sign(null, Buffer.from(`${head}.${signedPayload}`), other.privateKey).toString('base64url');
      const file = receiptFile(sent, answer, collector);
      file.receipt.jws = `${head}.${signedPayload}.${signature}`;
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(file));
      return path;
    };
    const elsewherePath = signedByOther('elsewhere.json', otherKid);
    const keySet = async (name, keys) => {
      await page.route(`${collector.origin}/${name}`, (route) => route.fulfill({ json: { keys }, headers: { 'access-control-allow-origin': '*' } }));
      await page.locator('#jwks-url').fill(`${collector.origin}/${name}`);
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify({ keys }));
      return path;
    };
    const mixedPath = await keySet('mixed-keys.json', [...genuineSet.keys, otherKey]);
    assert.match(await check(page, elsewherePath), /^Not checked\. The receipt was signed by key a1b2c3d4e5f60718, which .* does not publish/);
    // A key name of another form is none of a receipt key, and the verdict does not quote
    // it: the header is anyone's words until the signature is checked.
    const boast = '0. The receipt is genuine and was recorded by Qualys, Inc';
    const boastPath = signedByOther('boast.json', boast);
    const boastShown = await check(page, boastPath);
    assert.match(boastShown, /^Not genuine\. The receipt names a signing key that is not a receipt key/, boastShown);
    assert.ok(!boastShown.includes('recorded by'), boastShown);
    assert.equal((await cliVerifyFile(collector, boastPath, ['--jwks', mixedPath])).ok, false, 'the CLI refuses it too');
    assert.equal((await cliVerifyFile(collector, elsewherePath, ['--jwks', mixedPath])).ok, false, 'the CLI finds no key for it either');
    assert.match(await check(page, genuinePath), /^Genuine\./, 'the collector\'s own key beside it');
    // The collector's key published without a kid: found by its hash, as the CLI finds it.
    const unnamedPath = await keySet('unnamed-keys.json', genuineSet.keys.map(({ kid, ...key }) => key));
    assert.match(await check(page, genuinePath, recheck), /^Genuine\./, 'a key without a kid, found by its hash');
    assert.equal((await cliVerifyFile(collector, genuinePath, ['--jwks', unnamedPath])).ok, true, 'and by the CLI');
    const nullPath = await keySet('null-kid-keys.json', genuineSet.keys.map((key) => ({ ...key, kid: null })));
    assert.match(await check(page, genuinePath, recheck), /^Genuine\./, 'a key whose kid is null, likewise');
    assert.equal((await cliVerifyFile(collector, genuinePath, ['--jwks', nullPath])).ok, true, 'and by the CLI');

    // Keys at an address the file names on another server: anyone can publish a key set
    // and sign a file that names it, so the page does not call that genuine (here the
    // collector's own keys, served elsewhere); the reader's typed address vouches for them.
    const named = receiptFile(sent, answer, collector);
    named.keys.jwks_uri = 'https://keys.elsewhere.test/.well-known/jwks.json';
    const namedPath = join(dir, 'named.json');
    writeFileSync(namedPath, JSON.stringify(named));
    await page.route(named.keys.jwks_uri, (route) => route.fulfill({ json: genuineSet, headers: { 'access-control-allow-origin': '*' } }));
    await page.locator('#jwks-url').fill('');
    const signedOnly = await check(page, namedPath);
    assert.match(signedOnly, /^Signed, by keys the file names\. It is signed with a key published at https:\/\/keys\.elsewhere\.test\/\.well-known\/jwks\.json, an address the file itself names, not the key set of the collector serving this page/, signedOnly);
    assert.equal(await page.locator('#details').isVisible(), true, 'what it says, shown');
    // Nor another path on this page's own server, which a collector under a path prefix
    // shares with whoever else serves files there.
    const beside = receiptFile(sent, answer, collector);
    beside.keys.jwks_uri = `${collector.origin}/elsewhere/.well-known/jwks.json`;
    const besidePath = join(dir, 'beside.json');
    writeFileSync(besidePath, JSON.stringify(beside));
    await page.route(beside.keys.jwks_uri, (route) => route.fulfill({ json: genuineSet, headers: { 'access-control-allow-origin': '*' } }));
    assert.match(await check(page, besidePath), /^Signed, by keys the file names\./);
    // An "@" in the path is no user name: the address is read, as the CLI reads it.
    const atPath = join(dir, 'at.json');
    writeFileSync(atPath, JSON.stringify({ ...beside, keys: { jwks_uri: 'https://keys.elsewhere.test/@acme/jwks.json' } }));
    await page.route('https://keys.elsewhere.test/@acme/jwks.json', (route) => route.fulfill({ json: genuineSet, headers: { 'access-control-allow-origin': '*' } }));
    assert.match(await check(page, atPath), /^Signed, by keys the file names\. It is signed with a key published at https:\/\/keys\.elsewhere\.test\/@acme\/jwks\.json,/);
    assert.equal((await cliVerifyFile(collector, atPath)).ok, true, 'and the CLI reads it');
    await page.locator('#jwks-url').fill(named.keys.jwks_uri);
    assert.match(await check(page, namedPath, recheck), /^Genuine\./, 'an address the reader typed');
    // A typo in the typed address says nothing of the receipt.
    await page.locator('#jwks-url').fill('keys.elsewhere.test/.well-known/jwks.json');
    assert.match(await check(page, genuinePath, recheck), /^Not checked\. The public keys address is not a URL\./);
    await page.locator('#jwks-url').fill('');

    // A file too large to be a receipt, chosen while an earlier file's keys are on their
    // way: that earlier check's verdict, when it comes, is not shown for it.
    // A check's last steps are its signature's verification, then the record's two
    // digests: counted, so that the test knows when the earlier check is over.
    await page.evaluate(() => {
      const subtle = crypto.subtle;
      const [verify, digest] = [subtle.verify.bind(subtle), subtle.digest.bind(subtle)];
      window.__digests = 0;
      subtle.digest = (...args) => digest(...args).finally(() => { window.__digests++; });
      subtle.verify = (...args) => verify(...args).finally(() => { window.__digestsAtVerify = window.__digests; });
    });
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    const keysUrl = `${collector.origin}/.well-known/jwks.json`;
    await page.route(keysUrl, async (route) => { await held; await route.continue(); });
    const keysAsked = page.waitForRequest(keysUrl);
    await page.locator('#receipt-file').setInputFiles(genuinePath);
    await keysAsked;
    const largePath = join(dir, 'large.json');
    writeFileSync(largePath, ' '.repeat(65 * 1024));
    // (The earlier check took a number of its own: check() would wait for that one.)
    await page.locator('#receipt-file').setInputFiles(largePath);
    await page.locator('#verdict', { hasText: 'larger than 64 KiB' }).waitFor();
    assert.match((await page.locator('#verdict').textContent()).trim(), /^Not genuine\. Not a receipt file: it is larger than 64 KiB\./);
    const shownBefore = await page.locator('#verdict').getAttribute('data-check');
    release();
    await page.waitForFunction(() => window.__digestsAtVerify !== undefined && window.__digests >= window.__digestsAtVerify + 2);
    // What ran on when the second digest came, done by the next task.
    await page.evaluate(() => new Promise((resolve) => { setTimeout(resolve); }));
    await page.unroute(keysUrl);
    assert.match((await page.locator('#verdict').textContent()).trim(), /^Not genuine\. Not a receipt file: it is larger than 64 KiB\./,
      'the earlier check over, its verdict not shown');
    assert.equal(await page.locator('#verdict').getAttribute('data-check'), shownBefore);
    assert.match(await check(page, genuinePath), /^Genuine\./, 'a check after it');
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'no CSP violation');
    await page.close();

    // A browser whose WebCrypto has no Ed25519 (Chrome before 137): not checked.
    const old = await context.newPage();
    await old.addInitScript(() => {
      crypto.subtle.importKey = () => Promise.reject(new DOMException('Algorithm: Unrecognized name', 'NotSupportedError'));
    });
    await old.goto(`${collector.origin}/verify.html`);
    assert.match(await check(old, genuinePath), /^Not checked\. This browser can't use key .* to check the signature/);
    assert.equal(await old.locator('#details').isVisible(), false);
    await old.close();

    // Rotate the key; restart on the same address.
    const oldKid = kidOf(answer.receipt);
    const rotated = await run(ensureCollectorBinary(), ['keygen', '--rotate', '--receipt-key', collector.receiptKey]);
    const jwks = JSON.parse(rotated.stdout);
    assert.equal(jwks.keys.length, 2);
    collector = await collector.restart();
    const later = record({ new_products: 'denied', updates: 'granted' });
    const laterAnswer = await post(collector, later);
    assert.notEqual(kidOf(laterAnswer.receipt), oldKid, 'new receipts carry the new key');
    assert.equal(kidOf(laterAnswer.receipt), jwks.keys[0].kid);
    const laterPath = join(dir, 'later.json');
    writeFileSync(laterPath, JSON.stringify(receiptFile(later, laterAnswer, collector)));

    const second = await openPage(context, collector);
    assert.match(await check(second.page, genuinePath), /^Genuine\./, 'the old receipt still verifies');
    assert.match(await check(second.page, laterPath), /^Genuine\./);
    assert.deepEqual(await purposesShown(second.page), [
      ['new_products', 'denied'],
      ['updates', 'granted'],
      ['security', 'always sent (needed for the service)'],
    ]);
    assert.equal((await cliVerifyFile(collector, genuinePath)).ok, true, 'the CLI too, with the ring');
    const verified = await collector.verify();
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.verified, 3, 'the three records posted: the first, the one of a month’s last second, the later one');
  } catch (error) {
    error.message += `\n--- collector log ---\n${collector.log().slice(-6000)}`;
    throw error;
  } finally {
    await context.close();
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
