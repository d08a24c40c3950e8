// Accessibility, checked as people use the widget: axe-core (WCAG 2.0/2.1/2.2 A and AA
// rules) finds no violation on the banner the loader paints, the widget's own, or the open
// preferences, in English, German and
// Arabic (right to left), light and dark, desktop and phone width, and at 320 px in forced
// colours (where nothing may scroll sideways), with the page's main heading never under
// the banner, and nothing moving, reduced motion or not; the preferences are a modal dialog (the
// page behind is inert, Escape closes it, focus returns to what opened it); and a keyboard
// alone declines, then opens the preferences, changes a toggle with Space and saves, as
// the records show, every stop showing its focus ring uncovered.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { holdWasm, widgetReady } from '../harness/browser.js';
import { OPTIONAL, SITE, eventually, setupSuite } from '../harness/world.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const world = setupSuite();

/** axe's violations on the page (it reads the widget's open shadow root), summarised. */
async function violations(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/**
 * The widget's focused element, if focus is in the widget: whether its focus ring shows
 * (WCAG 2.4.7), its contrast with what it is drawn on (1.4.11 asks 3:1), and whether
 * anything covers its centre (2.4.11, Focus Not Obscured).
 */
function focusInWidget() {
  const element = document.activeElement?.shadowRoot?.activeElement;
  if (!element) return null;
  const rgb = (text) => {
    const m = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(text);
    return m && Number(m[4] ?? 1) > 0 ? [m[1], m[2], m[3]].map(Number) : null;
  };
  const luminance = (channels) => {
    const [r, g, b] = channels.map((c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  // The ring is drawn outside the element (outline-offset), on the nearest background behind it.
  let behind = null;
  for (let node = element.parentElement; node && !behind; node = node.parentElement ?? node.getRootNode().host) {
    behind = rgb(getComputedStyle(node).backgroundColor);
  }
  const ring = rgb(getComputedStyle(element).outlineColor);
  const [light, dark] = [luminance(ring ?? [0, 0, 0]), luminance(behind ?? [255, 255, 255])].sort((a, b) => b - a);
  // The first line box: an inline link that wraps has no ink at its bounding box's centre.
  const box = element.getClientRects()[0] ?? element.getBoundingClientRect();
  const x = box.left + box.width / 2;
  const y = box.top + box.height / 2;
  const onTop = document.activeElement.shadowRoot.elementFromPoint(x, y);
  return {
    what: `${element.tagName.toLowerCase()}${element.dataset.action ? `[data-action=${element.dataset.action}]` : ''}`,
    ring: getComputedStyle(element).outlineStyle !== 'none',
    ringContrast: ring ? Math.round(((light + 0.05) / (dark + 0.05)) * 100) / 100 : null,
    inView: y >= 0 && y <= innerHeight && x >= 0 && x <= innerWidth,
    onTop: onTop ? `${onTop.tagName.toLowerCase()}.${onTop.className}` : null,
    uncovered: onTop === element || element.contains(onTop) || (element.labels?.[0]?.contains(onTop) ?? false),
  };
}

/**
 * Presses Tab until `focused(widgetActiveElement)` holds (at most `limit` presses); every
 * stop in the widget on the way must show its focus ring, in view and uncovered.
 */
async function tabUntil(page, focused, limit = 40) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(focusInWidget);
    if (focus) {
      assert.ok(focus.ring, `${focus.what} shows a focus ring`);
      assert.ok(focus.ringContrast >= 3, `${focus.what}'s focus ring stands 3:1 against what it is drawn on: ${focus.ringContrast}`);
      assert.ok(focus.inView && focus.uncovered, `${focus.what} is in view and not covered: ${JSON.stringify(focus)}`);
    }
    const found = await page.evaluate(`(${focused})(document.activeElement?.shadowRoot?.activeElement)`);
    if (found) return;
  }
  throw new Error(`nothing matching ${focused} took focus in ${limit} presses of Tab`);
}

/** Whether the banner covers any of the page's main heading. */
async function bannerCoversHeading(page, w) {
  const banner = await w.banner.boundingBox();
  const heading = await page.locator('main h1').boundingBox();
  return banner.y < heading.y + heading.height && heading.y < banner.y + banner.height
    && banner.x < heading.x + heading.width && heading.x < banner.x + banner.width;
}

/** A host page with a `data-assent-open` link (and `extra` HTML), its banner shown. */
/**
 * Enter on the banner's focused open button, then Escape once the preferences show: the
 * data-action of the widget's element that has the focus after, with the banner back.
 */
async function enterThenEscape(page, w) {
  await page.keyboard.press('Enter');
  await w.dialog.waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });
  await w.banner.waitFor({ state: 'visible' });
  return page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.dataset.action ?? null);
}

