// The Assent loader. It runs inside the IIFE that scripts/bundle.sh wraps around it (with
// loader/banner.js and the BUILD_ variables, the build's facts), so the only global is window.Assent.
// It reads its own script tag, and skips the wasm entirely for a returning visitor whose
// stored choice was made under the embedded notice and who has nothing waiting to be sent,
// unless the address holds a manage link's #assent=<token> (the wasm takes it out and
// checks it). A first-time visitor sees the banner painted in the next frame
// (loader/banner.js), and the wasm-bindgen glue and the wasm (each checked against its SRI
// hash) are fetched from next to this file only once the visitor clicks it, or the page
// calls Assent; at once when there is something to send or a manage link. With
// data-cookie-domain it reads the choice the wasm keeps in a cookie shared by the covered
// sites of that parent domain: a later choice found there counts too, so a second site
// needs no wasm.
// The tag twice on one page: the first one runs the widget. (Its API, the window's own
// property: an element with id="Assent" or a frame named Assent is window.Assent too, through
// the window's named properties, and reading a cross-origin frame's properties throws.)
if (window.hasOwnProperty('Assent')) return;
var script = document.currentScript;
// The tag's data-* attributes, if it is the tag: an element of the page named currentScript
// (<img name="currentScript" data-endpoint=…>, markup a page may let through) takes that
// name's place on document. Its src then only points the files' requests elsewhere,
// which their SRI hashes refuse.
var data = script instanceof HTMLScriptElement && script.dataset || {};
var WASM_INTEGRITY = '__ASSENT_WASM_INTEGRITY__';
var GLUE_INTEGRITY = '__ASSENT_GLUE_INTEGRITY__';
var OPTIONAL_PURPOSES = '__ASSENT_OPTIONAL_PURPOSES__';
// The widget's languages (English is compiled in; the others are files in locales/, listed
// in locales/index.json, whose SRI is BUILD_localesIntegrity), and the hashes of the
// embedded notice and its translations, {en: <hex>, de: <hex>…}, each cut to its first 32
// bits: enough to tell this browser's choices under one notice from another, and every
// visitor downloads them (the wasm compares whole hashes whenever it runs).
var LANGUAGES = '__ASSENT_LANGUAGES__'.split(' ');
var NOTICE_HASHES = __ASSENT_NOTICE_HASHES__;
// h=<notice hash, hex>&r=<record id>&t=<client time, ms>&p=<purpose>:<g|d>.<purpose>:<g|d>…, as
// the wasm writes it on each save (src/browser/shared_cookie.rs), which this file need not carry.
var COOKIE_FORM = /^h=([0-9a-f]{64})&r=([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})&t=([0-9]{1,15})&p=([a-z_]+:[gd](\.[a-z_]+:[gd])*)$/;
// A lowercase host name: the covered site (trimmed) and data-cookie-domain's. The wasm's
// rule (assent_record's Site) also refuses a hyphen at a label's ends and a name over
// 253 characters; nobody's site is one.
var HOST = /^([a-z\d-]{1,63}\.)*[a-z\d-]{1,63}$/;
// As the wasm reads it (Config::from_attributes): a data-site that is not a host name is
// the page's host name's, and where that is not one either (`www.qualys.com.`, with the
// trailing dot of a fully qualified name, or an IPv6 address) it is localhost's, so a
// returning visitor's choice is found under the wasm's key.
var site = data.site?.trim() || '';
if (!HOST.test(site)) site = location.hostname;
if (!HOST.test(site)) site = 'localhost';
// A notice of the site's own, or its policy URL: only the wasm knows that notice's hash, so
// no stored choice is known to be under it, and the painted (embedded) banner is not it.
var ownNotice = data.notice || data.policyUrl;
var cookieDomain = sharedDomain();
var language = chooseLanguage();
// A language without a translated notice shows the English one.
var noticeHash = 'sha256:' + (NOTICE_HASHES[language] || NOTICE_HASHES.en);
// The data-* attributes for the wasm (ScriptAttributes::from_js takes the ones it knows).
var attributes = { ...data, sharedCookie: cookieDomain && { read: sharedChoice, domain: cookieDomain } };
var cookieReported;
var base = script?.src || location.href;
// URL objects: fetch, import() and the link's href take them as they are.
var wasmUrl = new URL('assent_bg.wasm', base);
var glueUrl = new URL('assent_bg.js', base);
var started;
var wasm; // the glue's exports, once the widget runs
var shadow;
var painted;
var locale; // the language file's promise, see words()

