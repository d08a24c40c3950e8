// Never lose a choice: an unreachable endpoint, server errors, rate limiting, a rejected
// record, a tab closed right after the click, and two tabs going online together.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

import { startGate } from '../harness/servers.js';
import { SITE, eventually, setupSuite } from '../harness/world.js';

const world = setupSuite();
const OPEN_LINK = '<footer><a href="#privacy" id="privacy-choices" data-assent-open>Privacy choices</a></footer>';

/** The ids in `records`, each with how often it is there. */
function multiplicity(records) {
  const counts = {};
  for (const r of records) counts[r.record_id] = (counts[r.record_id] || 0) + 1;
  return counts;
}

/** Intercepts POSTs to the collector: `answer(n, route)` decides the n-th (from 1). */
async function interceptPosts(s, answer) {
  const attempts = [];
  await s.context.route(`${s.collector.endpoint}*`, async (route) => {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    attempts.push(Date.now());
    return answer(attempts.length, route);
  });
  return attempts;
}

/** Waits out the courier's first two retries (backoff: at most 0.5 s, then 1 s): a record
 *  it still meant to send would have been tried again by then. */
function outlastTheFirstRetries() {
  return new Promise((resolve) => { setTimeout(resolve, 2_000); });
}

/**
 * The page's one POST was answered for good: its outbox empties, the page tries no more
 * (and `beforeReload` holds of it), and with the collector answering
 * now, the next page finds nothing to send (no wasm fetched) and sends nothing.
 */
async function outboxSettledAfterOneTry(s, page, w, attempts, beforeReload = async () => {}) {
  await eventually('an empty outbox', async () => ['[]', null].includes(await w.storage(SITE, 'outbox')));
  await outlastTheFirstRetries();
  assert.equal(attempts.length, 1, 'one attempt, not retried by this page');
  await beforeReload();
  // Let the collector answer now: a record the widget still kept would be sent on load.
  await s.context.unrouteAll({ behavior: 'ignoreErrors' });
  const served = s.widget.wasmRequests();
  await page.reload({ waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  // The loader decides before the load event: a page with something to send fetches the wasm.
  assert.equal(s.widget.wasmRequests(), served, 'nothing left to send: the next page fetched no wasm');
  assert.equal(s.posts.length, 1, `no further tries (POSTs: ${s.posts.length})`);
}

/** CORS headers a real endpoint would send to the page's origin. */
function cors(origin, extra = {}) {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'Retry-After',
    'content-type': 'application/json',
    ...extra,
  };
}

/** A first visit whose POSTs `answer` handles: the visitor clicks `action` in the banner.
 *  Returns the page, its widget locators, the record id and the attempt times. */
async function chooseWhileAnswering(s, answer, action = 'accept-all') {
  const attempts = await interceptPosts(s, answer);
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton(action).click();
  const id = await eventually('the choice', async () => (await w.preferences())?.record_id);
  return { page, w, id, attempts };
}

world.scenario('endpoint unreachable across 5 reloads and 3 changes, then reachable: all 3 stored, none lost', async (s) => {
  // The endpoint is reached through a gate that cuts every connection while it is down.
  const gate = await startGate(s.collector.origin);
  s.cleanup.push(() => gate.stop());
  gate.down();
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: `${gate.origin}/v1/records`, bodyHtml: OPEN_LINK }));
  const w = s.ui(page);
  const ids = [];
  const reload = async () => {
    await page.reload({ waitUntil: 'load' });
  };
  const change = async (purpose) => {
    await page.locator('#privacy-choices').click();
    await w.dialog.waitFor({ state: 'visible' });
    await w.toggle(purpose).click();
    await w.dialogButton('save').click();
    const id = await eventually('the new choice', async () => {
      const p = await w.preferences();
      return p && !ids.includes(p.record_id) ? p.record_id : null;
    });
    ids.push(id);
  };

  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('decline-all').click();
  ids.push(await eventually('the first choice', async () => (await w.preferences())?.record_id));
  await reload(); // 1
  await change('new_products');
  await reload(); // 2
  await reload(); // 3
  await change('updates');
  await reload(); // 4
  await reload(); // 5
  assert.equal(ids.length, 3);
  assert.equal(new Set(ids).size, 3);
  // The harness's own check, not the widget's: the gate held.
  assert.equal((await s.collector.records()).length, 0, 'the gate let nothing through to the collector');
  const outbox = JSON.parse(await w.storage(SITE, 'outbox') || '[]');
  assert.deepEqual(outbox.map((r) => r.record_id).sort(), [...ids].sort(), 'all three wait in the outbox');

  gate.up();
  await reload();
  await s.collector.waitForRecords({ count: 3, timeout: 15_000 });
  await eventually('an empty outbox', async () => ['[]', null].includes(await w.storage(SITE, 'outbox')));
  // Sent, so nothing more is on its way: exactly the three choices are stored (a record
  // id is stored once whatever resends it, so only a lost or an extra choice shows here).
  const stored = multiplicity(await s.collector.records());
  assert.deepEqual(Object.keys(stored).sort(), [...ids].sort(), 'exactly the three choices are stored');
});