async function pageWithOpener(s, extra = '') {
  const page = await s.open(s.localhost.page({
    site: SITE, endpoint: s.collector.endpoint,
    bodyHtml: `<p><a href="#privacy" id="privacy-choices" data-assent-open>Privacy choices</a>${extra}</p>`,
  }));
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  return { page, w };
}

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

for (const language of ['en', 'de', 'ar']) {
  for (const scheme of ['light', 'dark']) {
    for (const [device, viewport] of Object.entries(VIEWPORTS)) {
      world.scenario(`axe finds no WCAG A/AA violation: banner and preferences, ${language}, ${scheme}, ${device}`, async (s) => {
        const page = await s.context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize(viewport);
        const { release } = await holdWasm(page);
        await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: language }), { waitUntil: 'load' });
        const w = s.ui(page);
        await w.banner.waitFor({ state: 'visible' });
        assert.deepEqual(await violations(page), [], 'the banner the loader paints');
        // The widget's own banner: the preferences opened from the painted one, and closed.
        await w.bannerButton('open').click();
        release();
        await w.dialog.waitFor({ state: 'visible' });
        assert.deepEqual(await violations(page), [], 'the open preferences');
        await w.dialogButton('close').click();
        await w.banner.waitFor({ state: 'visible' });
        await widgetReady(page);
        const root = w.host.locator('.assent');
        assert.equal(await root.getAttribute('lang'), language, 'the widget speaks the page\'s language');
        assert.equal(await root.getAttribute('dir'), language === 'ar' ? 'rtl' : 'ltr');
        assert.equal(await bannerCoversHeading(page, w), false, 'the banner leaves the main heading uncovered');
        assert.deepEqual(await violations(page), [], 'the widget\'s banner');
      });
    }
  }
}

world.scenario('a brand set by the host page (--assent-* on :root) is used, and axe still finds nothing', async (s) => {
  const brand = '<style>:root { --assent-accent: #b3122e; --assent-radius: 2px; --assent-font: Georgia, serif; '
    + '--assent-dark-accent: #ff8a9a; }</style>';
  for (const scheme of ['light', 'dark']) {
    const page = await s.context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, headHtml: brand }), { waitUntil: 'load' });
    const w = s.ui(page);
    await w.banner.waitFor({ state: 'visible' });
    const button = w.bannerButton('accept-all');
    const style = await button.evaluate((b) => {
      const c = getComputedStyle(b);
      return { color: c.color, radius: c.borderTopLeftRadius, font: c.fontFamily };
    });
    assert.equal(style.color, scheme === 'light' ? 'rgb(179, 18, 46)' : 'rgb(255, 138, 154)', `${scheme}: the brand's accent`);
    assert.equal(style.radius, '2px');
    assert.match(style.font, /Georgia/);
    assert.deepEqual(await violations(page), [], `${scheme}: the banner with the brand`);
    await w.bannerButton('open').click();
    await w.dialog.waitFor({ state: 'visible' });
    assert.deepEqual(await violations(page), [], `${scheme}: the preferences with the brand`);
    await page.close();
  }
});

