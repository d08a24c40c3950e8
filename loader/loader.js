// The Assent loader. It runs inside the IIFE that scripts/bundle.sh wraps around the
// wasm-bindgen glue, so `wasm_bindgen` is local and the only global is window.Assent.
// It reads its own script tag, fetches the wasm next to itself (checked against its SRI
// hash), and skips the wasm entirely for a returning visitor whose stored choice was made
// under the embedded notice and who has nothing waiting to be sent, unless the address
// holds a manage link's #assent=<token> (the wasm takes it out and checks it). With
// data-cookie-domain it keeps the choice in a cookie shared by the covered sites of that
// parent domain: a later choice found there counts too, so a second site needs no wasm.
if (window.Assent) return; // the tag twice on one page: the first one runs the widget
var script = document.currentScript;
var data = (script && script.dataset) || {};
var WASM_INTEGRITY = '__ASSENT_WASM_INTEGRITY__';
var EMBEDDED_NOTICE_HASH = '__ASSENT_NOTICE_HASH__';
var OPTIONAL_PURPOSES = '__ASSENT_OPTIONAL_PURPOSES__';
// The widget's languages (English is compiled in; the others are files in locales/, listed
// in locales/index.json with their SRI), and the hashes of the notice's translations.
var LANGUAGES = '__ASSENT_LANGUAGES__'.split(' ');
var NOTICE_HASHES = '__ASSENT_NOTICE_HASHES__';
var LOCALES_INTEGRITY = '__ASSENT_LOCALES_INTEGRITY__';
var COOKIE = 'assent_v1';
// h=<notice hash, hex>&r=<record id>&t=<client time, ms>&p=<purpose>:<g|d>.<purpose>:<g|d>…
var COOKIE_FORM = /^h=([0-9a-f]{64})&r=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})&t=([0-9]{1,15})&p=([a-z_]+:[gd](\.[a-z_]+:[gd])*)$/;
var YEAR = 31536000;
var site = data.site || location.hostname;
var cookieDomain = sharedDomain();
var language = chooseLanguage();
var translatedHash = new RegExp('(^| )' + language + ':([0-9a-f]{64})').exec(NOTICE_HASHES);
var noticeHash = translatedHash ? 'sha256:' + translatedHash[2] : EMBEDDED_NOTICE_HASH;
var attributes = {
  endpoint: data.endpoint, site: data.site, notice: data.notice,
  policyUrl: data.policyUrl, theme: data.theme,
  sharedCookie: cookieDomain ? { read: sharedChoice, write: shareChoice } : undefined
};
var cookieReported = false;
var base = (script && script.src) || location.href;
var wasmUrl = new URL('assent_bg.wasm', base).href;
var started = null;
var running = false;

// data-lang, else the page's <html lang>, else the browser's languages, else English; a
// regional tag counts as its language (pt-BR is pt).
function chooseLanguage() {
  var wanted = [data.lang, document.documentElement.lang].concat(navigator.languages);
  for (var i = 0; i < wanted.length; i++) {
    var tag = String(wanted[i] || '').toLowerCase().split('-')[0];
    if (LANGUAGES.indexOf(tag) >= 0) return tag;
    if (!i && tag) console.warn('Assent: data-lang ' + tag + ' is not one of ' + LANGUAGES);
  }
  return 'en';
}

function fetchJson(name, integrity) {
  return fetch(new URL('locales/' + name, base), { integrity: integrity, credentials: 'omit' })
    .then(function (response) {
      if (!response.ok) throw response.status;
      return response.json();
    });
}

// The chosen language's file, checked against the SRI index; null (English) for English,
// or with a warning when it can't be had.
function loadLocale() {
  return language === 'en' ? null : fetchJson('index.json', LOCALES_INTEGRITY)
    .then(function (index) { return fetchJson(language + '.json', index[language]); })
    .catch(function (error) {
      console.warn('Assent: the ' + language + ' translation could not be loaded (' + error + '); showing English');
      return null;
    });
}

function stored(name) {
  try { return window.localStorage.getItem('assent:v1:' + site + ':' + name); } catch (e) { return null; }
}

// data-cookie-domain, if it is this page's host name or a parent of it.
function sharedDomain() {
  var declared = (data.cookieDomain || '').trim();
  if (!declared) return null;
  var domain = (declared.charAt(0) === '.' ? declared.slice(1) : declared).toLowerCase();
  var host = location.hostname.toLowerCase();
  if (/^([a-z0-9-]{1,63}\.)+[a-z0-9-]{1,63}$/.test(domain) &&
      (host === domain || host.slice(-domain.length - 1) === '.' + domain)) return domain;
  console.warn('Assent: data-cookie-domain must be a domain name that is this page\'s host name or a parent of it; this site keeps its choice to itself');
  return null;
}