world.scenario('HTTP 500 three times, then 200: retried with backoff and stored once, without a reload', async (s) => {
  const { w, id, attempts } = await chooseWhileAnswering(s, (n, route) => (n <= 3
    ? route.fulfill({ status: 500, headers: cors(s.localhost.origin), body: '{"error":"internal","message":"test"}' })
    : route.continue()));
  const records = await s.settledRecords({ count: 1, timeout: 25_000 });
  assert.equal(records.length, 1);
  assert.equal(records[0].record_id, id);
  assert.ok(attempts.length >= 4, `four attempts (${attempts.length})`);
  // Exponential backoff: the three waits are not a tight loop and they grow.
  const gaps = attempts.slice(1, 4).map((t, i) => t - attempts[i]);
  assert.ok(gaps.every((g) => g >= 200), `each retry waits (gaps ${gaps.join(', ')} ms)`);
  assert.ok(attempts[3] - attempts[0] >= 1000, `backoff grows (gaps ${gaps.join(', ')} ms)`);
  await eventually('an empty outbox', async () => ['[]', null].includes(await w.storage(SITE, 'outbox')));
}, { timeout: 60_000 });

// Followed, a 301, 302 or 303 turns the POST into a GET, and the GET's 200 would pass for
// the endpoint's answer to the record: dropped from the outbox, stored nowhere.
world.scenario('an endpoint that redirects (301 to a page that answers 200): the record is kept, and sent from a page with an endpoint that stores it', async (s) => {
  let posts = 0;
  const moved = createServer((request, response) => {
    const headers = { 'access-control-allow-origin': s.localhost.origin, 'content-type': 'application/json' };
    request.resume();
    if (request.method === 'POST') {
      posts += 1;
      response.writeHead(301, { ...headers, location: '/moved' }).end();
    } else {
      response.writeHead(200, headers).end('{}');
    }
  });
  await new Promise((resolve) => { moved.listen(0, '127.0.0.1', resolve); });
  s.cleanup.push(() => new Promise((resolve) => { moved.close(resolve); }));
  const endpoint = `http://127.0.0.1:${moved.address().port}/v1/records`;

  const page = await s.open(s.localhost.page({ site: SITE, endpoint }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.bannerButton('accept-all').click();
  const id = await eventually('the choice', async () => (await w.preferences())?.record_id);
  await eventually('a second try', async () => posts >= 2);
  assert.ok((await w.storage(SITE, 'outbox'))?.includes(id), 'the record still waits after the redirects');
  await page.close();

  await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }));
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assert.equal(record.record_id, id);
});

world.scenario('HTTP 429 with Retry-After: 1 is honoured, then stored once', async (s) => {
  const { id, attempts } = await chooseWhileAnswering(s, (n, route) => (n === 1
    ? route.fulfill({
      status: 429,
      headers: cors(s.localhost.origin, { 'retry-after': '1' }),
      body: '{"error":"rate_limited","message":"slow down"}',
    })
    : route.continue()), 'decline-all');
  const records = await s.settledRecords({ count: 1, timeout: 15_000 });
  assert.equal(records.length, 1);
  assert.equal(records[0].record_id, id);
  assert.ok(attempts.length >= 2);
  assert.ok(attempts[1] - attempts[0] >= 950, `the retry waited for Retry-After (waited ${attempts[1] - attempts[0]} ms)`);
});

