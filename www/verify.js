// The receipt checker: reads a receipt file (assent-receipt-file/1) in the browser, fetches
// the collector's public keys (JWK set) once, checks the Ed25519 signature with WebCrypto
// and that what is signed is what the file says. Nothing but the JWK set request leaves
// the page. Every word goes in with textContent; nothing is parsed as HTML.
'use strict';

(() => {
  const VERSION = 'assent-receipt-file/1';
  const MAX_FILE = 64 * 1024;
  const FIELDS = ['version', 'receipt_id', 'controller', 'notice', 'collection_method', 'consent_timestamp',
    'recorded_at', 'site', 'purposes', 'record', 'receipt', 'keys'];
  // The values the record schema allows (assent_record::purpose): anything else is not a
  // purpose, whatever it spells.
  const PURPOSES = ['new_products', 'announcements', 'upgrades', 'updates', 'security', 'initial_use',
    'expiration', 'product_enhancement', 'migration'];
  const BASES = ['consent', 'contract'];
  const STATES = ['granted', 'denied', undefined];
  // A record's fields (assent_record::ConsentRecord), in its canonical order.
  const RECORD_FIELDS = ['record_id', 'site', 'notice', 'language', 'purposes', 'gpc', 'widget_version',
    'client_time', 'source'];
  // A record's source and the collection method its file names (CollectionMethod).
  const METHODS = { widget: 'web widget', unsubscribe: 'one-click unsubscribe' };

  const $ = (id) => document.getElementById(id);
  const form = $('check-form');
  const fileInput = $('receipt-file');
  const dropZone = $('drop-zone');
  const jwksInput = $('jwks-url');
  const verdict = $('verdict');
  const details = $('details');
  const facts = $('facts');
  const purposesBody = $('purposes');

  /** A check that failed, with the reason to show. */
  class NotGenuine extends Error {}
  const fail = (reason) => { throw new NotGenuine(reason); };
  // What stops the check itself (no key set to be had, a browser without Ed25519): the
  // page then says nothing of the receipt, rather than that it is not genuine.
  class Unchecked extends Error {}
  const unchecked = (reason) => { throw new Unchecked(reason); };

  let current = null; // the chosen file's text
  let generation = 0; // a newer check makes an older one's result moot

  fileInput.addEventListener('change', () => {
    if (fileInput.files.length > 0) load(fileInput.files[0]);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (current === null) {
      show('unchecked', 'Choose a receipt file first.');
      fileInput.focus();
      return;
    }
    check(current);
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('over');
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) load(file);
  });

  async function load(file) {
    // A file that can't be checked makes an earlier file's check still under way moot too.
    if (file.size > MAX_FILE) {
      current = null;
      generation++;
      show('not-genuine', `Not a receipt file: it is larger than ${MAX_FILE / 1024} KiB.`);
      return;
    }
    try {
      current = await file.text();
    } catch (error) {
      current = null;
      generation++;
      show('unchecked', `The file could not be read: ${error.message}`);
      return;
    }
    check(current);
  }

  async function check(text) {
    const mine = ++generation;
    busy();
    let outcome;
    try {
      outcome = { state: 'genuine', file: await verify(text) };
    } catch (error) {
      outcome = error instanceof NotGenuine
        ? { state: 'not-genuine', reason: error.message }
        : { state: 'unchecked', reason: error instanceof Unchecked ? error.message : `The receipt could not be checked: ${error.message}` };
    }
    if (mine !== generation) return;
    if (outcome.state === 'genuine') {
      const { file, keysUrl, controllerSigned, vouched } = outcome.file;
      // The whole address, not its host alone: another path on that host (a collector under
      // a path prefix shares it) may serve a key set that is not the collector's.
      const signed = `It is signed with a key published at ${keysUrl.href}`;
      if (vouched) {
        show('genuine', `${signed}, and the file says what was signed.`, file, keysUrl, controllerSigned);
      } else {
        // Anyone can publish a key set and name it in a file they signed themselves.
        show('signed', `${signed}, an address the file itself names, not the key set of the collector serving this page, and the file says what was signed. It is the company's receipt only if that address is their collector's: type the address you trust for them above to check against it.`, file, keysUrl, controllerSigned);
      }
    } else {
      show(outcome.state, outcome.reason);
    }
  }

  // --- checking --------------------------------------------------------------------

  async function verify(text) {
    let file;
    try {
      file = JSON.parse(text);
    } catch {
      fail('Not a receipt file: it is not JSON.');
    }
    const twice = repeatedName(text);
    if (twice !== undefined) fail(`Not a receipt file: one of its objects names "${shortened(twice)}" twice.`);
    // Its one number, the receipt's place in the log, as the CLI reads it: digits only.
    // (Said of another number, the verdict would blame the receipt number.)
    const tokens = tokensOf(text);
    const unwhole = tokens.findIndex((token) => /^-?\d/.test(token) && !/^\d+$/.test(token));
    if (unwhole >= 0) {
      const number = shortened(tokens[unwhole]);
      fail(tokens[unwhole - 1] === '"seq"'
        ? `Not a receipt file: its receipt number ${number} is not a whole number written in digits.`
        : `Not a receipt file: it has the number ${number}, where its one number is the receipt number, written in digits.`);
    }
    const record = shape(withoutNulls(file));
    const jws = parseJws(file.receipt.jws);
    if (!globalThis.crypto?.subtle) {
      unchecked('This page can check signatures only where the browser allows it: on https: or on localhost. Check the file with assent-collector verify --receipt-file.');
    }
    // An address typed is the reader's to trust; one the file names is only the file's word
    // (a wrong one typed is no verdict on the receipt).
    const typed = jwksInput.value.trim();
    // The file's own address is checked whatever is typed: the CLI refuses a file whose
    // address is not one.
    const named = jwksAddress(file.keys.jwks_uri, typed
      ? () => fail('Not a receipt file: the public keys address it names is not an https: URL (http: only for localhost, 127.0.0.1 or [::1]).')
      : fail);
    const keysUrl = typed ? jwksAddress(typed, unchecked) : named;
    const key = await findKey(keysUrl, jws.header.kid);
    const signatureOk = await crypto.subtle.verify('Ed25519', key, jws.signature, jws.signed);
    if (!signatureOk) fail('The signature does not verify: the receipt was altered or not signed by this collector.');
    const claims = jws.claims;
    compareClaims(claims, record, file);
    // As written, or, should a tool have rewritten the file, in the canonical form.
    const digests = [await sha256(JSON.stringify(record)), await sha256(canonical(record))];
    if (!digests.includes(claims.digest)) fail('The record in the file is not the one that was signed (its digest differs).');
    compareSummary(file, record);
    const url = new URL(keysUrl);
    return { file, keysUrl: url, controllerSigned: claims.controller !== undefined, vouched: typed !== '' || thisServer(url) };
  }

  /** A name or number the file wrote, to quote in a verdict: its first 40 characters (code
   *  points, so no pair is split), with its invisible ones (controls, bidi overrides, line
   *  and paragraph separators) shown as escapes, so that it can neither fill the verdict
   *  nor reorder or break its line. */
  function shortened(text) {
    const chars = Array.from(text);
    const cut = chars.length > 40 ? `${chars.slice(0, 40).join('')}…` : text;
    return cut.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  }

  /** The strings, numbers and punctuation of `text` (JSON that parsed), in order. */
  function tokensOf(text) {
    return Array.from(text.matchAll(/"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|[{}[\],]/g), ([token]) => token);
  }

  /**
   * The first name an object of `text` (JSON that parsed) has twice, if any. JSON.parse
   * keeps the last: a file could show one value to whoever reads it and have the page check
   * another. The CLI refuses such a file too.
   */
  function repeatedName(text) {
    const objects = []; // the names seen in each object open, or null for an array
    let name = false; // whether the next string is a name
    for (const token of tokensOf(text)) {
      if (token === '{' || token === '[') {
        objects.push(token === '{' ? new Set() : null);
        name = token === '{';
      } else if (token === '}' || token === ']') {
        objects.pop();
      } else if (token === ',') {
        name = objects.at(-1) !== null;
      } else if (name) {
        const names = objects.at(-1);
        const key = JSON.parse(token);
        if (names.has(key)) return key;
        names.add(key);
        name = false;
      }
    }
    return undefined;
  }

  /**
   * The file without the nulls the collector reads as absent: its schema's optional fields (a
   * record's email and subject_token, a purpose's state, the controller's contact, and that
   * contact's telephone and fax), which a tool that writes every field may have filled so.
   * The CLI reads such a file as the one without them, and so does the page.
   */
  function withoutNulls(file) {
    const drop = (object, names) => {
      if (object === null || typeof object !== 'object') return;
      for (const name of names) if (object[name] === null) delete object[name];
    };
    drop(file?.record, ['email', 'subject_token']);
    for (const purposes of [file?.record?.purposes, file?.purposes]) {
      if (Array.isArray(purposes)) purposes.forEach((purpose) => drop(purpose, ['state']));
    }
    drop(file?.controller, ['contact']);
    drop(file?.controller?.contact, ['telephone', 'fax']);
    return file;
  }

  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  // Whether `value` has no field but `names`.
  const only = (value, names) => Object.keys(value).every((name) => names.includes(name));

  /** Checks the file's form; returns its record. */
  function shape(file) {
    const isText = (v) => typeof v === 'string' && v.length > 0 && v.length <= 8192;
    if (!isObject(file)) fail('Not a receipt file: it is not a JSON object.');
    if (file.version !== VERSION) fail(`Not a receipt file: its version is not ${VERSION}.`);
    const unknown = Object.keys(file).find((name) => !FIELDS.includes(name));
    if (unknown !== undefined) fail(`Not a receipt file: it has a field "${shortened(unknown)}" that receipt files do not have.`);
    const record = file.record;
    const valid = isObject(record) && isText(record.record_id) && isText(record.site)
      && isObject(record.notice) && Array.isArray(record.purposes) && typeof record.gpc === 'boolean'
      && isText(record.client_time) && isObject(file.receipt) && isText(file.receipt.jws)
      && isObject(file.keys) && isText(file.keys.jwks_uri) && isObject(file.notice)
      && Array.isArray(file.purposes) && isText(file.site) && isText(file.receipt_id)
      && isText(file.consent_timestamp) && isText(file.recorded_at)
      && isObject(file.controller) && isText(file.controller.name) && isText(file.collection_method)
      && record.purposes.every(isObject) && file.purposes.every(isObject);
    if (!valid) fail('Not a receipt file: a field is missing or of the wrong kind.');
    if ('email' in record || 'subject_token' in record) {
      fail('Not a receipt file: its record holds an e-mail address or a token, which a receipt file never does.');
    }
    if (!only(record, RECORD_FIELDS) || !only(record.notice, ['id', 'version', 'hash'])
      || !record.purposes.every((p) => only(p, ['purpose', 'basis', 'state']))) {
      fail('Not a receipt file: its record has a field that records do not have.');
    }
    // As strict as the collector's own reading of a file (assent_record's ReceiptFile).
    if (!only(file.receipt, ['jws', 'seq', 'chain_hash']) || !only(file.keys, ['jwks_uri'])
      || !only(file.notice, ['id', 'version', 'hash'])
      || !file.purposes.every((p) => only(p, ['purpose', 'lawful_basis', 'state']))
      || !only(file.controller, ['name', 'contact'])) {
      fail('Not a receipt file: a part of it has a field that receipt files do not have.');
    }
    if (!Number.isSafeInteger(file.receipt.seq) || file.receipt.seq < 1) {
      fail('Not a receipt file: its receipt number is not a whole number from 1.');
    }
    if (!controllerValid(file.controller)) {
      fail('Not a receipt file: its controller is not one the collector writes (a name and contact block of plain text, a telephone link of https:, mailto: or tel:).');
    }
    return record;
  }

  /**
   * Whether a controller is one the collector reads (assent_record's Controller): texts of 1
   * to 4,000 characters without a control character but the line break, a telephone link
   * whose address is https: with a host, mailto: or tel:. A signed one must also be the one
   * the receipt signs; an unsigned one (a receipt from before the controller was signed) is
   * only the file's word, but the file is refused where the CLI refuses it.
   */
  function controllerValid(controller) {
    const text = (v, max, forbidden) => typeof v === 'string' && v.length > 0 && [...v].length <= max && !forbidden.test(v);
    const prose = (v) => text(v, 4000, /[\0-\t\v-\x1f\x7f-\x9f]/);
    const href = (v) => {
      if (!text(v, 2048, /[\p{Cc}\p{White_Space}]/u) || !v.includes(':')) return false;
      const [scheme, rest] = [v.slice(0, v.indexOf(':')).toLowerCase(), v.slice(v.indexOf(':') + 1)];
      if (scheme === 'https') return rest.startsWith('//') && rest.length > 2 && rest[2] !== '/';
      return (scheme === 'mailto' || scheme === 'tel') && rest !== '';
    };
    const contact = controller.contact;
    const telephone = contact?.telephone;
    return prose(controller.name) && (contact === undefined || (isObject(contact)
      && only(contact, ['address', 'telephone', 'fax']) && prose(contact.address)
      && (contact.fax === undefined || prose(contact.fax))
      && (telephone === undefined || (isObject(telephone) && only(telephone, ['text', 'href'])
        && prose(telephone.text) && href(telephone.href)))));
  }

  /**
   * The record in its canonical form, as the collector hashed it (assent_record's: the
   * schema's field order, purposes in the schema's order, `source` left out when it is the
   * default, the time as it writes it), for a file a tool has rewritten with its keys in
   * another order or its time spelled otherwise.
   */
  function canonical(record) {
    const rank = (p) => PURPOSES.indexOf(p.purpose);
    const { id, version, hash } = record.notice;
    return JSON.stringify({
      record_id: uuid(record.record_id) ?? record.record_id,
      site: record.site,
      notice: { id, version, hash },
      language: record.language,
      purposes: [...record.purposes].sort((a, b) => rank(a) - rank(b))
        .map(({ purpose, basis, state }) => (state === undefined ? { purpose, basis } : { purpose, basis, state })),
      gpc: record.gpc,
      widget_version: record.widget_version,
      client_time: readTime(record.client_time)?.text ?? record.client_time,
      ...(record.source === undefined || record.source === 'widget' ? {} : { source: record.source }),
    });
  }

  /**
   * An RFC 3339 time read as the collector reads it (the `time` crate's RFC 3339 parser:
   * any one character between the date and the time, any number of fraction digits, those
   * past nine dropped, an offset up to 23:59, and a leap second, :60 at the last second of a
   * month in UTC, read as the nanosecond before it): `text`, the time as the collector
   * writes it (capital T, the fraction without its trailing zeros, a zero offset as Z, any
   * other kept), and `instant`, one text for the moment it names, to the nanosecond; null
   * for text that is no such time.
   */
  function readTime(text) {
    const parts = typeof text === 'string'
      && /^(\d{4})-(\d\d)-(\d\d)[\0-\x7f](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([+-])(\d\d):(\d\d))$/i.exec(text);
    if (!parts) return null;
    const [, year, month, day, hour, minute, second, digits = '', utc, sign, offsetHour, offsetMinute] = parts;
    const leap = second === '60';
    const nanos = leap ? '999999999' : digits.slice(0, 9).padEnd(9, '0');
    const date = new Date(0);
    date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
    const offset = utc ? 0 : (sign === '-' ? -1 : 1) * (Number(offsetHour) * 60 + Number(offsetMinute));
    if (date.getUTCDate() !== Number(day) || date.getUTCMonth() !== Number(month) - 1
      || Number(hour) > 23 || Number(minute) > 59 || (Number(second) > 59 && !leap)
      || (!utc && (Number(offsetHour) > 23 || Number(offsetMinute) > 59))) return null;
    const ms = date.getTime() + ((Number(hour) * 60 + Number(minute) - offset) * 60 + (leap ? 59 : Number(second))) * 1000
      + Number(nanos.slice(0, 3));
    // A leap second stands only for the last second of a month, in UTC: the moment after
    // it begins a month.
    const next = new Date(ms + 1);
    if (leap && (next.getUTCDate() !== 1 || next.getUTCHours() || next.getUTCMinutes() || next.getUTCSeconds())) return null;
    const fraction = nanos.replace(/0+$/, '');
    const zone = offset === 0 ? 'Z' : `${sign}${offsetHour}:${offsetMinute}`;
    return {
      text: `${year}-${month}-${day}T${hour}:${minute}:${leap ? '59' : second}${fraction ? `.${fraction}` : ''}${zone}`,
      instant: `${ms}.${nanos.slice(3)}`,
    };
  }

  /**
   * A UUID as the collector writes it (hyphenated, lower case), from any form it reads (the
   * `uuid` crate's: hyphenated, 32 digits, in braces, or after urn:uuid:, in either case);
   * null for text that is none.
   */
  function uuid(text) {
    const bare = /^urn:uuid:(.{36})$/i.exec(text)?.[1] ?? /^\{(.{36})\}$/.exec(text)?.[1];
    const parts = /^([\da-f]{8})-([\da-f]{4})-([\da-f]{4})-([\da-f]{4})-([\da-f]{12})$/i.exec(bare ?? text)
      ?? (bare === undefined && /^([\da-f]{8})([\da-f]{4})([\da-f]{4})([\da-f]{4})([\da-f]{12})$/i.exec(text));
    return parts ? parts.slice(1).join('-').toLowerCase() : null;
  }

  function base64url(part) {
    if (!/^[A-Za-z0-9_-]*$/.test(part)) fail('The receipt is not a JWS: it holds characters outside base64url.');
    const padded = part.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((part.length + 3) % 4);
    let binary;
    try {
      binary = atob(padded);
    } catch {
      // A length no base64 has (one character over a group of four).
      binary = null;
    }
    // Only the one spelling of its bytes (atob ignores a last character's unused bits),
    // as the CLI reads it.
    const again = binary === null ? null : btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    if (again !== part) fail('The receipt is not a JWS: a part of it is not base64url.');
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  function parseJws(jws) {
    const parts = jws.split('.');
    if (parts.length !== 3) fail('The receipt is not a JWS: it does not have three parts.');
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    let header;
    let claims;
    try {
      header = JSON.parse(utf8.decode(base64url(parts[0])));
      claims = JSON.parse(utf8.decode(base64url(parts[1])));
    } catch (error) {
      if (error instanceof NotGenuine) throw error;
      fail('The receipt is not a JWS: its header or payload is not JSON.');
    }
    if (header === null || header.alg !== 'EdDSA' || typeof header.kid !== 'string') {
      fail('The receipt is not signed with EdDSA under a named key.');
    }
    // A receipt key is named by its hash (keyId): a name of another form can't be one, and
    // is not shown, since the header is anyone's words until the signature is checked.
    if (!/^[0-9a-f]{16}$/.test(header.kid)) {
      fail('The receipt names a signing key that is not a receipt key: a receipt key\'s name is 16 hexadecimal digits.');
    }
    if (claims === null || typeof claims !== 'object') fail('The receipt\'s payload is not a claims object.');
    return {
      header,
      claims,
      signature: base64url(parts[2]),
      signed: new TextEncoder().encode(`${parts[0]}.${parts[1]}`),
    };
  }

  const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

  /**
   * The JWK set's address: https:, or http: on this machine only; `refuse` says why not.
   * Read as written, as the CLI reads it (assent_record's JwksUri), not only as the URL
   * parser makes it: that turns 127.1 and 2130706433 into 127.0.0.1, a backslash into a
   * slash, and drops spaces around it, which the CLI refuses.
   */
  function jwksAddress(text, refuse) {
    let url;
    try {
      url = new URL(text);
    } catch {
      refuse('The public keys address is not a URL.');
    }
    const written = /^(https?):\/\/([^/?#]*)/i.exec(text);
    const host = written?.[2].replace(/:\d*$/, '').toLowerCase();
    const local = url.protocol === 'http:' && LOOPBACK.includes(host);
    if ((url.protocol !== 'https:' && !local) || !host || written[2].includes('@')
      || /[\s\\]/.test(text) || url.username || url.password) {
      refuse('The public keys address must be https: (http: only for localhost, 127.0.0.1 or [::1]).');
    }
    // This machine by name: a page's Content-Security-Policy can't name an IPv6 address.
    if (url.hostname === '[::1]') url.hostname = 'localhost';
    return url.href;
  }

  /**
   * Whether `url` is the key set of the collector that serves this page, whose operator
   * vouches for the keys it publishes: at `.well-known/` beside this page (the collector's
   * public address, under a path prefix too), not any address on its host, which another
   * path may share (this machine's names for itself count as one).
   */
  function thisServer(url) {
    return ['.well-known/jwks.json', '.well-known/assent-receipt-key'].some((path) => {
      const own = new URL(path, location.href);
      const sameServer = url.origin === own.origin
        || (LOOPBACK.includes(url.hostname) && LOOPBACK.includes(own.hostname)
          && url.protocol === own.protocol && url.port === own.port);
      return sameServer && url.pathname === own.pathname && url.search === '';
    });
  }

  async function findKey(url, kid) {
    let response;
    try {
      // Not redirected: the verdict names the address the keys came from.
      response = await fetch(url, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-cache', redirect: 'error' });
    } catch (error) {
      unchecked(`The public keys could not be fetched from ${url} (${error.message}; a redirect is not followed); nothing can be said about the receipt.`);
    }
    if (!response.ok) unchecked(`The public keys could not be fetched from ${url}: HTTP ${response.status}; nothing can be said about the receipt.`);
    let set;
    try {
      set = await response.json();
    } catch {
      unchecked(`${url} did not answer with a JWK set; nothing can be said about the receipt.`);
    }
    // A receipt key is named by its hash, as the collector names it and `verify --jwks`
    // looks it up: an Ed25519 key the set names otherwise is another signer's, which signs
    // no receipt, and one the set names not at all (no kid, or null) is found by its hash.
    let jwk;
    for (const candidate of set && Array.isArray(set.keys) ? set.keys : []) {
      if (candidate?.kty === 'OKP' && candidate.crv === 'Ed25519' && typeof candidate.x === 'string'
        && (candidate.kid == null || candidate.kid === kid) && await keyId(candidate.x) === kid) {
        jwk = candidate;
        break;
      }
    }
    // Not a verdict on the receipt: a collector whose hosts are given a new key ring one
    // after another publishes it from some of them first.
    if (!jwk) unchecked(`The receipt was signed by key ${kid}, which ${url} does not publish; nothing can be said about the receipt with these keys.`);
    try {
      return await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
    } catch (error) {
      // Chrome before 137, say, has no Ed25519: that says nothing of the receipt.
      unchecked(`This browser can't use key ${kid} to check the signature (${error.message}). Check the file in another browser, or with assent-collector verify --receipt-file.`);
    }
    return undefined;
  }

  async function sha256(text) {
    return `sha256:${await sha256Hex(new TextEncoder().encode(text))}`;
  }

  async function sha256Hex(bytes) {
    return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** A receipt key's id, as the collector names it: the first 16 hex digits of the SHA-256
   *  of its 32 bytes (a JWK's `x`); null for an `x` that is not such a key. */
  async function keyId(x) {
    let bytes;
    try {
      bytes = base64url(x);
    } catch {
      return null;
    }
    return bytes.length === 32 ? (await sha256Hex(bytes)).slice(0, 16) : null;
  }

  /** JSON with every object's keys in one order, to compare values however written. */
  const stable = (value) => JSON.stringify(value, (key, v) => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : Number(a > b))))
    : v));

  const sameNotice = (a, b) => a !== null && b !== null && typeof a === 'object' && typeof b === 'object'
    && a.id === b.id && a.version === b.version && a.hash === b.hash;

  /**
   * Purposes as one text, `[purpose, basis, state]` entries in one order, whichever name the
   * basis has; null if an entry is not of the schema's values (as JSON, no value can pass
   * for another, or for several).
   */
  const purposeList = (list, basisName) => {
    const entries = list.map((p) => [p.purpose, p[basisName], p.state]);
    const known = entries.every(([purpose, basis, state]) => PURPOSES.includes(purpose)
      && BASES.includes(basis) && STATES.includes(state));
    return known ? JSON.stringify(entries.map(([purpose, basis, state]) => [purpose, basis, state ?? null]).sort()) : null;
  };
  const samePurposes = (a, aBasis, b, bBasis) => Array.isArray(a) && Array.isArray(b)
    && purposeList(a, aBasis) !== null && purposeList(a, aBasis) === purposeList(b, bBasis);

  const instant = (text) => readTime(text)?.instant ?? null;
  const sameInstant = (a, b) => instant(a) !== null && instant(a) === instant(b);

  function compareClaims(claims, record, file) {
    const differs = (what) => fail(`The signed receipt does not match the file: its ${what} differs. The file was altered.`);
    // A record id in capitals, braces or another UUID form is the same id (the collector reads it so).
    if (claims.record_id !== uuid(record.record_id)) differs('record id');
    if (claims.site !== record.site) differs('site');
    if (!sameNotice(claims.notice, record.notice)) differs('notice');
    if (!samePurposes(claims.purposes, 'basis', record.purposes, 'basis')) differs('purposes');
    if (claims.gpc !== record.gpc) differs('Global Privacy Control signal');
    if (claims.seq !== file.receipt.seq) differs('receipt number');
    if (claims.chain_hash !== file.receipt.chain_hash) differs('chain hash');
    if (!sameInstant(claims.received_at, file.recorded_at)) differs('time recorded');
    // Receipts signed before the controller was have none to compare.
    if (claims.controller !== undefined && stable(claims.controller) !== stable(file.controller)) differs('controller');
  }

  function compareSummary(file, record) {
    const differs = (what) => fail(`The file's ${what} does not match its record. The file was altered.`);
    const id = uuid(record.record_id);
    if (id === null || uuid(file.receipt_id) !== id) differs('receipt id');
    if (file.site !== record.site) differs('site');
    if (!sameNotice(file.notice, record.notice)) differs('notice');
    if (!samePurposes(file.purposes, 'lawful_basis', record.purposes, 'basis')) differs('purposes');
    if (!sameInstant(file.consent_timestamp, record.client_time)) differs('time of the choice');
    const source = record.source ?? 'widget';
    if (!Object.hasOwn(METHODS, source) || file.collection_method !== METHODS[source]) differs('collection method');
  }

  // --- showing ---------------------------------------------------------------------

  function busy() {
    details.hidden = true;
    verdict.replaceChildren(document.createTextNode('Checking…'));
  }

  const VERDICTS = {
    genuine: 'Genuine.', signed: 'Signed, by keys the file names.', 'not-genuine': 'Not genuine.', unchecked: 'Not checked.',
  };

  /**
   * `state`: genuine, signed (genuine, by keys only the file vouches for), not-genuine or
   * unchecked.
   */
  function show(state, reason, file, keysUrl, controllerSigned) {
    const strong = document.createElement('strong');
    strong.className = state;
    strong.textContent = VERDICTS[state];
    verdict.replaceChildren(strong, document.createTextNode(` ${reason}`));
    // Which check the verdict is of, for whoever waits for a fresh one.
    verdict.dataset.check = String(generation);
    details.hidden = !file;
    if (file) describe(file, keysUrl, controllerSigned);
  }

  // The instant as the checks read it (readTime), not as Date would parse the text: that
  // reads some forms the collector takes otherwise (a "(" for the "T" begins a comment).
  const when = (text) => {
    const read = readTime(text);
    return read ? `${new Date(Number.parseInt(read.instant, 10)).toLocaleString()} (${text})` : text;
  };

  function describe(file, keysUrl, controllerSigned) {
    // An older receipt does not sign the controller: then it is only the file's word, said
    // before the name (which the file may have made long, or right-to-left), and the name
    // isolated from it.
    const controller = [];
    if (!controllerSigned) controller.push('Not signed; the file names: ');
    const isolated = document.createElement('bdi');
    isolated.textContent = file.controller.name;
    controller.push(isolated);
    const rows = [
      ['Site', file.site],
      ['Signed with a key from', keysUrl.href],
      ['Given to', controller],
      ['Chosen at (the visitor\'s device clock)', when(file.consent_timestamp)],
      ['Recorded at', when(file.recorded_at)],
      // As the widget names it, beside the download.
      ['Receipt number', file.receipt_id],
      ['Entry in the collector\'s log', String(file.receipt.seq)],
      ['Notice', `${file.notice.id}, version ${file.notice.version}`],
      ['How', file.collection_method],
      ['Global Privacy Control', file.record.gpc ? 'on' : 'off'],
    ];
    facts.replaceChildren(...rows.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.append(...[value].flat());
      return [dt, dd];
    }));
    purposesBody.replaceChildren(...file.purposes.map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.purpose = String(p.purpose);
      const cells = [
        String(p.purpose).replace(/_/g, ' '),
        String(p.lawful_basis),
        p.state === undefined ? 'always sent (needed for the service)' : String(p.state),
      ];
      for (const [i, text] of cells.entries()) {
        const cell = document.createElement(i === 0 ? 'th' : 'td');
        if (i === 0) cell.scope = 'row';
        cell.textContent = text;
        tr.append(cell);
      }
      return tr;
    }));
  }
})();
