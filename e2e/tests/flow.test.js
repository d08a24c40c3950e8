// The visitor's path: first visit, reload, reopen and change, a changed notice; and Global
// Privacy Control. Every step is checked against what the collector's database holds.
import assert from 'node:assert/strict';

import { defaultNotice } from '../harness/paths.js';
import { assertRecord, grantedIn } from '../harness/records.js';
import { OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const world = setupSuite();
const OPEN_LINK = '<footer><a href="#privacy" id="privacy-choices" data-assent-open>Privacy choices</a></footer>';

world.scenario('first visit, choose, reload, reopen and change, notice changed: one record per choice', async (s) => {
  const notice = { id: 'qualys-privacy-highlights', version: '2011-12-31', hash: s.widget.embeddedNoticeHash };
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, bodyHtml: OPEN_LINK });
  const page = await s.open(url);
  const w = s.ui(page);

  // First visit: the banner; accept everything.
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('accept-all').click();
  await w.banner.waitFor({ state: 'hidden' });
  let records = await s.settledRecords({ count: 1 });
  assert.equal(records.length, 1, 'exactly one record after the first choice');
  assertRecord(records[0], { site: SITE, notice, granted: OPTIONAL });
  const first = records[0];
  assert.equal((await w.preferences()).record_id, first.record_id, 'Assent.preferences() is the stored record');
  const seen = await w.seen();
  assert.equal(seen.changes.length, 1, 'one assent:change event');
  assert.equal(seen.changes[0].record_id, first.record_id);

  // Reload: no banner, same stored choice, no new record.
  await page.reload({ waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  assert.equal(await w.banners.count(), 0, 'no banner after a reload');
  assert.equal((await w.preferences())?.record_id, first.record_id, 'the choice survives the reload');

  // Reopen from the host's data-assent-open element; turn one purpose off; save.
  await page.locator('#privacy-choices').click();
  await w.dialog.waitFor({ state: 'visible' });
  for (const id of OPTIONAL) assert.equal(await w.toggle(id).isChecked(), true, `${id} shows the stored grant`);
  await w.toggle('announcements').click();
  assert.equal(await w.toggle('announcements').isChecked(), false);
  await w.dialogButton('save').click();
  records = await s.settledRecords({ count: 2 });
  assert.equal(records.length, 2, 'a second record after the change');
  assert.notEqual(records[1].record_id, first.record_id, 'a new record id');
  assertRecord(records[1], { site: SITE, notice, granted: OPTIONAL.filter((id) => id !== 'announcements') });
  assert.deepEqual(records[0], first, 'the first record is unchanged');

  // The notice changes (a new version served by the host): the visitor is asked again.
  const changed = defaultNotice();
  changed.version = '2026-11-30';
  changed.sections[0].heading = 'Overview (revised)';
  const noticeUrl = s.localhost.file('/notices/changed.json', JSON.stringify(changed));
  const changedPage = await s.open(s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint, extraAttributes: { 'data-notice': noticeUrl }, bodyHtml: OPEN_LINK,
  }));
  const w2 = s.ui(changedPage);
  await w2.banner.waitFor({ state: 'visible' });
  await w2.bannerButton('decline-all').click();
  records = await s.settledRecords({ count: 3 });
  assert.equal(records.length, 3);
  assertRecord(records[2], { site: SITE, notice: { id: notice.id, version: '2026-11-30' }, granted: [] });
  assert.notEqual(records[2].notice.hash, notice.hash, 'the changed notice has another hash');
});

world.scenario('Global Privacy Control: gpc recorded, optional notices off (as on every first visit), visitor can still opt in', async (s) => {
  const notice = { id: 'qualys-privacy-highlights', version: '2011-12-31', hash: s.widget.embeddedNoticeHash };
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  const w = s.ui(page);
  assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true, 'GPC is on in the page');
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  for (const id of OPTIONAL) assert.equal(await w.toggle(id).isChecked(), false, `${id} is off, as on every first visit`);
  await w.toggle('new_products').click();
  assert.equal(await w.toggle('new_products').isChecked(), true, 'the visitor can still turn one on');
  await w.dialogButton('save').click();
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assertRecord(record, { site: SITE, notice, granted: ['new_products'], gpc: true });
  assert.deepEqual(grantedIn(record).filter((id) => OPTIONAL.includes(id)), ['new_products']);
  await eventually('the choice stored locally', async () => (await w.preferences())?.record_id === record.record_id);
}, {
  initScripts: [() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true })],
});
