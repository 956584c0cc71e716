// Turnout's pages as the W3C's Nu validator sees them, the widget embedded
// on another site with one script tag, and the widget used with the
// keyboard alone.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { api, launchBrowser, shot, startPartnerSite, startTurnout } from "./harness.mjs";

const WEBINAR = "uplevel-your-career-with-ai-ml-genai";
const ARTICLE = "machine-learning-engineer-job-description";
const vnu = createRequire(import.meta.url)("vnu-jar");

let partner;
let turnout;
let browser;

before(async () => {
  partner = await startPartnerSite();
  turnout = await startTurnout({ TURNOUT_CORS_ORIGINS: partner.origin });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await turnout?.stop();
  await partner?.stop();
});

test("every page is valid HTML to the Nu validator", async () => {
  const slots = await api(turnout.base, "GET", `/api/v1/webinars/${WEBINAR}/slots?tz=Asia/Kolkata`);
  const open = slots.body.days.flatMap((day) => day.slots).find((slot) => slot.status === "open");
  const registered = await api(turnout.base, "POST", "/api/v1/registrations", {
    slot_id: open.slot_id, webinar: WEBINAR, name: "Farah Khan", email: "farah.browser@example.com",
    phone: "+91 98765 43215", time_zone: "Asia/Kolkata", consent: { privacy_policy: true },
  });
  const { registration_id: id, manage_token: token } = registered.body;
  const dir = mkdtempSync(join(tmpdir(), "turnout-pages-"));
  const pages = ["/", `/webinars/${WEBINAR}`, `/articles/${ARTICLE}`, `/registrations/${id}?token=${token}`, "/webinars/missing", "/privacy"];
  const files = [];
  for (const [n, path] of pages.entries()) {
    const html = await (await fetch(`${turnout.base}${path}`)).text();
    const file = join(dir, `page-${n}.html`);
    writeFileSync(file, html);
    files.push(file);
  }
  let report;
  try {
    execFileSync("java", ["-jar", vnu, "--errors-only", "--format", "json", ...files], { stdio: "pipe" });
    report = { messages: [] };
  } catch (failure) {
    report = JSON.parse(failure.stderr.toString());
  }
  const errors = report.messages.filter((message) => message.type === "error");
  assert.deepEqual(errors, [], pages.join(", "));
});

