// Citizens' reports and community scorecards in Debian's chromium (issue 5),
// run by crates/saanjh-web/tests/browser.rs beside pages.test.js with the
// same server and seed (SAANJH_URL, SAANJH_INITIATIVE, SAANJH_PASSWORD).
//
// A citizen on a phone with JavaScript off reports a blocked lane sewer from
// the scheme's page without signing in; the lane manager answers it from the
// report's page; the NGO organiser holds a scorecard round through its forms.
// axe-core checks the new pages, public and signed in, and each public page
// is under 30 KB compressed as the browser receives it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launch, phone as phoneOf } from './chromium.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const BASE = process.env.SAANJH_URL;
const INIT = process.env.SAANJH_INITIATIVE;
const PASSWORD = process.env.SAANJH_PASSWORD;
const SHOTS = process.env.SCREENSHOTS || '../../target/browser-screenshots';

if (!BASE) throw new Error('SAANJH_URL is not set: run via `cargo test -p saanjh-web --test browser`');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const phone = (lang = 'en') => phoneOf(browser, lang);

async function axe(url, cookies = []) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
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

async function login(page, user) {
  await page.goto(`${BASE}/login`);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/(work|admin)/), page.click('form[action="/login"] button[type=submit]')]);
}

async function submit(page, form) {
  await Promise.all([page.waitForLoadState('load'), page.click(`${form} button[type=submit]`)]);
}

let scheme;
let report;

test('a citizen reports a problem from the scheme page, and the lane manager answers', async () => {
  // The lane asks for a scheme; its lane manager answers the lane's reports.
  const t = await phone('en');
  await login(t, 'manager');
  await t.goto(`${BASE}/initiatives/${INIT}/new`);
  await t.fill('#form-request [name="name"]', 'Street 12, lane C');
  await Promise.all([t.waitForURL(/\/acts\?done=request/), t.click('#form-request button[type=submit]')]);
  scheme = t.url().match(/\/schemes\/([^/]+)\/acts/)[1];

  // A citizen, not signed in, JavaScript off.
  const c = await phone('en');
  await c.goto(`${BASE}/schemes/${scheme}`);
  await Promise.all([c.waitForURL(/\/report$/), c.click('#report-link')]);
  await c.check('#svc-blocked_lane_sewer');
  await c.selectOption('#blocked_lane_sewer-manhole_overflowing', 'yes');
  await c.fill('#r-description', 'The manhole outside the mosque overflows every morning.');
  await c.fill('#r-address', 'Street 12, near the mosque');
  await c.fill('#r-name', 'Kausar Private');
  await c.fill('#r-phone', '0300 7654321');
  await submit(c, '#form-report');
  assert.ok(await c.$('#done'), await c.textContent('main'));
  report = c.url().match(/\/reports\/([^/?]+)/)[1];
  assert.equal((await c.textContent('#status')).trim(), 'open');
  const text = await c.textContent('main');
  assert.match(text, /Street 12 lane organisation/, 'sent to the lane by the scope rule');
  assert.match(text, /components\.lane_sewer/);
  assert.doesNotMatch(text, /Kausar|0300/, 'the reporter is never shown');
  assert.equal(await c.$$eval('form[method=post]', (f) => f.length), 0, 'no form for the public');
  await c.screenshot({ path: `${SHOTS}/report-public.png`, fullPage: true });

  // The lane manager answers from the same page.
  await t.goto(`${BASE}/reports/${report}`);
  await t.selectOption('#respond-status', 'closed');
  await t.fill('#respond-note', 'Cleared on site; the residents confirmed it flows.');
  await submit(t, '#form-respond');
  assert.equal((await t.textContent('#status')).trim(), 'closed');
  await c.goto(`${BASE}/reports/${report}`);
  assert.match(await c.textContent('#updates'), /Cleared on site/);
  await c.goto(`${BASE}/initiatives/${INIT}/reports`);
  assert.ok(await c.$(`a[href="/reports/${report}"]`));
  await t.context().close();
  await c.context().close();
});

test('the NGO organiser holds a scorecard round through the pages', async () => {
  assert.ok(scheme, 'runs after the report scenario');
  const o = await phone('en');
  await login(o, 'organiser');
  await o.goto(`${BASE}/schemes/${scheme}/scorecards`);
  await o.fill('#o-service', 'the lane sewer as residents receive it');
  await o.fill('#o-criteria', 'flow: the sewer flows after rain\ncleanliness: the lane is kept clean');
  await submit(o, '#form-open-round');
  assert.ok(await o.$('#done'));
  const round = (await o.getAttribute('section[id^="round-"]', 'id')).replace(/^round-/, '');
  for (const [group, party, flow, clean] of [['women', 'users', '2, 3, 3', '2, 2'], ['men', 'users', '4, 4', '3'], ['providers', 'providers', '5', '4']]) {
    await o.fill(`#g-${round}`, group);
    await o.selectOption(`#p-${round}`, party);
    await o.fill(`#s-${round}-flow`, flow);
    await o.fill(`#s-${round}-cleanliness`, clean);
    await submit(o, `#scores-${round}`);
    assert.ok(await o.$('#done'), await o.textContent('main'));
  }
  await o.fill(`#a-${round}`, 'Clean the collector every Friday');
  await o.selectOption(`#w-${round}`, 'community.lane_manager');
  await o.fill(`#d-${round}`, '2030-01-31');
  await submit(o, `#actions-${round}`);
  const text = await o.textContent('main');
  assert.match(text, /Clean the collector every Friday/);
  assert.match(text, /3\.3/, "users' flow score: the mean of the groups' means");
  assert.ok(await o.$('#chart svg'));
  await o.screenshot({ path: `${SHOTS}/scorecards.png`, fullPage: true });
  await o.context().close();
});

test('the report and scorecard pages pass axe-core and stay under 30 KB', async () => {
  assert.ok(report, 'runs after the report scenario');
  const pub = [`/reports/${report}`, `/initiatives/${INIT}/reports`, `/schemes/${scheme}/report`, `/schemes/${scheme}/scorecards`];
  for (const path of pub) await axe(`${BASE}${path}`);
  await axe(`${BASE}/schemes/${scheme}/report`, [{ name: 'lang', value: 'ur', url: BASE }]);
  await axe(`${BASE}/schemes/${scheme}/scorecards`, [{ name: 'lang', value: 'ur', url: BASE }]);
  // Signed in: the forms themselves.
  const o = await phone('en');
  await login(o, 'organiser');
  const cookies = await o.context().cookies();
  await axe(`${BASE}/schemes/${scheme}/scorecards`, cookies);
  await axe(`${BASE}/initiatives/${INIT}/reports`, cookies);
  await o.context().close();
  const p = await phone('en');
  for (const path of pub) {
    const resp = await p.goto(`${BASE}${path}`);
    const enc = (await resp.allHeaders())['content-encoding'];
    assert.ok(enc === 'gzip' || enc === 'br' || enc === 'zstd', `${path} is compressed (${enc})`);
    const sizes = await resp.request().sizes();
    assert.ok(sizes.responseBodySize < 30 * 1024, `${path}: ${sizes.responseBodySize} bytes`);
  }
  await p.context().close();
});
