// What a stored record must look like.
import assert from 'node:assert/strict';

import { MANDATORY, OPTIONAL, UUID } from './world.js';

/** The embedded notice's id and version (its hash is the build's: `s.widget.embeddedNoticeHash`). */
export const EMBEDDED = { id: 'qualys-privacy-highlights', version: '2011-12-31' };

/**
 * Checks every field of `record`. `granted` lists the optional purposes that must be
 * granted (the rest denied); `notice` is {id, version, hash}.
 */
export function assertRecord(record, { site, notice, granted = [], gpc = false, language = 'en' }) {
  assert.match(record.record_id, UUID, 'record_id is a UUID');
  assert.equal(record.site, site, 'site');
  assert.equal(record.notice.id, notice.id, 'notice.id');
  assert.equal(record.notice.version, notice.version, 'notice.version');
  assert.match(record.notice.hash, /^sha256:[0-9a-f]{64}$/, 'notice.hash');
  if (notice.hash) assert.equal(record.notice.hash, notice.hash, 'notice.hash');
  assert.equal(record.language, language, 'language');
  assert.equal(record.gpc, gpc, 'gpc');
  assert.equal(typeof record.widget_version, 'string', 'widget_version');
  assert.match(record.widget_version, /^\d+\.\d+\.\d+/, 'widget_version');
  assert.ok(!Number.isNaN(Date.parse(record.client_time)), `client_time ${record.client_time}`);
  const purposes = Object.fromEntries(record.purposes.map((p) => [p.purpose, p]));
  assert.equal(record.purposes.length, 9, 'nine purposes');
  for (const id of OPTIONAL) {
    assert.ok(purposes[id], `purpose ${id} present`);
    assert.equal(purposes[id].basis, 'consent', `${id} basis`);
    assert.equal(purposes[id].state, granted.includes(id) ? 'granted' : 'denied', `${id} state`);
  }
  for (const id of MANDATORY) {
    assert.ok(purposes[id], `purpose ${id} present`);
    assert.equal(purposes[id].basis, 'contract', `${id} basis`);
  }
}

/** The optional purposes a record grants. */
export function grantedIn(record) {
  return record.purposes.filter((p) => p.state === 'granted').map((p) => p.purpose).sort();
}