/**
 * Presses Tab `count` times on a long host page while the banner shows; returns the page's
 * links that took the focus behind the banner (WCAG 2.4.11), after checking that the focus
 * reached at least `atLeast` of them (else nothing would have been checked).
 */
async function linksHiddenByBanner(page, w, count, atLeast = 20) {
  const hidden = [];
  const reached = new Set();
  for (let i = 0; i < count; i++) {
    const id = await page.evaluate(() => document.activeElement?.id);
    await page.keyboard.press('Tab');
    const now = await page.evaluate(() => document.activeElement?.id);
    if (!now?.startsWith('host-link-') || now === id) continue;
    reached.add(now);
    const link = await page.locator(`#${now}`).boundingBox();
    const banner = await w.banner.boundingBox();
    // The padding is the banner's offsetHeight, a whole number of pixels: a banner 242.25 px
    // high leaves a link scrolled above it under its top edge by a quarter of a pixel.
    if (link.y + link.height > banner.y + 0.5) hidden.push(now);
  }
  assert.ok(reached.size >= atLeast, `the focus reached ${reached.size} of the page's links`);
  return hidden;
}

world.scenario('the host page\'s links, reached with Tab, are never behind the banner (painted or the widget\'s), and the page is left as it was once it goes', async (s) => {
  const links = Array.from({ length: 30 }, (_, i) => `<p style="margin:0;height:48px"><a id="host-link-${i}" href="#${i}">Host link ${i}</a></p>`).join('');
  const page = await s.context.newPage();
  await page.setViewportSize({ width: 390, height: 700 });
  await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, bodyHtml: links }), { waitUntil: 'load' });
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  const padding = () => page.evaluate(() => document.documentElement.style.scrollPaddingBottom);
  const height = async () => `${Math.round((await w.banner.boundingBox()).height)}px`;
  assert.equal(await padding(), await height(), 'a scroll padding of the painted banner\'s height');
  assert.equal(`${Math.round(await w.host.evaluate((host) => host.getBoundingClientRect().height))}px`, await height(),
    'the host element makes that much room at the page\'s end');
  assert.deepEqual(await linksHiddenByBanner(page, w, 40), [], 'the painted banner hides no focused link');

  await w.runWithOwnBanner();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.locator('#host-link-0').focus();
  assert.equal(await padding(), await height(), 'a scroll padding of the widget\'s banner\'s height');
  assert.deepEqual(await linksHiddenByBanner(page, w, 40), [], 'the widget\'s banner hides no focused link');

  await w.bannerButton('accept-all').click();
  await w.banners.waitFor({ state: 'detached' });
  await eventually('the scroll padding removed', async () => (await padding()) === '');
  assert.equal(await w.host.evaluate((host) => host.getBoundingClientRect().height), 0, 'the host element takes no room');
});

world.scenario('400 % zoom (320 x 256 CSS px), in French: the banner takes at most half the viewport, and the page\'s links reached with Tab are never behind it', async (s) => {
  const links = Array.from({ length: 30 }, (_, i) => `<p style="margin:0;height:48px"><a id="host-link-${i}" href="#${i}">Host link ${i}</a></p>`).join('');
  const page = await s.context.newPage();
  await page.setViewportSize({ width: 320, height: 256 });
  await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: 'fr', bodyHtml: links }), { waitUntil: 'load' });
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  const half = async (what) => {
    const box = await w.banner.boundingBox();
    assert.ok(box.height <= 128 && box.y >= 128, `${what} in the viewport's lower half: ${JSON.stringify(box)}`);
  };
  await half('the painted banner');
  assert.deepEqual(await linksHiddenByBanner(page, w, 40), [], 'the painted banner hides no focused link');
  await w.runWithOwnBanner();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.locator('#host-link-0').focus();
  await half('the widget\'s banner');
  assert.deepEqual(await linksHiddenByBanner(page, w, 40), [], 'the widget\'s banner hides no focused link');
});

