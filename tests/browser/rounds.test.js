// Budgeting rounds in Debian's chromium (issue 7), run by
// crates/saanjh-web/tests/browser.rs beside pages.test.js with the same
// server and seed (SAANJH_URL, SAANJH_ROUND_VOTING, SAANJH_ROUND_COUNTED,
// SAANJH_PASSWORD).
//
// A resident on a cheap phone with JavaScript off finds the round in its
// voting phase from the list, ticks two proposals, gives a CNIC and votes
// through the real form; the same CNIC cannot vote twice. A citizen reads
// the counted round's results, with why each project won or lost, in
// English and in Urdu. The council's CCB official reaches the opening form.
// axe-core checks each of these pages (page weight is checked in
// browser.rs without a browser).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launch, phone as phoneOf } from './chromium.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const BASE = process.env.SAANJH_URL;
const VOTING = process.env.SAANJH_ROUND_VOTING;
const COUNTED = process.env.SAANJH_ROUND_COUNTED;
const PASSWORD = process.env.SAANJH_PASSWORD;
const SHOTS = process.env.SCREENSHOTS || '../../target/browser-screenshots';

if (!BASE || !VOTING || !COUNTED) throw new Error('run via `cargo test -p saanjh-web --test browser`');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const phone = (lang = 'en') => phoneOf(browser, lang);

async function axe(url, cookies = [], lang = 'en') {
  const ctx = await browser.newContext({
    viewport: { width: 360, height: 740 },
    extraHTTPHeaders: { 'Accept-Language': lang === 'ur' ? 'ur-PK,ur;q=0.9' : 'en-GB,en;q=0.9' },
  });
  if (cookies.length) await ctx.addCookies(cookies);
  const page = await ctx.newPage();
  await page.goto(url);
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => await window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  await ctx.close();
  const v = r.violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
  assert.deepEqual(v, [], `accessibility violations on ${url}`);
}

test('a resident finds the round in voting and votes through the form', async () => {
  const p = await phone('en');
  await p.goto(`${BASE}/rounds`);
  await Promise.all([p.waitForURL(`${BASE}/rounds/${VOTING}`), p.click(`a[href="/rounds/${VOTING}"]`)]);
  assert.equal((await p.textContent('#phase')).trim(), 'voting');
  assert.equal((await p.textContent('#ballot-count')).trim(), '0');
  // The rejected proposal is listed with its reason but not on the ballot.
  assert.match(await p.textContent('#proposal-4'), /Pakistan Railways/);
  assert.equal(await p.$('#form-vote input[name="approve"][value="4"]'), null);
  assert.equal(await p.$('#form-paper'), null, 'no paper-ballot form for the public');
  await p.check('#form-vote input[name="approve"][value="1"]');
  await p.check('#form-vote input[name="approve"][value="3"]');
  await p.selectOption('#v-uc', 'UC-14 Kotla Mahram');
  await p.fill('#v-cnic', '36603-7654321-1');
  await Promise.all([p.waitForLoadState('load'), p.click('#form-vote button[type=submit]')]);
  assert.ok(await p.$('#done'), `the vote was not taken: ${await p.textContent('main')}`);
  assert.equal((await p.textContent('#ballot-count')).trim(), '1');
  await p.screenshot({ path: `${SHOTS}/round-voted.png`, fullPage: true });
  // The same CNIC again: refused on the round's page, nothing counted.
  await p.check('#form-vote input[name="approve"][value="2"]');
  await p.selectOption('#v-uc', 'UC-14 Kotla Mahram');
  await p.fill('#v-cnic', '36603-7654321-1');
  await Promise.all([p.waitForLoadState('load'), p.click('#form-vote button[type=submit]')]);
  assert.match(await p.textContent('#error'), /already voted/);
  assert.equal((await p.textContent('#ballot-count')).trim(), '1');
  await p.context().close();
});

test('a citizen reads the results and why each project won or lost, in English and Urdu', async () => {
  const en = await phone('en');
  await en.goto(`${BASE}/rounds/${COUNTED}`);
  await Promise.all([en.waitForURL(`${BASE}/rounds/${COUNTED}/results`), en.click(`a[href="/rounds/${COUNTED}/results"]`)]);
  const rows = await en.$$eval('#winners tbody tr, #losers tbody tr', (r) => r.map((x) => x.textContent));
  assert.equal(rows.length, 3, 'every proposal on the ballot has a line');
  for (const r of rows) assert.match(r, /bought at step|supporters together held only|no voter supported|leftover|equal shares left/);
  await en.screenshot({ path: `${SHOTS}/round-results.png`, fullPage: true });
  await en.context().close();

  const ur = await phone('ur');
  await ur.goto(`${BASE}/lang/ur?back=${encodeURIComponent(`/rounds/${COUNTED}/results`)}`);
  await ur.waitForURL(`${BASE}/rounds/${COUNTED}/results`);
  assert.equal(await ur.getAttribute('html', 'dir'), 'rtl');
  const why = await ur.$$eval('#winners tbody tr td:last-child, #losers tbody tr td:last-child', (c) => c.map((x) => x.textContent));
  assert.equal(why.length, 3);
  for (const w of why) {
    assert.doesNotMatch(w, /[A-Za-z]{3,}/, `an English reason on the Urdu page: ${w}`);
    assert.match(w, /[\u0600-\u06FF]/);
  }
  await ur.screenshot({ path: `${SHOTS}/round-results-ur.png`, fullPage: true });
  await ur.context().close();
});

test('the CCB official reaches the opening form', async () => {
  const p = await phone('en');
  await p.goto(`${BASE}/login`);
  await p.fill('#username', 'convenor');
  await p.fill('#password', PASSWORD);
  await Promise.all([p.waitForURL(/\/(work|admin)/), p.click('form[action="/login"] button[type=submit]')]);
  await p.goto(`${BASE}/rounds`);
  await Promise.all([p.waitForURL(`${BASE}/rounds/new`), p.click('#open-round')]);
  assert.match(await p.textContent('#o-council'), /District Council Lodhran/);
  const cookies = await p.context().cookies();
  await axe(`${BASE}/rounds/new`, cookies);
  await p.context().close();
});

test('the round pages pass axe-core', async () => {
  const ur = [{ name: 'lang', value: 'ur', url: BASE }];
  for (const path of ['/rounds', `/rounds/${VOTING}`, `/rounds/${COUNTED}`, `/rounds/${COUNTED}/results`]) {
    await axe(`${BASE}${path}`);
    await axe(`${BASE}${path}`, ur, 'ur');
  }
});
