// Writes the translations a release serves next to assent.js, from locales/ and notices/:
//   locales/<tag>.json  {language, rtl, messages: [...], purposes: {...}, notice?}
//                       messages as a list in the order of locales/en.json's keys (the
//                       order build.rs compiles `Messages::from_texts` with), the banner's
//                       four first, and the translated notice where notices/ has one
//   locales/index.json  {<tag>: <sha256 SRI of its file>}
// English is compiled into the wasm and gets no file. Prints, as JSON, what the loader needs
// of them: the index's SRI, which it pins, and English as a language file of the banner's
// words alone (with the notice's language and summary), which it paints without fetching
// anything.
// Usage: node build-locales.mjs ROOT OUT_DIR
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [root, out] = process.argv.slice(2);
if (!root || !out) {
  console.error('usage: node build-locales.mjs ROOT OUT_DIR');
  process.exit(2);
}
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));
const sri = (text) => 'sha256-' + createHash('sha256').update(text).digest('base64');

const english = read(join(root, 'locales', 'en.json'));
// In the file's order (scripts/check-locales.py holds every language to it).
const keys = Object.keys(english.messages);
// The banner's words, first in that order, as loader/banner.js takes them.
const BANNER = ['banner_label', 'accept_all', 'decline_all', 'open_highlights'];
if (keys.slice(0, BANNER.length).join() !== BANNER.join()) {
  console.error(`build-locales: locales/en.json's messages must begin with ${BANNER.join(', ')}`);
  process.exit(1);
}
const index = {};
mkdirSync(out, { recursive: true });
for (const name of readdirSync(join(root, 'locales')).sort()) {
  const tag = name.replace(/\.json$/, '');
  if (tag === 'en' || tag === name) continue;
  const locale = read(join(root, 'locales', name));
  const file = {
    language: locale.language,
    rtl: locale.dir === 'rtl',
    messages: keys.map((key) => locale.messages[key]),
    purposes: locale.purposes,
  };
  const notice = join(root, 'notices', `qualys-privacy-highlights.${tag}.json`);
  if (existsSync(notice)) file.notice = read(notice);
  const text = JSON.stringify(file);
  writeFileSync(join(out, name), text);
  index[tag] = sri(text);
}
const text = JSON.stringify(index);
writeFileSync(join(out, 'index.json'), text);
console.log(JSON.stringify({
  localesIntegrity: sri(text),
  english: {
    language: 'en',
    messages: BANNER.map((key) => english.messages[key]),
    notice: (({ language, summary }) => ({ language, summary }))(read(join(root, 'notices', 'qualys-privacy-highlights.en.json'))),
  },
}));