world.scenario('320 px wide and in forced colours: nothing scrolls sideways, both fit, axe still finds nothing', async (s) => {
  const page = await s.context.newPage();
  await page.setViewportSize({ width: 320, height: 640 });
  await page.emulateMedia({ forcedColors: 'active' });
  await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }), { waitUntil: 'load' });
  const w = s.ui(page);
  const fits = async (locator, what) => {
    const box = await locator.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 320, `${what} within 320 px: ${JSON.stringify(box)}`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(sideways, 0, `no horizontal scrolling with ${what} shown`);
  };
  await w.banner.waitFor({ state: 'visible' });
  await fits(w.banner, 'the banner');
  assert.equal(await bannerCoversHeading(page, w), false, 'the banner leaves the main heading uncovered');
  assert.deepEqual(await violations(page), [], 'the banner, forced colours');
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  await fits(w.dialog, 'the preferences');
  assert.deepEqual(await violations(page), [], 'the preferences, forced colours');
});

/**
 * Whether the element `selector` finds in the widget, scrolled into view, is what the
 * visitor hits at its centre: on screen, not clipped away by a box too small to show it.
 */
async function reachable(page, selector) {
  return page.evaluate((selector) => {
    const root = document.querySelector('assent-host').shadowRoot;
    const element = root.querySelector(selector);
    element.scrollIntoView({ block: 'nearest' });
    const box = element.getBoundingClientRect();
    const hit = root.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return hit === element || element.contains(hit);
  }, selector);
}

world.scenario('400 % zoom of a 1280 x 1024 window (320 x 256 CSS px), in French: the banner and every control of the preferences can be reached', async (s) => {
  const page = await s.context.newPage();
  await page.setViewportSize({ width: 320, height: 256 });
  await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint, lang: 'fr' }), { waitUntil: 'load' });
  const w = s.ui(page);
  await w.banner.waitFor({ state: 'visible' });
  const inView = async (what) => {
    const box = await w.banner.boundingBox();
    assert.ok(box.y >= 0 && box.y + box.height <= 256, `${what} within the viewport: ${JSON.stringify(box)}`);
  };
  await inView('the painted banner');
  assert.ok(await reachable(page, '.banner .summary'), 'the painted banner\'s summary');
  await w.runWithOwnBanner();
  await inView('the widget\'s banner');
  for (const action of ['accept-all', 'decline-all', 'open']) {
    assert.ok(await reachable(page, `.banner [data-action="${action}"]`), `the banner's ${action}`);
  }
  await w.bannerButton('open').click();
  await w.dialog.waitFor({ state: 'visible' });
  const controls = [
    '#assent-title', '[data-action="close"]', '.notice .introduction',
    ...OPTIONAL.map((id) => `li[data-purpose="${id}"] input`),
    '[role=dialog] [data-action="save"]',
  ];
  for (const selector of controls) assert.ok(await reachable(page, selector), `${selector} in the preferences`);
  assert.deepEqual(await violations(page), [], 'axe, at 400 %');
});

/** Elements of the widget that move: a transition or animation of any length. */
function moving() {
  const all = [...document.querySelector('assent-host').shadowRoot.querySelectorAll('*')];
  return all.filter((element) => {
    const style = getComputedStyle(element);
    const durations = `${style.transitionDuration}, ${style.animationDuration}`.split(', ');
    return durations.some((d) => parseFloat(d) > 0);
  }).map((element) => [element.localName, element.getAttribute('class')].filter(Boolean).join('.'));
}

