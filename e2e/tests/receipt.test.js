// The visitor's proof, end to end: a decline on a covered page gets the collector's receipt
// file, which the widget shows (when recorded, its number), hands out (Assent.receipt(),
// assent:receipt, a download), and which `assent-collector verify --receipt-file` finds
// genuine, and a tampered copy not; after a key rotation and a restart it still verifies
// through the published JWK set.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { ensureCollectorBinary } from '../harness/collector.js';
import { MANDATORY, OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const run = promisify(execFile);
const world = setupSuite();

/** `verify --receipt-file FILE --jwks JWKS`: its JSON report, whatever the exit code. */
async function cliVerify(file, jwks) {
  try {
    const { stdout } = await run(ensureCollectorBinary(), ['verify', '--receipt-file', file, '--jwks', jwks]);
    return JSON.parse(stdout);
  } catch (error) {
    return JSON.parse(error.stdout);
  }
}

async function saveJwks(uri, path) {
  const response = await fetch(uri);
  assert.equal(response.status, 200);
  const text = await response.text();
  writeFileSync(path, text);
  return JSON.parse(text);
}

world.scenario('decline: the receipt is shown, downloaded and genuine, a tampered copy is not, and it still verifies after a key rotation', async (s) => {
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-receipt-'));
  s.cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  await page.evaluate(() => document.addEventListener('assent:receipt', () => {
    window.__receiptInListener = window.Assent.receipt();
  }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('decline-all').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });

  const [told] = await eventually('assent:receipt', async () => {
    const { receipts } = await w.seen();
    return receipts.length === 1 && receipts;
  });
  assert.deepEqual((await w.seen()).order, ['assent:change', 'assent:receipt'], 'the change, then its receipt');
  assert.deepEqual(await page.evaluate(() => window.Assent.receipt()), told, 'Assent.receipt() gives the same file');
  assert.deepEqual(await page.evaluate(() => window.__receiptInListener), told, 'already inside the assent:receipt listener');

  // The preferences show it: when it was recorded and its number.
  await page.evaluate(() => window.Assent.open());
  const receipt = w.dialog.locator('section.receipt');
  await receipt.waitFor({ state: 'visible' });
  assert.equal((await receipt.locator('.receipt-id').textContent()).trim(), record.record_id);
  const time = receipt.locator('time');
  assert.equal(await time.getAttribute('datetime'), told.recorded_at);
  assert.match(await time.textContent(), /\b20\d\d\b/, 'a date written out for people');

  // The download is the same file.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    receipt.locator('[data-action=download-receipt]').click(),
  ]);
  assert.equal(download.suggestedFilename(), `consent-receipt-${record.record_id}.json`);
  const genuine = join(dir, 'receipt.json');
  await download.saveAs(genuine);
  const file = JSON.parse(readFileSync(genuine, 'utf8'));
  assert.deepEqual(file, told, 'the downloaded file is the one the page was told of');

  // What the file says (Kantara / ISO 27560 names) and holds: the record as stored.
  assert.equal(file.version, 'assent-receipt-file/1');
  assert.equal(file.receipt_id, record.record_id);
  assert.equal(file.controller.name, 'Qualys, Inc.');
  assert.deepEqual(file.notice, record.notice);
  assert.equal(file.collection_method, 'web widget');
  assert.equal(file.consent_timestamp, record.client_time);
  assert.equal(file.site, SITE);
  assert.deepEqual(
    file.purposes.map((p) => [p.purpose, p.lawful_basis, p.state ?? null]),
    [...OPTIONAL.map((p) => [p, 'consent', 'denied']), ...MANDATORY.map((p) => [p, 'contract', null])],
  );
  assert.deepEqual(file.record, record, 'the record exactly as the collector stored it');
  assert.equal(file.keys.jwks_uri, `${s.collector.origin}/.well-known/jwks.json`);
  assert.ok(!/subject_token|email/.test(JSON.stringify(file)), 'nothing that identifies the visitor');

  // Genuine by the published keys; a flipped state is caught.
  const jwksBefore = join(dir, 'jwks-before.json');
  await saveJwks(file.keys.jwks_uri, jwksBefore);
  const report = await cliVerify(genuine, jwksBefore);
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.claims.record_id, record.record_id);
  const tampered = structuredClone(file);
  tampered.record.purposes[0].state = 'granted';
  tampered.purposes[0].state = 'granted';
  const tamperedPath = join(dir, 'tampered.json');
  writeFileSync(tamperedPath, JSON.stringify(tampered));
  const refused = await cliVerify(tamperedPath, jwksBefore);
  assert.equal(refused.ok, false);
  assert.match(refused.reason, /purposes differs/);

  // A new key, a restart: the old file verifies through the new JWK set, a new choice's
  // receipt carries the new key.
  await run(ensureCollectorBinary(), ['keygen', '--rotate', '--receipt-key', s.collector.receiptKey]);
  const restarted = await s.collector.restart();
  s.cleanup.push(() => restarted.stop());
  const jwksAfter = join(dir, 'jwks-after.json');
  const keys = await saveJwks(file.keys.jwks_uri, jwksAfter);
  assert.equal(keys.keys.length, 2, 'every key is published');
  assert.equal((await cliVerify(genuine, jwksAfter)).ok, true, 'the old receipt still verifies');
  await w.toggle('updates').click();
  await w.dialogButton('save').click();
  const second = await eventually('the second receipt', async () => {
    const { receipts } = await w.seen();
    return receipts.length === 2 && receipts[1];
  });
  const kid = (jws) => JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString()).kid;
  assert.equal(kid(second.receipt.jws), keys.keys[0].kid, 'signed with the new key');
  assert.notEqual(kid(second.receipt.jws), kid(file.receipt.jws));
  assert.equal((await page.evaluate(() => window.Assent.receipt())).receipt_id, second.receipt_id, 'the current choice\u2019s receipt');
  const secondPath = join(dir, 'second.json');
  writeFileSync(secondPath, JSON.stringify(second));
  assert.equal((await cliVerify(secondPath, jwksAfter)).ok, true);
});

world.scenario('a returning visitor: Assent.receipt() gives the kept file without the wasm', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const first = await s.open(url);
  const w1 = s.ui(first);
  await w1.bannerButton('accept-all').click();
  await eventually('the receipt', async () => (await w1.seen()).receipts.length === 1);
  const told = (await w1.seen()).receipts[0];
  await eventually('an empty outbox', async () => ['[]', null].includes(await w1.storage(SITE, 'outbox')));
  await first.close();

  const served = s.widget.wasmRequests();
  const page = await s.open(url);
  await page.waitForLoadState('networkidle');
  assert.equal(s.widget.wasmRequests(), served, 'no wasm download');
  assert.equal(await s.ui(page).host.count(), 0, 'nothing mounted');
  assert.deepEqual(await page.evaluate(() => window.Assent.receipt()), told, 'the loader reads the kept file');
});