test("one script tag embeds the widget on another site, whose origin is allowed", async () => {
  partner.serve(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Partner</title></head>
    <body><h1>Careers at a partner site</h1>
    <script src="${turnout.base}/static/widget.js" data-webinar="${WEBINAR}" defer></script></body></html>`);
  const context = await browser.newContext({ timezoneId: "Asia/Kolkata", viewport: { width: 375, height: 812 } });
  const page = await context.newPage();
  await page.goto(partner.origin);
  await page.getByLabel("Full name").fill("Leela Menon");
  await page.getByLabel("Email").fill("leela.browser@example.com");
  await page.getByLabel("Phone").fill("+91 98765 43216");
  await page.getByLabel("By sharing your contact details you agree to our privacy policy").check();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Select webinar slot" }).waitFor();
  await page.locator(".slots button:not([disabled])").first().waitFor();
  await shot(page, "embedded-on-another-site");
  await context.close();
});

test("the widget works with the keyboard alone", async () => {
  const context = await browser.newContext({ timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await page.getByLabel("Full name").focus();
  await page.keyboard.type("Omar Sheikh");
  await page.keyboard.press("Tab");
  await page.keyboard.type("omar.browser@example.com");
  await page.keyboard.press("Tab"); // the phone's country, India from the zone
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("aria-label")), "Country code");
  await page.keyboard.press("Tab");
  await page.keyboard.type("98765 43217");
  await page.keyboard.press("Tab"); // SMS reminders
  await page.keyboard.press("Space");
  await page.keyboard.press("Tab"); // privacy policy
  await page.keyboard.press("Space");
  // Past the policy's own link to the button.
  for (let step = 0; step < 5; step++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement.textContent === "Continue")) break;
  }
  await page.keyboard.press("Enter");
  const heading = page.getByRole("heading", { name: "Select webinar slot" });
  await heading.waitFor();
  await page.locator(".slots button:not([disabled])").first().waitFor();
  let focused = "";
  // Past the zone and the day chips to the first time.
  for (let step = 0; step < 20 && !focused.startsWith("slot"); step++) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => (document.activeElement.dataset.slot ? `slot ${document.activeElement.dataset.slot}` : document.activeElement.tagName));
  }
  assert.ok(focused.startsWith("slot"), `Tab reaches a time slot (${focused})`);
  await page.keyboard.press("Enter");
  const next = page.getByRole("heading", { name: "Almost there" });
  await next.waitFor();
  assert.ok(await next.evaluate((node) => node === document.activeElement), "focus moves to the new step");
  await shot(page, "keyboard-only");
  await context.close();
});

test("no word breaks inside an article's table cell, at 375 and 1280 px", async () => {
  for (const width of [375, 1280]) {
    const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: "Asia/Kolkata" });
    const page = await context.newPage();
    await page.goto(`${turnout.base}/articles/${ARTICLE}`);
    const broken = await page.evaluate(() => {
      const found = [];
      document.querySelectorAll(".article td, .article th").forEach((cell) => {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const text = node.textContent;
          // A line may end after a hyphen, a dash or a slash; never inside
          // the letters between them ("Experie|nce").
          const words = /[^\s\-\u2013\u2014/]+/g;
          for (let match = words.exec(text); match; match = words.exec(text)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const lines = new Set(Array.from(range.getClientRects()).map((rect) => Math.round(rect.top)));
            if (lines.size > 1) found.push(match[0]);
          }
        }
      });
      return found;
    });
    assert.deepEqual(broken, [], `words broken across lines at ${width} px`);
    const cells = await page.locator(".article td").count();
    assert.ok(cells > 0, "the article has table cells to check");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= width, `the page itself does not scroll sideways at ${width} px (${overflow})`);
    await shot(page, `article-table-${width}`);
    await context.close();
  }
});

test("the home page gives each next session in the visitor's own zone, and a favicon", async () => {
  const context = await browser.newContext({ timezoneId: "America/New_York", locale: "en-US" });
  const page = await context.newPage();
  const missing = [];
  page.on("response", (response) => {
    if (response.status() === 404) missing.push(response.url());
  });
  await page.goto(`${turnout.base}/`);
  const time = page.locator("time[data-local]").first();
  await time.waitFor();
  const iso = await time.getAttribute("datetime");
  const expected = new Intl.DateTimeFormat("en-US", {
    weekday: "long", day: "numeric", month: "long", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    timeZone: "America/New_York",
  }).format(new Date(iso));
  await page.waitForFunction((text) => document.querySelector("time[data-local]").textContent === text, expected);
  assert.match(expected, /E[SD]T$/, "named in the visitor's zone");
  const icon = await fetch(`${turnout.base}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  assert.deepEqual(missing, [], "nothing the page asks for is missing");
  await shot(page, "home-new-york");
  await context.close();
});

test("on an article the form sits beside the text at 1280 px and a bar leads to it on phones", async () => {
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "Asia/Kolkata" });
  const page = await desk.newPage();
  await page.goto(`${turnout.base}/articles/${ARTICLE}`);
  await page.getByLabel("Full name").waitFor();
  const text = await page.locator("article.article").boundingBox();
  const form = await page.locator("#register").boundingBox();
  assert.ok(form.x >= text.x + text.width, `the form is beside the text (${form.x} vs ${text.x + text.width})`);
  assert.ok(form.y < 800, `the form starts on the first screen (${form.y})`);
  await page.getByText(/^Next session: /).waitFor();
  await shot(page, "article-1280");
  // Halfway down the text, well before its end.
  const half = Math.round((text.y + text.height) / 2);
  await page.evaluate((y) => window.scrollTo(0, y), half);
  await page.waitForFunction((y) => Math.abs(window.scrollY - y) < 2, half);
  const aside = await page.locator("aside.aside").boundingBox();
  assert.ok(aside.y >= 0 && aside.y < 100, `the form stays in view while reading (${aside.y})`);
  assert.equal(await page.locator(".register-bar").isVisible(), false, "no bar at desktop width");
  await shot(page, "article-1280-scrolled");
  await desk.close();

  const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, timezoneId: "Asia/Kolkata" });
  const small = await phone.newPage();
  await small.goto(`${turnout.base}/articles/${ARTICLE}`);
  const bar = small.getByRole("link", { name: "Register free for the webinar" });
  await bar.waitFor();
  const box = await bar.boundingBox();
  assert.ok(box.height >= 44 && box.y + box.height <= 812 + 1, `a tappable bar at the foot (${JSON.stringify(box)})`);
  await shot(small, "article-375-bar");
  await bar.click();
  await small.getByLabel("Full name").waitFor();
  await small.waitForFunction(() => document.querySelector(".register-bar").hidden);
  await phone.close();
});

/** WCAG contrast of two `rgb(…)` colours. */
function contrast(a, b) {
  const luminance = (rgb) => {
    const [r, g, bl] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

test("on a phone every control of step 1 is a 44 px tap target and the focus ring stands out", async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, timezoneId: "Asia/Kolkata" });
  const page = await context.newPage();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await page.getByLabel("Full name").waitFor();
  await page.locator("#tw1-country option[value=IN]").waitFor({ state: "attached" });
  const small = await page.evaluate(() =>
    Array.from(document.querySelectorAll("[data-turnout-widget] button, [data-turnout-widget] input:not([type=checkbox]), [data-turnout-widget] select"))
      .filter((node) => node.offsetParent !== null)
      .map((node) => ({ what: node.name || node.textContent.trim(), height: node.getBoundingClientRect().height }))
      .filter((control) => control.height < 44));
  assert.deepEqual(small, [], "controls shorter than 44 px");
  await page.getByLabel("Full name").focus();
  await page.keyboard.press("Tab");
  const ring = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement);
    const widget = document.activeElement.closest(".widget") || document.body;
    return { outline: style.outlineColor, width: style.outlineWidth, behind: getComputedStyle(widget).backgroundColor };
  });
  assert.equal(ring.width, "3px");
  const ratio = contrast(ring.outline, ring.behind);
  assert.ok(ratio >= 3, `focus ring contrast ${ratio.toFixed(2)}:1 against ${ring.behind}`);
  await context.close();
});
