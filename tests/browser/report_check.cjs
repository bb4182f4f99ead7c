// Opens report pages in headless Chromium through puppeteer-core and checks what a reader meets:
// no console errors, failed requests or uncaught exceptions; every <img> decoded (naturalWidth > 0)
// with alt text that differs from its caption; every chart an SVG with role="img" and a <title>,
// with its numbers beside it (a table or a CSV link); no serious or critical axe-core violations.
// Keeps a full-page screenshot of each page.
// Usage: node report_check.cjs MODULES_DIR ARTIFACT_DIR PAGE.html...   (exit 1 on any failure)
'use strict';
const path = require('path');
const fs = require('fs');
const { createRequire } = require('module');

const [modulesDir, artifactDir, ...pages] = process.argv.slice(2);
if (!modulesDir || !artifactDir || pages.length === 0) {
  console.error('usage: node report_check.cjs MODULES_DIR ARTIFACT_DIR PAGE.html...');
  process.exit(2);
}
const load = createRequire(path.join(path.resolve(modulesDir), 'package.json'));
const puppeteer = load('puppeteer-core');
const axePath = load.resolve('axe-core/axe.min.js');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

async function checkPage(browser, file) {
  const failures = [];
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on('console', (m) => { if (m.type() === 'error') failures.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => failures.push(`uncaught exception: ${e.message}`));
  page.on('requestfailed', (r) => failures.push(`request failed: ${r.url().slice(0, 100)} (${r.failure()?.errorText})`));
  await page.goto('file://' + path.resolve(file), { waitUntil: 'load', timeout: 60000 });

  // Images: decoded, and described by alt text that is not the caption again.
  const images = await page.$$eval('img', (imgs) => imgs.map((img) => ({
    src: img.getAttribute('src').slice(0, 40), complete: img.complete, width: img.naturalWidth,
    alt: img.getAttribute('alt'), caption: img.closest('figure')?.querySelector('figcaption')?.textContent?.trim() ?? null,
  })));
  for (const i of images) {
    if (!i.complete || i.width === 0) failures.push(`image not decoded (naturalWidth ${i.width}): ${i.src}...`);
    if (!i.alt || !i.alt.trim()) failures.push(`image without alt text: ${i.src}...`);
    else if (i.caption !== null && i.alt.trim() === i.caption) failures.push(`image alt text repeats its caption: "${i.alt}"`);
  }

  // Charts: top-level SVGs are images with a title, and their numbers are on the page beside them.
  const charts = await page.$$eval('svg', (svgs) => svgs.filter((s) => !s.parentElement.closest('svg')).map((s) => {
    const title = s.querySelector(':scope > title');
    const figure = s.closest('figure');
    return {
      role: s.getAttribute('role'), title: title ? title.textContent.trim() : '',
      table: !!figure?.querySelector('table'), csv: !!figure?.querySelector('a[download][href^="data:text/csv"]'),
    };
  }));
  charts.forEach((c, k) => {
    const name = `chart ${k + 1}${c.title ? ` ("${c.title.slice(0, 60)}")` : ''}`;
    if (c.role !== 'img') failures.push(`${name}: <svg> without role="img"`);
    if (!c.title) failures.push(`${name}: <svg> without a <title>`);
    if (!c.table && !c.csv) failures.push(`${name}: no data table or CSV link beside it`);
  });

  // Accessibility: axe-core's rules (WCAG 2.x A/AA and best practices).
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                                      first: v.nodes[0]?.target?.join(' ') ?? '' }));
  });
  for (const v of result) {
    const line = `axe ${v.impact}: ${v.id} (${v.help}), ${v.nodes} element(s), first: ${v.first.slice(0, 120)}`;
    if (v.impact === 'serious' || v.impact === 'critical') failures.push(line);
    else console.log(`  note: ${line}`);
  }

  const shot = path.join(artifactDir, path.basename(path.dirname(path.resolve(file))) + '-' +
                         path.basename(file, '.html') + '.png');
  await page.screenshot({ path: shot, fullPage: true });
  await page.close();
  console.log(`${failures.length ? 'FAIL' : 'ok  '} ${file}: ${images.length} images, ${charts.length} charts, ` +
              `${result.length} axe violation(s) in all; screenshot ${shot}`);
  for (const f of failures) console.log(`  ${f}`);
  return failures.length;
}

(async () => {
  fs.mkdirSync(artifactDir, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: chromium, headless: true, protocolTimeout: 120000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--allow-file-access-from-files'],
  });
  let failures = 0;
  try {
    for (const file of pages) failures += await checkPage(browser, file);
  } finally {
    await browser.close();
  }
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.error(`FAIL: ${e.stack || e}`); process.exit(1); });