world.scenario('motion: nothing in the widget moves, with or without reduced motion', async (s) => {
  for (const reducedMotion of ['reduce', 'no-preference']) {
    const page = await s.context.newPage();
    await page.emulateMedia({ reducedMotion });
    await page.goto(s.localhost.page({ site: SITE, endpoint: s.collector.endpoint }), { waitUntil: 'load' });
    const w = s.ui(page);
    await w.banner.waitFor({ state: 'visible' });
    assert.deepEqual(await page.evaluate(moving), [], `the painted banner, ${reducedMotion}`);
    await w.runWithOwnBanner();
    assert.deepEqual(await page.evaluate(moving), [], `the widget's banner, ${reducedMotion}`);
    await w.bannerButton('open').click();
    await w.dialog.waitFor({ state: 'visible' });
    assert.deepEqual(await page.evaluate(moving), [], `the preferences, ${reducedMotion}`);
    await page.close();
  }
});

world.scenario('the preferences are modal: the page behind is inert, Escape closes them, focus returns', async (s) => {
  const { page, w } = await pageWithOpener(s, ' <button id="behind">Behind</button>');
  await page.locator('#privacy-choices').focus();
  await page.keyboard.press('Enter');
  await w.dialog.waitFor({ state: 'visible' });
  const inert = await page.evaluate(() => {
    const behind = document.getElementById('behind');
    behind.focus();
    return document.activeElement !== behind;
  });
  assert.ok(inert, 'the page behind takes no focus while the preferences are open');
  for (let i = 0; i < 30; i += 1) {
    await page.keyboard.press('Tab');
    // In the dialog itself, not only in the widget (whose banner is behind the dialog).
    const inside = await page.evaluate(() => {
      const host = document.querySelector('assent-host');
      return document.activeElement === host && !!host.shadowRoot.activeElement?.closest('[role=dialog]');
    });
    const nowhere = await page.evaluate(() => document.activeElement === document.body);
    assert.ok(inside || nowhere, `Tab ${i + 1} stays in the preferences (or the browser's own UI)`);
  }
  await page.keyboard.press('Escape');
  await w.dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'privacy-choices', 'focus returns to the opener');
});

world.scenario('opened from the banner with the keyboard, the preferences close with Escape back to the banner, with focus on the button that opened them', async (s) => {
  const { page, w } = await pageWithOpener(s);
  await w.runWithOwnBanner();
  await page.locator('body').focus();
  await tabUntil(page, (element) => element?.dataset?.action === 'open');
  assert.equal(await enterThenEscape(page, w), 'open', 'focus is back on the banner\'s button');
});

// A first visit: the banner the keyboard reaches is the loader's painted one, which the
// widget's own replaces as the dialog opens; Escape must still land on a button of the
// banner shown, not on the page's body.
world.scenario('opened from the painted banner with the keyboard, the preferences close with Escape onto the widget\'s own banner button', async (s) => {
  const { page, w } = await pageWithOpener(s);
  await page.locator('body').focus();
  await tabUntil(page, (element) => element?.dataset?.action === 'open');
  assert.equal(await page.evaluate(() => !!document.querySelector('assent-host').shadowRoot.activeElement?.closest('.painted')), true,
    'the painted banner has the focus');
  assert.equal(await enterThenEscape(page, w), 'open', 'focus is on the banner\'s button that opened them');
});

for (const scheme of ['light', 'dark']) {
  world.scenario(`${scheme} theme: every focus ring in the banner and the preferences stands 3:1 against what it is drawn on`, async (s) => {
    const { page, w } = await pageWithOpener(s);
    await page.emulateMedia({ colorScheme: scheme });
    await w.runWithOwnBanner();
    await page.locator('body').focus();
    await tabUntil(page, (element) => element?.dataset?.action === 'open');
    await page.keyboard.press('Enter');
    await w.dialog.waitFor({ state: 'visible' });
    await tabUntil(page, (element) => element?.dataset?.action === 'save');
  });
}

