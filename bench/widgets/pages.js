// The host page and each widget's place in it: its files, the tags and the minimal
// configuration its own documentation gives for a first-visit banner with a couple of
// categories, and how to find that banner. Every widget gets the same page around it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
export const DIST = join(repo, 'dist');
const modules = join(here, 'node_modules');

/** A peer's installed version (package.json pins it; this proves what ran). */
function installed(pkg) {
  return JSON.parse(readFileSync(join(modules, pkg, 'package.json'), 'utf8')).version;
}

/** URL path → file in the peer's package (compressed by the server at startup). */
function peerFiles(pkg, paths) {
  return Object.fromEntries(paths.map((p) => [`/w/${pkg}/${p}`, { disk: join(modules, pkg, p) }]));
}

const TEXT = 'We use cookies for analytics and for embedded videos. Choose what you allow.';

export const WIDGETS = [
  {
    name: 'assent',
    label: () => 'Assent (dist/)',
    files: () => ({
      '/assent/assent.js': { disk: join(DIST, 'assent.js'), br: join(DIST, 'assent.js.br') },
      '/assent/assent_bg.js': { disk: join(DIST, 'assent_bg.js'), br: join(DIST, 'assent_bg.js.br') },
      '/assent/assent_bg.wasm': { disk: join(DIST, 'assent_bg.wasm'), br: join(DIST, 'assent_bg.wasm.br') },
    }),
    // As on the demo sites (dist/sites/*.html): one deferred tag with SRI. The hash is taken
    // from the file itself so a stale integrity.json cannot break the run. The endpoint is
    // only POSTed to once a choice is made: the benchmark answers it (measure.js).
    head: () => {
      const sri = createHash('sha256').update(readFileSync(join(DIST, 'assent.js'))).digest('base64');
      return `<script src="/assent/assent.js" integrity="sha256-${sri}" data-endpoint="http://127.0.0.1:8787/v1/records" data-site="www.example.com" defer></script>`;
    },
    body: '',
    // The widget marks the moment it shows its banner; this is the fallback if it does not.
    mark: 'assent:banner-visible',
    banner: `document.querySelector('assent-host')?.shadowRoot?.querySelector('section.banner')`,
    // The banner's accept button, and the record the wasm stores once it has run (not the
    // click the loader keeps at once).
    accept: `document.querySelector('assent-host').shadowRoot.querySelector('button[data-action="accept-all"]')`,
    stored: `localStorage.getItem('assent:v1:www.example.com:choice') !== null`,
  },
  {
    name: 'vanilla-cookieconsent',
    label: () => `vanilla-cookieconsent ${installed('vanilla-cookieconsent')}`,
    files: () => peerFiles('vanilla-cookieconsent', ['dist/cookieconsent.css', 'dist/cookieconsent.umd.js']),
    head: '<link rel="stylesheet" href="/w/vanilla-cookieconsent/dist/cookieconsent.css">',
    // Its README's UMD setup: the script, then CookieConsent.run at the end of the body.
    body: `<script src="/w/vanilla-cookieconsent/dist/cookieconsent.umd.js"></script>
<script>
CookieConsent.run({
  categories: { necessary: { enabled: true, readOnly: true }, analytics: {}, media: {} },
  language: { default: 'en', translations: { en: {
    consentModal: { title: 'Cookies', description: '${TEXT}', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Choose' },
    preferencesModal: { title: 'Your choices', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', savePreferencesBtn: 'Save', sections: [
      { title: 'Necessary', description: 'Needed for the site to work.', linkedCategory: 'necessary' },
      { title: 'Analytics', description: 'Visit statistics.', linkedCategory: 'analytics' },
      { title: 'Media', description: 'Embedded videos.', linkedCategory: 'media' }
    ] }
  } } }
});
</script>`,
    banner: `document.querySelector('#cc-main .cm')`,
    accept: `document.querySelector('#cc-main .cm [data-role="all"]')`,
    stored: `/(^|; )cc_cookie=/.test(document.cookie)`,
  },
  {
    name: 'klaro',
    label: () => `klaro ${installed('klaro')}`,
    // klaro.js is the documented build: translations and CSS inside the one script.
    files: () => peerFiles('klaro', ['dist/klaro.js']),
    head: `<script>
var klaroConfig = {
  version: 1, elementID: 'klaro', storageMethod: 'cookie', lang: 'en',
  mustConsent: false, acceptAll: true, hideDeclineAll: false, default: false,
  translations: { en: {
    consentNotice: { description: '${TEXT}' },
    purposes: { analytics: 'Analytics', media: 'Media' }
  } },
  services: [
    { name: 'matomo', title: 'Matomo', purposes: ['analytics'] },
    { name: 'youtube', title: 'YouTube', purposes: ['media'] }
  ]
};
</script>
<script defer src="/w/klaro/dist/klaro.js"></script>`,
    body: '',
    banner: `document.querySelector('.klaro .cookie-notice:not(.cookie-notice-hidden)')`,
    accept: `document.querySelector('.klaro .cookie-notice .cm-btn-success')`,
    stored: `/(^|; )klaro=/.test(document.cookie)`,
  },
  {
    name: 'tarteaucitron',
    label: () => `tarteaucitronjs ${installed('tarteaucitronjs')}`,
    // The minified entry makes it fetch the minified language, services and CSS files next
    // to it (it picks `.min` when its own URL has `.min.`); it starts on window load.
    files: () => peerFiles('tarteaucitronjs', [
      'tarteaucitron.min.js', 'lang/tarteaucitron.en.min.js',
      'tarteaucitron.services.min.js', 'css/tarteaucitron.min.css',
    ]),
    head: `<script>var tarteaucitronForceLanguage = 'en';</script>
<script src="/w/tarteaucitronjs/tarteaucitron.min.js"></script>
<script>
tarteaucitron.init({ privacyUrl: '', orientation: 'bottom', showAlertSmall: false, cookieslist: false, highPrivacy: true, DenyAllCta: true, AcceptAllCta: true, showIcon: false, mandatory: true });
</script>`,
    // It shows its banner only once a service is waiting for consent: two, of two kinds, that
    // load nothing before consent (its gtag service, under Google consent mode, would).
    body: `<script>
tarteaucitron.user.hotjarId = 1234567;
tarteaucitron.user.HotjarSv = 6;
(tarteaucitron.job = tarteaucitron.job || []).push('hotjar');
(tarteaucitron.job = tarteaucitron.job || []).push('youtube');
</script>`,
    banner: `document.getElementById('tarteaucitronAlertBig')`,
    accept: `document.getElementById('tarteaucitronPersonalize2')`,
    // Its cookie is there from the start; accepting writes the services' answers into it.
    stored: `/(^|; )tarteaucitron=[^;]*=true/.test(document.cookie)`,
  },
  {
    name: 'osano',
    label: () => `cookieconsent (Osano) ${installed('cookieconsent')}`,
    files: () => peerFiles('cookieconsent', ['build/cookieconsent.min.css', 'build/cookieconsent.min.js']),
    head: '<link rel="stylesheet" href="/w/cookieconsent/build/cookieconsent.min.css">',
    // Its documented snippet, on window load. It has no categories: opt-in is all or nothing.
    body: `<script src="/w/cookieconsent/build/cookieconsent.min.js"></script>
<script>
window.addEventListener('load', function () {
  window.cookieconsent.initialise({
    type: 'opt-in', position: 'bottom',
    palette: { popup: { background: '#000' }, button: { background: '#f1d600' } },
    content: { message: '${TEXT}', allow: 'Accept all', deny: 'Reject all', href: '/privacy' }
  });
});
</script>`,
    banner: `document.querySelector('.cc-window')`,
    accept: `document.querySelector('.cc-window .cc-allow')`,
    stored: `/(^|; )cookieconsent_status=/.test(document.cookie)`,
  },
];