world.scenario('HTTP 400: the record is dropped, assent:error tells the host, no further tries', async (s) => {
  const { page, w, id, attempts } = await chooseWhileAnswering(s, (n, route) => route.fulfill({
    status: 400,
    headers: cors(s.localhost.origin),
    body: '{"error":"invalid_record","message":"rejected by the test"}',
  }));
  const errors = await eventually('an assent:error event', async () => {
    const seen = await w.seen();
    return seen.errors.length > 0 ? seen.errors : null;
  });
  assert.equal(errors.length, 1, 'one assent:error');
  assert.equal(errors[0].record_id, id, 'assent:error names the record');
  assert.equal(errors[0].status, 400, 'assent:error carries the HTTP status');
  assert.equal(typeof errors[0].message, 'string', 'assent:error says why');
  await outboxSettledAfterOneTry(s, page, w, attempts);
  assert.equal((await s.collector.records()).length, 0, 'the dropped record is not stored');
  assert.equal((await w.preferences())?.record_id, id, 'the choice itself is still kept');
});

world.scenario('HTTP 409 (the server already has it): the record leaves the outbox, no error, no retry', async (s) => {
  const { page, w, attempts } = await chooseWhileAnswering(s, (n, route) => route.fulfill({
    status: 409,
    headers: cors(s.localhost.origin),
    body: '{"error":"conflict","message":"already stored"}',
  }));
  await outboxSettledAfterOneTry(s, page, w, attempts, async () => {
    assert.deepEqual((await w.seen()).errors, [], 'no assent:error');
  });
  assert.equal((await s.collector.records()).length, 0, 'nothing sent to the collector after the 409');
});

/** POSTs `record` to the collector itself, not from a page (no Origin); with `email`, as
 *  the company's server does (the admin key), under that person. */
async function postDirectly(s, record, { email } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (email) headers.authorization = `Bearer ${s.collector.adminKey}`;
  const response = await fetch(s.collector.endpoint, {
    method: 'POST', headers, body: JSON.stringify(email ? { ...record, email } : record),
  });
  assert.equal(response.status, 201, await response.text());
}

world.scenario("HTTP 409 for another body stored first under the record's id: no receipt kept, assent:error tells the host", async (s) => {
  // Whoever read the id (the shared cookie holds it) posts a record of their own under it
  // before the visitor's arrives.
  const { page, w, id, attempts } = await chooseWhileAnswering(s, async (n, route) => {
    const sent = JSON.parse(route.request().postData());
    if (n === 1) await postDirectly(s, { ...sent, gpc: !sent.gpc });
    return route.continue();
  }, 'decline-all');
  const errors = await eventually('an assent:error event', async () => {
    const seen = await w.seen();
    return seen.errors.length > 0 ? seen.errors : null;
  });
  assert.equal(errors.length, 1, 'one assent:error');
  assert.equal(errors[0].record_id, id);
  assert.equal(errors[0].status, 409);
  assert.deepEqual((await w.seen()).receipts, [], 'no assent:receipt');
  assert.equal(await page.evaluate(() => window.Assent.receipt()), null, "the other body's receipt is not the visitor's");
  await outboxSettledAfterOneTry(s, page, w, attempts);
  const [stored] = await s.collector.records();
  assert.equal(stored.gpc, !(await w.preferences()).gpc, 'the collector holds the other body');
});

world.scenario('HTTP 409 for this record, stored already under a person: its receipt is kept', async (s) => {
  // The same body, under another subject (the company's server posted it with the
  // person's address): a 409, and the receipt file the collector keeps is this record's.
  const { page, w, id } = await chooseWhileAnswering(s, async (n, route) => {
    if (n === 1) await postDirectly(s, JSON.parse(route.request().postData()), { email: 'ada@example.com' });
    return route.continue();
  }, 'decline-all');
  const [told] = await eventually('assent:receipt', async () => {
    const { receipts } = await w.seen();
    return receipts.length === 1 && receipts;
  });
  assert.equal(told.receipt_id, id);
  assert.deepEqual(await page.evaluate(() => window.Assent.receipt()), told);
  assert.deepEqual((await w.seen()).errors, [], 'no assent:error');
});

/** The visitor chooses on the running widget's banner and closes the tab 50 ms later; the
 *  next page must find the choice and the record stored, once. With `holdPosts`, the
 *  closing tab's own POST never gets an answer (the keepalive ones sent as it unloads are
 *  the browser's, not the page's, and are not held). (A click on the loader's painted
 *  banner before the wasm has come is painted-banner.test.js's.) */