// data-lang, else the page's <html lang>, else the browser's languages, else English; a
// regional tag counts as its language (pt-BR is pt, and de_DE, as some sites write it, de).
function chooseLanguage() {
  var wanted = [data.lang, document.documentElement.lang, ...navigator.languages];
  for (var i = 0; i < wanted.length; i++) {
    var tag = wanted[i]?.trim().toLowerCase().split(/[-_]/)[0];
    if (LANGUAGES.includes(tag)) return tag;
    if (!i && tag) warn('data-lang ' + tag + ' is not one of ' + LANGUAGES);
  }
  return 'en';
}

function warn(message) {
  console.warn('Assent:', message);
}

// The widget's files are fetched in the default credentials mode, as the glue's module is:
// cookies only to the page's own origin, which had them with the page and assent.js already,
// none to another origin (so its Access-Control-Allow-Origin: * suffices). With credentials
// left out, Chromium would open a connection of their own for them.
function fetchLocale(name, integrity) {
  return fetch(new URL('locales/' + name, base), { integrity: integrity }).then(function (response) {
    if (!response.ok) throw response.status;
    return response;
  });
}

// The chosen language's file, none (English) for English, or with a warning when it can't be
// had. It is fetched beside the SRI index that pins its hash, one round trip instead of two,
// and checked against that hash here; where the page can't hash (crypto.subtle is for
// secure contexts only), it is fetched once the index has come, through SRI.
function loadLocale() {
  if (language === 'en') return;
  var name = language + '.json';
  var subtle = crypto.subtle;
  return Promise.all([fetchLocale('index.json', BUILD_localesIntegrity), subtle && fetchLocale(name)])
    .then(function (responses) {
      return responses[0].json().then(function (index) {
        return subtle ? responses[1].arrayBuffer().then(function (bytes) {
          return subtle.digest('SHA-256', bytes).then(function (hash) {
            if ('sha256-' + btoa(String.fromCharCode(...new Uint8Array(hash))) !== index[language]) throw 'it failed its integrity check';
            return new Response(bytes).json();
          });
        }) : fetchLocale(name, index[language]).then(function (response) { return response.json(); });
      });
    })
    .catch(function (error) {
      warn('the ' + language + ' translation did not load (' + error + '); showing English');
      // A click kept on the English banner is the English notice's, as the wasm's record is.
      // (A replace rather than a new 'sha256:' + …: 13 B less in assent.js, brotli.)
      noticeHash = noticeHash.replace(NOTICE_HASHES[language], NOTICE_HASHES.en);
    });
}

function storageKey(name) {
  return 'assent:v1:' + site + ':' + name;
}

function stored(name) {
  try { return localStorage.getItem(storageKey(name)); } catch { }
}

// A stored JSON value; null or undefined when absent or unreadable.
function storedJson(name) {
  try { return JSON.parse(stored(name)); } catch { }
}

// An accept or decline made on the painted banner, "<notice hash> <action> <time, ms>
// <record id>", kept until the wasm has recorded it (Store::save_choice forgets it) or
// retired it unrecorded (the text "retired", which is under no notice): leaving
// the page before that does not lose it, the next page hands it over (unless a choice was
// recorded after all) if its notice is the one the click was on, which is decided as the
// script starts: a click on the English banner shown for want of a language file is asked
// again, even should the file fail again. The record states the click's time, and every
// tab handed the click makes the same record, which the endpoint stores once
// (src/kept_click.rs). crypto.randomUUID is for secure contexts only: elsewhere the wasm
// makes the id (the record states the click's time still).
function keepClick(action) {
  try { localStorage.setItem(storageKey('painted'), noticeHash + ' ' + action + ' ' + Date.now() + ' ' + crypto.randomUUID?.()); } catch { /* this page hands it over */ }
}

function keptClick() {
  var kept = (stored('painted') || '').split(' ');
  // Earlier builds kept the whole hash: a click kept by one must not be lost.
  return underNotice(kept[0]) && /^(accept|decline)-all$/.test(kept[1]) && kept[1];
}

// Whether a notice hash (whole, or cut as in NOTICE_HASHES) is the notice's shown.
function underNotice(hash) {
  return (hash + '').slice(0, 15) === noticeHash;
}

// data-cookie-domain, if it is this page's host name or a parent of it.
function sharedDomain() {
  var declared = (data.cookieDomain || '').trim();
  if (!declared) return null;
  var domain = declared.replace(/^\./, '').toLowerCase();
  // (The URL parser writes a host name in lowercase.)
  if (HOST.test(domain) &&
      ('.' + location.hostname).endsWith('.' + domain)) return domain;
  warn('data-cookie-domain is not this host or a parent: ignored');
  return null;
}

