// Chromium from Debian, driven by playwright-core (never a browser download).
import { existsSync } from 'node:fs';

import { chromium } from 'playwright-core';

import { CHROMIUM as DEBIAN_CHROMIUM, CHROMIUM_ARGS } from '../../scripts/chromium.mjs';

export const CHROMIUM = process.env.ASSENT_E2E_CHROMIUM || DEBIAN_CHROMIUM;

/** Chromium, headless; `extraArgs` are added to its command line. */
export async function launchBrowser(extraArgs = []) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/setup.sh does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, '--disable-gpu', ...extraArgs],
  });
}

/**
 * Runs in every page before any of its scripts: keeps what the widget tells the host page
 * (`assent:change`, `assent:receipt`, `assent:error`, and their order) and every CSP
 * violation, for the test to read.
 */
export function recorderInitScript() {
  const seen = { changes: [], receipts: [], errors: [], violations: [], order: [] };
  Object.defineProperty(window, '__assentE2E', { value: seen });
  document.addEventListener('assent:change', (event) => {
    seen.changes.push(event.detail);
    seen.order.push(event.type);
  }, true);
  document.addEventListener('assent:receipt', (event) => {
    seen.receipts.push(event.detail);
    seen.order.push(event.type);
  }, true);
  document.addEventListener('assent:error', (event) => {
    seen.errors.push(event.detail);
  }, true);
  document.addEventListener('securitypolicyviolation', (event) => {
    seen.violations.push({
      directive: event.effectiveDirective || event.violatedDirective,
      blocked: event.blockedURI,
      sample: event.sample,
      source: event.sourceFile,
    });
  }, true);
}

/** Locators for the widget in `page` (Playwright's CSS locators pierce open shadow roots). */
export function widgetOf(page) {
  const host = page.locator('assent-host');
  // Every banner element, and the one a visitor sees: while the wasm's banner replaces the
  // painted one over a render that yields (a busy machine), both are in the shadow root,
  // the widget's own hidden (src/ui/highlights.css), so waits and clicks take the shown one.
  const banners = host.locator('section.banner');
  const banner = banners.filter({ visible: true });
  const dialog = host.locator('[role=dialog]');
  return {
    host,
    banner,
    banners,
    dialog,
    bannerButton: (action) => banner.locator(`button[data-action="${action}"]`),
    /**
     * Opens the preferences from the banner and closes them: the widget then runs (a first
     * click fetches its wasm) and shows its own banner, no longer the painted one.
     */
    runWithOwnBanner: async () => {
      await banner.locator('button[data-action="open"]').click();
      await dialog.waitFor({ state: 'visible' });
      await dialog.locator('[data-action="close"]').click();
      await banner.waitFor({ state: 'visible' });
    },
    dialogButton: (action) => dialog.locator(`[data-action="${action}"]`),
    toggle: (purpose) => dialog.locator(`li[data-purpose="${purpose}"] input`),
    preferences: () => page.evaluate(() => window.Assent.preferences()),
    seen: () => page.evaluate(() => ({
      changes: window.__assentE2E.changes,
      receipts: window.__assentE2E.receipts,
      errors: window.__assentE2E.errors,
      violations: window.__assentE2E.violations,
      order: window.__assentE2E.order,
    })),
    storage: (site, name) => page.evaluate(
      ([s, n]) => { try { return window.localStorage.getItem(`assent:v1:${s}:${n}`); } catch { return 'unreadable'; } },
      [site, name],
    ),
  };
}

/**
 * Holds the widget's wasm back in `page` until `release()`, so the banner the loader paints
 * can be looked at alone; `delivered()` says whether the browser has had the wasm yet.
 * Call before navigating.
 */
export async function holdWasm(page) {
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let delivered = false;
  let caught = false;
  await page.route('**/assent_bg.wasm', async (route) => {
    caught = true;
    await held;
    await route.continue();
    delivered = true;
  });
  // caught(): the page asked for the wasm and is kept waiting (a test that holds it must
  // show the hold took, or a page that got the wasm some other way would pass it too).
  return { release, delivered: () => delivered, caught: () => caught };
}

/** Waits until the widget runs: its wasm has taken over the banner the loader painted. */
export function widgetReady(page) {
  return page.waitForFunction(() => performance.getEntriesByName('assent:ready').length === 1);
}