async function tabClosedSoonAfterTheClick(s, { holdPosts }) {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const page = await s.open(url);
  const held = [];
  if (holdPosts) {
    await page.route(`${s.collector.endpoint}*`, (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      held.push(route);
      return undefined;
    });
  }
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  await w.runWithOwnBanner();
  await w.bannerButton('accept-all').click();
  if (holdPosts) await eventually('its POST held', () => held.length > 0);
  else await new Promise((r) => setTimeout(r, 50));
  await page.close({ runBeforeUnload: true });
  await eventually('the tab to close', () => page.isClosed());
  for (const route of held) await route.abort().catch(() => {});

  // The click was kept (by the wasm, or by the loader when the wasm had not arrived: then
  // the next page's wasm records it once it has started, after the load).
  const next = await s.open(url);
  const choice = await eventually('the choice kept', () => s.ui(next).preferences());
  // Its outbox empties only once the collector holds the record (sent by the closing tab's
  // keepalive, or by this page's wasm, which the loader fetches for it).
  await eventually('the next page\'s outbox empty', async () => ['[]', null].includes(await s.ui(next).storage(SITE, 'outbox')));
  const records = await s.settledRecords({ count: 1 });
  assert.equal(records.length, 1, 'exactly one record');
  assert.equal(records[0].record_id, choice.record_id);
}

world.scenario('tab closed 50 ms after the click: the next page has the choice, stored once',
  (s) => tabClosedSoonAfterTheClick(s, { holdPosts: false }));

world.scenario('tab closed 50 ms after the click while its POST hangs: the next page has the choice, stored once',
  (s) => tabClosedSoonAfterTheClick(s, { holdPosts: true }));

/** Init script: times every POST the page makes as the page sees it, from the `fetch` call
 *  to its promise settling (the widget releases its outbox lock only after that), on the
 *  wall clock every tab shares. The browser's network events cannot order two tabs: a
 *  failed request has no browser timing, and the event reaches the test late. Bodies are
 *  noted as the page builds its `Request`, not read back: a clone would make the upload a
 *  stream, a different request. */
function timePagePosts() {
  const sends = [];
  const bodies = new WeakMap();
  Object.defineProperty(window, '__assentPosts', { value: sends });
  window.Request = new Proxy(window.Request, {
    construct(target, args, newTarget) {
      const request = Reflect.construct(target, args, newTarget);
      if (typeof args[1]?.body === 'string') bodies.set(request, args[1].body);
      return request;
    },
  });
  const fetch = window.fetch;
  window.fetch = function timedFetch(input, init) {
    const request = input instanceof Request ? input : null;
    const method = (init?.method || request?.method || 'GET').toUpperCase();
    if (method !== 'POST') return fetch.call(this, input, init);
    const body = typeof init?.body === 'string' ? init.body : bodies.get(request);
    let recordId = null;
    try { recordId = JSON.parse(body).record_id ?? null; } catch { /* not JSON */ }
    const entry = { at: Date.now(), endAt: null, recordId, url: request ? request.url : String(input) };
    sends.push(entry);
    const pending = fetch.call(this, input, init);
    const settled = () => { entry.endAt = Date.now(); };
    pending.then(settled, settled);
    return pending;
  };
}

/** Record ids two sends had in flight at the same time (one tab's `fetch` called before the
 *  other's had settled). */
function overlapping(sends) {
  const byId = {};
  for (const send of sends) (byId[send.recordId] ||= []).push(send);
  const ids = [];
  for (const [id, list] of Object.entries(byId)) {
    list.sort((x, y) => x.at - y.at);
    for (let i = 1; i < list.length; i++) if (list[i].at < (list[i - 1].endAt ?? Infinity)) ids.push(id);
  }
  return ids;
}

