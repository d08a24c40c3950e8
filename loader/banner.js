// The first-visit banner, painted by the loader the moment it knows the visitor has no
// choice, so the visitor sees it before the wasm has arrived. It is the markup of the
// wasm's own (src/ui/app.rs's root, src/ui/banner.rs), built with DOM calls and text
// nodes, never from markup strings; e2e/tests/painted-banner.test.js holds the two to each
// other. The visitor's click on it is kept as data-chosen (an accept or decline hides it
// at once, and replaces an open clicked before it) and told to the loader, which fetches
// the wasm. The wasm takes it over, and the keyboard focus and where it came from, when
// its own banner replaces this one (dom::Painted::remove).

// data-theme as Config::from_attributes reads it (the wasm warns about a wrong one).
function themeClass() {
  var theme = (data.theme || '').trim();
  return 'theme-' + (theme === 'light' || theme === 'dark' ? theme : 'auto');
}

// locale: a language file (locales/<tag>.json, or BUILD_english): its language, rtl, the
// messages (the banner's first: banner_label, accept_all, decline_all, open_highlights;
// scripts/build-locales.mjs), and the notice if translated (else English's summary is shown);
// chose(action) is told each click that counts. Returns the painted element.
function paintBanner(shadow, locale, chose) {
  function add(parent, tag, attributes, text) {
    var element = document.createElement(tag);
    // Every value and text is a non-empty string, or absent (null, undefined).
    for (var name in attributes) if (attributes[name]) element.setAttribute(name, attributes[name]);
    if (text) element.textContent = text;
    return parent.appendChild(element);
  }
  var m = locale.messages;
  var notice = locale.notice || BUILD_english.notice;
  // Marked, so that the wasm's banner is not displayed beside it (src/ui/highlights.css).
  var painted = add(shadow, 'div', { 'class': 'painted' });
  // The page's element the keyboard focus first came from into it, for the wasm to give
  // the focus back to once a choice takes the banner away (dom::Painted::remove).
  painted.addEventListener('focusin', function (event) {
    // Returned, not a statement: 2 B less (a listener's result is ignored).
    return painted.from ||= event.relatedTarget;
  });
  var root = add(painted, 'div', { 'class': 'assent ' + themeClass(), lang: locale.language, dir: locale.rtl ? 'rtl' : 'ltr' });
  var banner = add(root, 'section', { 'class': 'banner', 'aria-label': m[0] });
  var other = notice.language !== locale.language;
  add(banner, 'p', { 'class': 'summary', lang: other ? notice.language : null, dir: other ? 'auto' : null }, notice.summary);
  var actions = add(banner, 'div', { 'class': 'actions' });
  ['accept-all', 'decline-all', 'open'].forEach(function (action, i) {
    add(actions, 'button', { type: 'button', 'class': i < 2 ? 'choice' : 'more', 'data-action': action }, m[i + 1])
      .addEventListener('click', function (event) {
        // Only the visitor's own clicks count, as in the wasm (ui::is_trusted): the first
        // accept or decline (data-chosen then sorts before 'o'), even after an open, which
        // only waits for the wasm (null < 'o' is false).
        if (!event.isTrusted || painted.getAttribute('data-chosen') < 'o') return;
        painted.setAttribute('data-chosen', action);
        painted.hidden = action !== 'open';
        // Until the wasm opens the highlights, up to a second or two on a slow phone: the
        // button, not the banner, whose accept and decline still count meanwhile (a screen
        // reader may hold back a busy region's content).
        event.target.setAttribute('aria-busy', 'true');
        chose(action);
      });
  });
  performance.mark('assent:banner-visible');
  return painted;
}
