// The Assent loader. It runs inside the IIFE that scripts/bundle.sh wraps around the
// wasm-bindgen glue, so `wasm_bindgen` is local and the only global is window.Assent.
// It reads its own script tag, fetches the wasm next to itself (checked against its SRI
// hash), and skips the wasm entirely for a returning visitor whose stored choice was made
// under the embedded notice and who has nothing waiting to be sent, unless the address
// holds a manage link's #assent=<token> (the wasm takes it out and checks it).
if (window.Assent) return; // the tag twice on one page: the first one runs the widget
var script = document.currentScript;
var data = (script && script.dataset) || {};
var WASM_INTEGRITY = '__ASSENT_WASM_INTEGRITY__';
var EMBEDDED_NOTICE_HASH = '__ASSENT_NOTICE_HASH__';
var attributes = {
  endpoint: data.endpoint, site: data.site, notice: data.notice,
  lang: data.lang, policyUrl: data.policyUrl, theme: data.theme
};
var site = data.site || location.hostname;
var wasmUrl = new URL('assent_bg.wasm', (script && script.src) || location.href).href;
var started = null;
var running = false;

function stored(name) {
  try { return window.localStorage.getItem('assent:v1:' + site + ':' + name); } catch (e) { return null; }
}

// Must agree with Widget::current_choice: the wasm makes the final decision whenever it runs.
function currentChoice() {
  if (data.notice || data.policyUrl) return null;
  try {
    var choice = JSON.parse(stored('choice'));
    return choice && choice.site === site && choice.notice && choice.notice.hash === EMBEDDED_NOTICE_HASH ? choice : null;
  } catch (e) { return null; }
}

function outboxEmpty() {
  var outbox = stored('outbox');
  return outbox === null || outbox === '[]';
}

function start(open) {
  if (started) {
    return open ? started.then(function () { wasm_bindgen.open(); }) : started;
  }
  started = wasm_bindgen({ module_or_path: fetch(wasmUrl, { integrity: WASM_INTEGRITY, credentials: 'omit' }) })
    .then(function () { return wasm_bindgen.boot(attributes, open); })
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
    preferences: function () { return running ? wasm_bindgen.preferences() : currentChoice(); },
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