world.scenario('two tabs with queued records go online together: both stored, neither in flight twice at once', async (s) => {
  const url = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint });
  const a = await s.open(url);
  const b = await s.open(url);
  const wa = s.ui(a);
  const wb = s.ui(b);
  await wa.banner.waitFor({ state: 'visible' });
  await wb.banner.waitFor({ state: 'visible' });
  // Both tabs run the widget before the network goes.
  for (const w of [wa, wb]) await w.runWithOwnBanner();

  await s.context.setOffline(true);
  await wa.bannerButton('accept-all').click();
  const idA = await eventually('tab A choice', async () => (await wa.preferences())?.record_id);
  await wb.bannerButton('open').click();
  await wb.dialog.waitFor({ state: 'visible' });
  await wb.toggle('upgrades').click();
  await wb.dialogButton('save').click();
  const idB = await eventually('tab B choice', async () => {
    const id = (await wb.preferences())?.record_id;
    return id && id !== idA ? id : null;
  });
  // Read through each tab: another renderer sees a tab's localStorage write a little later.
  for (const w of [wa, wb]) {
    await eventually('both records waiting in the shared outbox', async () => {
      const queued = JSON.parse(await w.storage(SITE, 'outbox') || '[]').map((r) => r.record_id).sort();
      return JSON.stringify(queued) === JSON.stringify([idA, idB].sort());
    });
  }
  assert.equal((await s.collector.records()).length, 0);

  await s.context.setOffline(false);
  await s.collector.waitForRecords({ count: 2 });
  // Both tabs done sending: each outbox empty, the outbox's lock neither held nor asked for
  // (the tab whose round comes second puts back and sends again what its own save added,
  // after both records are stored), and every POST the browser made settled in its page.
  const sends = await eventually('both tabs done sending', async () => {
    for (const w of [wa, wb]) if (!['[]', null].includes(await w.storage(SITE, 'outbox'))) return null;
    const locks = await a.evaluate(() => navigator.locks.query());
    if ([...locks.held, ...locks.pending].some((lock) => lock.name === `assent:${SITE}:outbox`)) return null;
    const all = [];
    for (const [tab, page] of [['A', a], ['B', b]]) {
      const own = await page.evaluate(() => window.__assentPosts);
      all.push(...own.filter((p) => p.url.startsWith(s.collector.endpoint)).map((p) => ({ ...p, tab })));
    }
    const settled = all.every((p) => p.endAt !== null) && s.posts.every((p) => p.done);
    return settled && all.length === s.posts.length ? all : null;
  });
  const stored = multiplicity(await s.collector.records());
  assert.deepEqual(Object.keys(stored).sort(), [idA, idB].sort(), 'both records stored, no other');
  // Web Locks: the two tabs never have one record in flight at the same time. (A tab may
  // still re-send a record the other has just delivered; the collector answers 200.)
  assert.equal(sends.length, s.posts.length, 'the page saw every POST the browser made');
  const told = sends.map((p) => `tab ${p.tab} ${p.recordId} ${p.at}..${p.endAt}`).join('; ');
  assert.deepEqual(overlapping(sends), [], `no record in flight twice at once (${told})`);
  const delivered = s.deliveredCounts();
  assert.deepEqual(Object.keys(delivered).sort(), [idA, idB].sort(), `both delivered (${JSON.stringify(delivered)})`);
}, { initScripts: [timePagePosts] });

world.scenario("the collector's own 429 tells a page on an allowed origin when to retry (Retry-After readable)", async (s) => {
  const page = await s.open(s.localhost.page({ site: SITE, endpoint: null, title: 'No widget endpoint' }));
  const answers = await page.evaluate(async (endpoint) => {
    const out = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(endpoint, {
        method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' }, body: '{}',
      });
      out.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
    }
    return out;
  }, s.collector.endpoint);
  assert.notEqual(answers[0].status, 429, `the first POST is not limited (${JSON.stringify(answers)})`);
  assert.equal(answers[1].status, 429, `the second POST within the minute is limited (${JSON.stringify(answers)})`);
  assert.match(String(answers[1].retryAfter), /^\d+$/, `Retry-After is readable from the page (${JSON.stringify(answers)})`);
  assert.equal((await s.collector.records()).length, 0);
}, { collectorOptions: () => ({ ratePerIp: 1 }) });

world.scenario('a record left waiting under another notice (the visitor now reads German): the next page sends it at once, without a click, and asks again', async (s) => {
  const english = s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: 'en' });
  const page = await s.open(english);
  const w = s.ui(page);
  // The widget running, then the network gone: the accept waits in the outbox.
  await w.runWithOwnBanner();
  await s.context.setOffline(true);
  await w.bannerButton('accept-all').click();
  const id = await eventually('the choice', async () => (await w.preferences())?.record_id);
  assert.equal(JSON.parse(await w.storage(SITE, 'outbox')).length, 1, 'the record waits');
  await page.close();

  await s.context.setOffline(false);
  const german = await s.open(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: 'de' }));
  const g = s.ui(german);
  const [record] = await s.collector.waitForRecords({ count: 1 });
  assert.equal(record.record_id, id, 'the waiting record, sent without a click');
  await g.banner.waitFor({ state: 'visible' });
  // Through the banner shown: while the wasm's first render takes over from the painted
  // banner, the shadow root holds two .assent roots for a task or two.
  assert.equal(await g.banner.evaluate((banner) => banner.closest('.assent').lang), 'de', 'and the German notice asks again');
  assert.equal(await g.preferences(), null, 'no choice under the German notice yet');
});
