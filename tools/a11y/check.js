// Runs axe-core's WCAG 2.1 A and AA rules on the portal's pages, in Chinese and
// in English, at a phone's width, in Debian's Chromium (no downloaded browser).
// Usage: node check.js BASE_URL   (scripts/a11y starts a server and calls this)
const { chromium } = require("playwright-core");
const fs = require("fs");

const base = process.argv[2] || "http://127.0.0.1:8000";
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const pages = [
  "/",
  "/2023/chapters/capital-functions/",
  "/2023/indicators/",
  "/2023/indicators/c4-park-500m-coverage/",
  "/2023/indicators/c5-hotline-monthly-calls-phone/",
  "/2023/stories/?kind=best_alley",
  "/2023/stories/best-alley-dongbuyaqiao-hutong/",
  "/search/?q=%E5%85%AC%E5%9B%AD",
  "/survey/",
  "/my-data/",
  "/privacy/",
  "/review/login/",
];

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 390, height: 900 } });
  let failures = 0;
  for (const language of ["zh-hans", "en"]) {
    await page.context().addCookies([{ name: "django_language", value: language, url: base }]);
    for (const path of pages) {
      const response = await page.goto(base + path);
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(() =>
        axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }));
      const problems = result.violations.map(
        (v) => `${v.id} ×${v.nodes.length} (${v.nodes[0].target.join(" ")})`);
      if (response.status() !== 200 || problems.length) failures += 1;
      console.log(`${response.status()} ${language} ${path}: ${problems.join("; ") || "no violations"}`);
    }
  }
  await browser.close();
  console.log(failures ? `${failures} page(s) with problems` : "all pages pass WCAG 2.1 A/AA rules of axe-core");
  process.exit(failures ? 1 : 0);
})();
