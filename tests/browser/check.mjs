// Loads a ctaudit HTML page in headless Chromium (Debian's, driven by
// playwright-core) and prints, as JSON, what a test needs to judge it:
// console messages, page errors and every request the page made, the
// charts, tables and KPI figures it shows, whether sorting works, and how
// it lays out on a phone, in dark mode and in print. With a second
// argument, also saves a screenshot of its top at 1280 px.
//
//   node check.mjs PAGE.html [SCREENSHOT.png]
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const require = createRequire(process.env.PLAYWRIGHT_CORE_DIR
  ? path.resolve(process.env.PLAYWRIGHT_CORE_DIR, "package.json")
  : import.meta.url);
const { chromium } = require("playwright-core");

const [page_path, screenshot] = process.argv.slice(2);
const url = pathToFileURL(path.resolve(page_path)).href;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = { console: [], page_errors: [], requests: [] };
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
page.on("console", (m) => out.console.push({ type: m.type(), text: m.text() }));
page.on("pageerror", (e) => out.page_errors.push(String(e)));
page.on("request", (r) => { if (r.url() !== url) out.requests.push(r.url()); });
await page.goto(url, { waitUntil: "load" });

out.title = await page.title();
out.charts = await page.$$eval("figure.chart", (fs) => fs.map((f) => ({
  name: f.dataset.chart,
  svg: !!f.querySelector("svg"),
  shapes: f.querySelectorAll("svg rect, svg polyline, svg path, svg circle").length,
})));
out.tables = await page.$$eval("table", (ts) => ts.map((t) => ({
  name: t.dataset.table || "", rows: t.tBodies[0] ? t.tBodies[0].rows.length : 0,
})));
out.kpis = await page.$$eval("[data-kpi]", (ks) => Object.fromEntries(ks.map((k) => [
  k.dataset.kpi, { value: Number(k.dataset.value),
    previous: k.querySelector("[data-previous]") ? Number(k.querySelector("[data-previous]").dataset.previous) : null },
])));
out.verdicts = await page.$$eval("[data-verdict]", (vs) => Object.fromEntries(vs.map((v) => [v.dataset.report, v.dataset.verdict])));
out.text = await page.evaluate(() => document.body.innerText);
out.script_elements = await page.$$eval("body script", (s) => s.length);

// Sorting: click "calls" in the per-repository table twice.
if (await page.$('table[data-table="by-repository"]')) {
  const col = await page.$$eval('table[data-table="by-repository"] th', (ths) => ths.findIndex((t) => t.textContent === "calls"));
  const read = () => page.$$eval('table[data-table="by-repository"] tbody tr', (rows, i) => rows.map((r) => Number(r.cells[i].textContent)), col);
  const header = page.locator('table[data-table="by-repository"] th').nth(col);
  await header.click();
  const asc = await read();
  await header.click();
  const desc = await read();
  out.sort = { asc, desc };
}
// A phone: the page itself must not scroll sideways (tables scroll inside).
await page.setViewportSize({ width: 390, height: 844 });
out.phone_overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
// Dark and print styles apply.
await page.emulateMedia({ colorScheme: "dark" });
out.dark_background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
await page.emulateMedia({ colorScheme: "light", media: "print" });
out.print_font_size = await page.evaluate(() => getComputedStyle(document.body).fontSize);
await page.emulateMedia({ media: "screen" });
out.light_background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
if (screenshot) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: screenshot, clip: { x: 0, y: 0, width: 1280, height: 2000 }, fullPage: true });
}
await browser.close();
console.log(JSON.stringify(out));