export const NAMES = WIDGETS.map((w) => w.name);

/** The one host page: the widget's tags go in its head and at the end of its body. */
export function hostPage(widget) {
  const head = widget ? (typeof widget.head === 'function' ? widget.head() : widget.head) : '';
  const body = widget ? widget.body : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Example: cloud security and compliance</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0}header,main,footer{padding:1rem 2rem}</style>
${head}
</head>
<body>
<header><strong>www.example.com</strong></header>
<main><h1>Cloud security and compliance</h1><p>Continuous security for every asset, from the data centre to the cloud.</p></main>
<footer><a href="#privacy">Privacy choices</a></footer>
${body}
</body>
</html>
`;
}

/** Every file the server must answer: the pages (one per widget, one bare) and the widgets'. */
export function siteFiles(widgets) {
  if (widgets.some((w) => w.name === 'assent')) {
    if (!existsSync(join(DIST, 'assent.js'))) throw new Error('dist/assent.js is missing: run `trunk build --release` first');
    const absent = ['assent.js.br', 'assent_bg.wasm', 'assent_bg.wasm.br'].filter((f) => !existsSync(join(DIST, f)));
    if (absent.length) throw new Error(`dist/ lacks ${absent.join(', ')}: is it being rebuilt? Retry when it is done.`);
  }
  const files = { '/baseline.html': { body: hostPage(null) } };
  for (const widget of widgets) {
    files[`/${widget.name}.html`] = { body: hostPage(widget) };
    Object.assign(files, widget.files());
  }
  return files;
}