// The first assent_v1 in document.cookie ("a=1; b=2"), if any. Reading it throws in a
// sandboxed frame, which has no cookies.
function cookieValue() {
  try { return /(?:^|;) *assent_v1=([^;]*)/.exec(document.cookie)?.[1]; } catch { /* none */ }
}

function ignoreCookie(why) {
  if (!cookieReported) warn('the shared cookie ' + why + ': ignored');
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
    // toJSON is toISOString for a valid date, which any 15 digits of ms are (3 B less).
    client_time: new Date(+parts[3]).toJSON(),
    notice: { hash: 'sha256:' + parts[1] },
    purposes: parts[4].split('.').map(function (entry) {
      var purpose = entry.split(':');
      return { purpose: purpose[0], basis: 'consent', state: purpose[1] === 'g' ? 'granted' : 'denied' };
    }),
    cookie_domain: cookieDomain
  };
}

// Must agree with Widget::current_choice: the wasm makes the final decision whenever it runs.
function currentChoice() {
  if (ownNotice) return null;
  var choice = storedJson('choice');
  var local = underNotice(choice?.notice?.hash) && choice.site === site ? choice : null;
  var shared = sharedChoice();
  if (shared && !underNotice(shared.notice.hash)) shared = null;
  if (shared && shared.purposes.map(function (p) { return p.purpose; }).join('.') !== OPTIONAL_PURPOSES) {
    shared = ignoreCookie('is for other purposes');
  }
  var later = shared && (!local || (shared.record_id !== local.record_id &&
    Date.parse(shared.client_time) > Date.parse(local.client_time)));
  return later ? shared : local;
}

function preferences() {
  return wasm ? wasm.preferences() : currentChoice();
}

// The current choice's receipt file, as the wasm kept it when the collector issued it.
function receipt() {
  var choice = preferences();
  var file = storedJson('receipt');
  return choice && file?.receipt_id === choice.record_id && file.site === site ? file : null;
}

// No record waits to be sent, or there is nowhere to send one: a page without data-endpoint
// (a site that took it out) keeps them waiting without the wasm. An outbox holding a record
// is a JSON array of objects, "[{…", which sorts after "[]" (none, or null, does not).
function nothingToSend() {
  return !data.endpoint || !(stored('outbox') > '[]');
}

// The wasm-bindgen glue, an ES module: a modulepreload link fetches it checked against its
// SRI hash, and import() then runs the module that link fetched. Neither is a Trusted Types
// sink, so a page that allows no policy at all can run the widget. Where modulepreload is
// unknown (Safari before 17, Firefox before 115), a module script element fetches it the
// same way (those browsers have no Trusted Types). Both fetch in CORS mode without
// credentials across origins, a module's default, so they need no crossorigin attribute.
function loadGlue() {
  return new Promise(function (resolve, reject) {
    var element = document.createElement('link');
    if (element.relList.supports('modulepreload')) {
      element.rel = 'modulepreload';
      element.href = glueUrl;
    } else {
      element = document.createElement('script');
      element.type = 'module';
      element.src = glueUrl;
    }
    element.integrity = GLUE_INTEGRITY;
    element.nonce = script?.nonce;
    element.onload = function () { resolve(import(glueUrl)); };
    element.onerror = function () { reject(Error(glueUrl + ' did not load or failed its integrity check')); };
    document.head.appendChild(element);
  }).then(function (module) { return module.default; });
}

// The widget's host element, <assent-host>, with an open shadow root (host CSS can't reach in) styled
// by a constructed stylesheet (no <style>, no style=, so a strict style-src allows it).
// It goes in the root element, outside the body (after it, or before it when attached
// before the parser has made it): a page that swaps its body for the next page's (Turbo
// Drive, htmx's hx-boost) keeps the widget, which this script, run once, could not mount
// again.
function attach() {
  if (shadow) return shadow;
  var host = document.createElement('assent-host');
  shadow = host.attachShadow({ mode: 'open' });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(BUILD_css);
  shadow.adoptedStyleSheets = [sheet];
  document.documentElement.appendChild(host);
  keepClear();
  return shadow;
}