function cookieValue() {
  var found = null;
  document.cookie.split(';').forEach(function (pair) {
    var at = pair.indexOf('=');
    if (found === null && at > 0 && pair.slice(0, at).trim() === COOKIE) found = pair.slice(at + 1);
  });
  return found;
}

function ignoreCookie(why) {
  if (!cookieReported) console.warn('Assent: the shared choice cookie ' + why + '; it is ignored');
  cookieReported = true;
  return null;
}

// The shared cookie's choice, if it is of the cookie's form, as Assent.preferences() gives
// it. Whether it fits the notice shown is SharedChoice::read's to decide (or the no-wasm
// path's, below).
function sharedChoice() {
  var value = cookieDomain && cookieValue();
  if (!value) return null;
  var parts = COOKIE_FORM.exec(value);
  if (!parts) return ignoreCookie('is garbled');
  return {
    record_id: parts[2],
    client_time: new Date(Number(parts[3])).toISOString(),
    notice: { hash: 'sha256:' + parts[1] },
    purposes: parts[4].split('.').map(function (entry) {
      var purpose = entry.split(':');
      return { purpose: purpose[0], basis: 'consent', state: purpose[1] === 'g' ? 'granted' : 'denied' };
    }),
    cookie_domain: cookieDomain
  };
}

// Writes a saved record's choice into the shared cookie (the wasm calls it on each save).
function shareChoice(record) {
  try {
    var optional = record.purposes.filter(function (p) { return p.basis === 'consent' && p.state; });
    var value = 'h=' + record.notice.hash.slice(7) + '&r=' + record.record_id +
      '&t=' + Date.parse(record.client_time) + '&p=' + optional.map(function (p) {
        return p.purpose + ':' + (p.state === 'granted' ? 'g' : 'd');
      }).join('.');
    if (!COOKIE_FORM.test(value)) return;
    document.cookie = COOKIE + '=' + value + '; Domain=' + cookieDomain + '; Path=/; Max-Age=' + YEAR +
      '; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '');
    if (cookieValue() !== value) {
      console.warn('Assent: the browser did not keep the shared choice cookie for ' + cookieDomain + '; other covered sites will ask again');
    }
  } catch (e) {
    console.warn('Assent: the shared choice cookie could not be written:', e);
  }
}

// Must agree with Widget::current_choice: the wasm makes the final decision whenever it runs.
function currentChoice() {
  if (data.notice || data.policyUrl) return null;
  var choice = null;
  try { choice = JSON.parse(stored('choice')); } catch (e) { /* unreadable: none */ }
  var local = choice && choice.site === site && choice.notice && choice.notice.hash === noticeHash ? choice : null;
  var shared = sharedChoice();
  if (shared && shared.notice.hash !== noticeHash) shared = null;
  if (shared && shared.purposes.map(function (p) { return p.purpose; }).join('.') !== OPTIONAL_PURPOSES) {
    shared = ignoreCookie("does not state this notice's purposes");
  }
  var later = shared && (!local || (shared.record_id !== local.record_id &&
    Date.parse(shared.client_time) > Date.parse(local.client_time)));
  return later ? shared : local;
}

function preferences() {
  return running ? wasm_bindgen.preferences() : currentChoice();
}

// The current choice's receipt file, as the wasm kept it when the collector issued it.
function receipt() {
  var choice = preferences();
  var file = null;
  try { file = JSON.parse(stored('receipt')); } catch (e) { /* unreadable: none */ }
  return choice && file && file.receipt_id === choice.record_id && file.site === site ? file : null;
}

function outboxEmpty() {
  var outbox = stored('outbox');
  return outbox === null || outbox === '[]';
}

function start(open) {
  if (started) {
    return open ? started.then(function () { wasm_bindgen.open(); }) : started;
  }
  var locale = loadLocale();
  started = wasm_bindgen({ module_or_path: fetch(wasmUrl, { integrity: WASM_INTEGRITY, credentials: 'omit' }) })
    .then(function () { return locale; })
    .then(function (locale) { return wasm_bindgen.boot(attributes, open, locale); })
    .then(function () { running = true; })
    .catch(function (error) {
      started = null;
      console.error('Assent: the widget could not start:', error);
    });
  return started;
}

Object.defineProperty(window, 'Assent', {
  value: Object.freeze({
    open: function () { return start(true); },
    preferences: preferences,
    receipt: receipt,
    identify: function (token) {
      return start(false).then(function () {
        return new Promise(function (resolve, reject) {
          if (!running) throw { status: 0, code: 'identity_unavailable', message: 'the widget could not start' };
          wasm_bindgen.identify(String(token), resolve, reject);
        });
      });
    }
  })
});

document.addEventListener('click', function (event) {
  var target = event.target;
  if (target && target.closest && target.closest('[data-assent-open]')) {
    event.preventDefault();
    start(true);
  }
});

if (!(currentChoice() && outboxEmpty()) || /(^#|&)assent=/.test(location.hash)) start(false);