// A choice takes away what had the focus (the banner's button, and with the preferences
// opened from the banner, their opener too): the focus goes back to the page's element it
// came from, not to the page's start (WCAG 2.4.3).
for (const [how, choose] of [
  ['with the banner\'s decline', async (page) => {
    await tabUntil(page, (element) => element?.dataset?.action === 'decline-all');
    await page.keyboard.press('Enter');
  }],
  ['with a save in the preferences opened from the banner', async (page, w) => {
    await tabUntil(page, (element) => element?.dataset?.action === 'open');
    await page.keyboard.press('Enter');
    await w.dialog.waitFor({ state: 'visible' });
    await tabUntil(page, (element) => element?.dataset?.action === 'save');
    await page.keyboard.press('Enter');
  }],
]) {
  world.scenario(`a choice made ${how} gives the focus back to the page's element it came from`, async (s) => {
    const { page, w } = await pageWithOpener(s);
    await w.runWithOwnBanner();
    await page.locator('#privacy-choices').focus();
    await choose(page, w);
    await w.banners.waitFor({ state: 'detached' });
    await eventually('the focus back on the page\'s link', async () => (await page.evaluate(() => document.activeElement?.id)) === 'privacy-choices');
    await s.collector.waitForRecords({ count: 1 });
  });
}

// A first visit: the keyboard reaches the loader's painted banner, which the widget's own
// replaces as the preferences open; where the focus came from into the painted one is
// where a choice gives it back.
for (const [how, choose] of [
  ['a save in the preferences opened from the painted banner', async (page, w) => {
    await page.keyboard.press('Enter');
    await w.dialog.waitFor({ state: 'visible' });
    await tabUntil(page, (element) => element?.dataset?.action === 'save');
    await page.keyboard.press('Enter');
  }],
  ['the widget\'s decline, after the preferences opened from the painted banner closed with Escape', async (page, w) => {
    assert.equal(await enterThenEscape(page, w), 'open');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.dataset.action), 'decline-all');
    await page.keyboard.press('Enter');
  }],
]) {
  world.scenario(`${how} gives the focus back to the page's element it came from`, async (s) => {
    const { page, w } = await pageWithOpener(s);
    await page.locator('#privacy-choices').focus();
    await tabUntil(page, (element) => element?.dataset?.action === 'open');
    assert.equal(await page.evaluate(() => !!document.querySelector('assent-host').shadowRoot.activeElement?.closest('.painted')), true,
      'the painted banner has the focus');
    await choose(page, w);
    await w.banners.waitFor({ state: 'detached' });
    await eventually('the focus back on the page\'s link', async () => (await page.evaluate(() => document.activeElement?.id)) === 'privacy-choices');
    await s.collector.waitForRecords({ count: 1 });
  });
}

world.scenario('keyboard only: decline, then open the preferences, turn one on with Space, save', async (s) => {
  const { page, w } = await pageWithOpener(s);
  // Tab from the top of the page until the banner's decline button has focus.
  await page.locator('body').focus();
  await tabUntil(page, (element) => element?.dataset?.action === 'decline-all', 12);
  await page.keyboard.press('Enter');
  const [declined] = await s.collector.waitForRecords({ count: 1 });
  assert.ok(declined.purposes.filter((p) => p.basis === 'consent').every((p) => p.state === 'denied'));

  await page.locator('#privacy-choices').focus();
  await page.keyboard.press('Enter');
  await w.dialog.waitFor({ state: 'visible' });
  await tabUntil(page, (element) => element?.closest('li')?.dataset?.purpose === 'updates');
  await page.keyboard.press('Space');
  assert.equal(await w.toggle('updates').isChecked(), true, 'Space turns the focused toggle on');
  await tabUntil(page, (element) => element?.dataset?.action === 'save');
  await page.keyboard.press('Enter');
  const records = await s.collector.waitForRecords({ count: 2 });
  assert.equal(records[1].purposes.find((p) => p.purpose === 'updates').state, 'granted');
  assert.equal(records[1].purposes.find((p) => p.purpose === 'new_products').state, 'denied');
});