// WCAG 2.4.11: a control of the page that takes the keyboard focus is scrolled clear of the
// banner (the painted one or the wasm's, which replaces it) while one shows: the page gets a
// bottom scroll padding of the banner's height, and the host element that much height, so
// that the page's last lines can be scrolled above it too. The height is an empty element's
// of its own: set on the host, which `all: initial` resets, it would have to be a custom
// property, and every element of the banner would have its style computed again for it.
function keepClear() {
  var room = shadow.appendChild(document.createElement('div'));
  // Shown, hidden, replaced, or laid out anew for another viewport.
  var observer = new MutationObserver(pad);
  function pad() {
    var height = shadow.querySelector('.banner')?.offsetHeight;
    room.style.height = document.documentElement.style.scrollPaddingBottom = height ? height + 'px' : '';
    // The change just made to the room's style attribute is no news: measuring again for it
    // would lay the page out once more.
    observer.takeRecords();
  }
  observer.observe(shadow, { childList: true, subtree: true, attributes: true });
  addEventListener('resize', pad);
}

// The language file, fetched once; after paint(), settled once the banner is painted.
function words() {
  return locale || (locale = Promise.resolve(loadLocale()));
}

// Paints the banner in the next frame's animation callback, just before that frame's
// layout: it shows in the same frame as if built now, and the loader's task stays short.
function paint() {
  locale = words().then(function (locale) {
    return new Promise(function (resolve) {
      requestAnimationFrame(function () {
        try { painted = paintBanner(attach(), locale || BUILD_english, chose); } catch { /* no constructed stylesheets or shadow DOM here: the wasm could not mount either */ }
        resolve(locale);
      });
    });
  });
}

// A click on the painted banner that counts (paintBanner): an accept or decline is kept
// for the next page too, should this one be left before the wasm has recorded it.
function chose(action) {
  if (action !== 'open') keepClick(action);
  start(false);
}

// kept: hand the wasm a choice made on an earlier page's painted banner.
function start(open, kept) {
  if (started) {
    return open ? started.then(function () { wasm?.open(); }) : started;
  }
  // The glue, the wasm and the language file all at once: one round trip, not three.
  words();
  var glue = loadGlue();
  var response = fetch(wasmUrl, { integrity: WASM_INTEGRITY });
  response.catch(function () { /* said below, by the glue's init */ });
  if (kept) {
    painted = attach().appendChild(document.createElement('div'));
    painted.hidden = true;
    painted.setAttribute('data-chosen', kept);
  }
  started = glue
    .then(function (glue) {
      return glue({ module_or_path: response })
        // Tasks of their own for reading the notice and for the first render (boot waits
        // for the second promise), so that on a slow phone neither they nor instantiating
        // the wasm block the page for long.
        .then(nextTask)
        .then(words)
        .then(function (locale) { return glue.boot(attributes, open, locale, attach(), painted, nextTask()); })
        .then(function () {
          wasm = glue;
          performance.mark('assent:ready');
        });
    })
    .catch(function (error) {
      started = null;
      // A banner whose buttons can't work is worse than none.
      painted?.remove();
      painted = null;
      console.error('Assent: the widget could not start:', error);
    });
  return started;
}

// Settles in a later task than this one (setTimeout(resolve, reject): a function is a
// delay of 0).
function nextTask() {
  return new Promise(setTimeout);
}

Object.defineProperty(window, 'Assent', {
  value: Object.freeze({
    open: function () { return start(true); },
    preferences: preferences,
    receipt: receipt,
    identify: function (token) {
      return start(false).then(function () {
        return new Promise(function (resolve, reject) {
          if (!wasm) throw { status: 0, code: 'identity_unavailable', message: 'the widget could not start' };
          wasm.identify(String(token), resolve, reject);
        });
      });
    }
  })
});

// The host's links and buttons that open the preferences. Should the widget not start (its
// files out of reach), a link to a web page goes there, as it would without the widget.
document.addEventListener('click', function (event) {
  var opener = event.target.closest?.('[data-assent-open]');
  if (opener) {
    event.preventDefault();
    start(true).then(function () {
      if (!wasm && /^https?:/.test(opener.href)) location.assign(opener.href);
    });
  }
});

var chosen = currentChoice();
var manage = /(^#|&)assent=/.test(location.hash);
// A kept click is handed over even with a choice stored: made later (on a tab whose banner
// was painted before another tab's choice), it is the visitor's last word. The wasm
// retires one older than the choice (Widget::handed_click).
var kept = !ownNotice && keptClick();
if (!(chosen && nothingToSend()) || manage || kept) {
  var paintable = !chosen && !ownNotice;
  if (paintable && !kept) paint();
  // A first visit with nothing to send and no manage link needs no wasm until the visitor
  // clicks the banner (or the page calls Assent): most never download it.
  if (!paintable || kept || manage || !nothingToSend()) start(false, kept);
}
