// What the browser specs share: Debian's chromium, launched headless as
// this machine allows, and the visitor they all test for — a low-end phone
// with JavaScript off, in English or in Urdu.

import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// A small screen, JavaScript off (every page must work without it).
export async function phone(browser, lang = 'en') {
  const ctx = await browser.newContext({
    viewport: { width: 360, height: 740 },
    javaScriptEnabled: false,
    locale: lang === 'ur' ? 'ur-PK' : 'en-GB',
    extraHTTPHeaders: { 'Accept-Language': lang === 'ur' ? 'ur-PK,ur;q=0.9' : 'en-GB,en;q=0.9' },
  });
  return ctx.newPage();
}
