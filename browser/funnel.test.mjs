// The funnel in a real browser: Turnout's own pages and widget, driven by
// playwright-core in Debian's Chromium against the real server. Every step
// leaves a screenshot in browser/screenshots/.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { ADMIN_TOKEN, api, launchBrowser, shot, startTurnout } from "./harness.mjs";

const WEBINAR = "uplevel-your-career-with-ai-ml-genai";
const ARTICLE = "machine-learning-engineer-job-description";

let turnout;
let browser;

before(async () => {
  turnout = await startTurnout();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await turnout?.stop();
});

/** A phone-sized page in the Kolkata zone. */
async function phone() {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    timezoneId: "Asia/Kolkata",
    locale: "en-IN",
  });
  return context.newPage();
}

async function enterDetails(page, { name, email, phone: number }) {
  await page.getByLabel("Full name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Phone").fill(number);
  await page.getByLabel("By sharing your contact details you agree to our privacy policy").check();
  await page.getByRole("button", { name: "Continue" }).click();
}

function pdf(bytes) {
  const path = join(tmpdir(), `resume-${bytes}-${process.pid}.pdf`);
  const body = Buffer.alloc(bytes, 0x20);
  Buffer.from("%PDF-1.7\n").copy(body);
  writeFileSync(path, body);
  return path;
}

test("the whole funnel from the article to Registration completed, with a résumé", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/articles/${ARTICLE}`);
  await shot(page, "funnel-1-article");
  assert.equal(await page.locator("h1").textContent(), "Machine learning engineer: job description, skills and salary");
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `no sideways scrolling on a 375 px screen (${width} px)`);

  await enterDetails(page, { name: "Asha Verma", email: "asha.browser@example.com", phone: "+91 98765 43210" });
  const slotHeading = page.getByRole("heading", { name: "Select webinar slot" });
  await slotHeading.waitFor();
  assert.ok(await slotHeading.evaluate((node) => node === document.activeElement), "focus moves to the step");
  await page.getByText("Times in India Standard Time, UTC+5:30").waitFor();
  const progress = page.getByRole("list", { name: "Registration steps" });
  assert.equal(await progress.locator("[aria-current=step]").textContent(), "2 Select slot");
  assert.equal(await page.locator(".dates button[aria-pressed=true]").count(), 1, "a day is chosen");
  await shot(page, "funnel-2-slots");

  await page.locator(".slots button:not([disabled])").first().click();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  await page.locator("p.done", { hasText: "Webinar slot blocked" }).waitFor();
  const window = page.getByLabel("Your preferred slot for consultation");
  const first = await window.locator("option:not([disabled]):not([value=''])").first().getAttribute("value");
  await window.selectOption(first);
  await page.getByText(/^Our advisor will call you \w+day, /).waitFor();
  await page.getByLabel("Get your résumé reviewed (optional)").setInputFiles(pdf(20_000));
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 375, `step 3 fits a 375 px screen with a file chosen (${wide} px)`);
  await shot(page, "funnel-3-almost-there");

  await page.getByRole("button", { name: "Complete registration" }).click();
  await page.getByRole("heading", { name: "Registration completed" }).waitFor();
  await page.getByText("— your webinar slot").waitFor();
  await page.getByText("— our program advisor will call you at this time").waitFor();
  const calendar = await page.getByRole("link", { name: "Add to Google Calendar" }).getAttribute("href");
  assert.match(calendar, /^https:\/\/calendar\.google\.com\//);
  const join = await page.getByRole("link", { name: "Your join link" }).getAttribute("href");
  assert.match(join, /\/join\/[A-Za-z0-9_-]{43}$/);
  const early = await fetch(join);
  assert.equal(early.status, 200, "days before the start, the join link says when it starts");
  await shot(page, "funnel-4-completed");

  const queue = await api(turnout.base, "GET", "/api/v1/admin/consultations", undefined, ADMIN_TOKEN);
  const mine = queue.body.items.find((item) => item.visitor.email === "asha.browser@example.com");
  assert.ok(mine, `the consultation is in the advisors' queue: ${JSON.stringify(queue.body).slice(0, 300)}`);
  assert.ok(mine.resume, "with its résumé");
  await page.context().close();
});

test("a returning visitor is told they are registered, and nothing about the seat", async () => {
  const page = await phone();
  const email = "meera.browser@example.com";
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await enterDetails(page, { name: "Meera Iyer", email, phone: "+91 98765 43213" });
  await page.locator(".slots button:not([disabled])").first().click();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  await page.context().close();

  const again = await phone();
  await again.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await enterDetails(again, { name: "Someone Else", email, phone: "+91 98765 43214" });
  await again.locator(".slots button:not([disabled])").last().click();
  await again.getByRole("heading", { name: "You're already registered" }).waitFor();
  const region = again.getByRole("region", { name: "You're already registered" });
  await region.getByText("We are emailing it a link to see, move or cancel that registration").waitFor();
  const text = await again.locator("[data-turnout-widget]").textContent();
  assert.ok(!/Webinar slot blocked|your webinar slot/.test(text), `nothing about the existing seat: ${text}`);
  await shot(again, "already-registered");
  await again.context().close();
});

test("every error of step 1 shows at once, in one voice", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await page.getByRole("button", { name: "Continue" }).click();
  for (const [field, message] of [
    ["name", "Enter your full name"],
    ["email", "Enter your email address"],
    ["phone", "Enter a 10-digit mobile number, or start with +"],
    ["privacy", "Agree to the privacy policy to continue"],
  ]) {
    await page.locator(`#tw1-${field}-error`).filter({ hasText: message }).waitFor();
  }
  assert.ok(await page.getByLabel("Full name").evaluate((node) => node === document.activeElement), "focus on the first");
  await shot(page, "details-errors");
  await page.context().close();
});

test("a national number is read in the country beside it, chosen from the zone", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  const country = page.getByLabel("Country code");
  await page.locator("#tw1-country option[value=IN]").waitFor({ state: "attached" });
  assert.equal(await country.inputValue(), "IN", "India, from Asia/Kolkata");
  assert.match(await country.locator("option:checked").textContent(), /^India \+91$/);
  await shot(page, "phone-country");
  await enterDetails(page, { name: "Kavya Rao", email: "kavya.browser@example.com", phone: "098765 43215" });
  await page.getByRole("heading", { name: "Select webinar slot" }).waitFor();
  await page.context().close();
});

test("an invalid phone number is shown next to the field", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await enterDetails(page, { name: "Ravi Kumar", email: "ravi.browser@example.com", phone: "12345" });
  const error = page.locator("#tw1-phone-error");
  await error.filter({ hasText: "Enter a 10-digit mobile number, or start with +" }).waitFor();
  assert.equal(await page.getByLabel("Phone").getAttribute("aria-invalid"), "true");
  assert.ok(await page.getByLabel("Phone").evaluate((node) => node === document.activeElement), "focus on the field");
  await shot(page, "invalid-phone");
  await page.context().close();
});

test("a full slot cannot be chosen and offers its waiting list", async () => {
  const slug = "tiny-clinic";
  const created = await api(turnout.base, "POST", "/api/v1/admin/webinars", {
    slug, title: "Tiny clinic", time_zone: "Asia/Kolkata", duration_minutes: 30, status: "published",
  }, ADMIN_TOKEN);
  assert.equal(created.status, 201);
  const startsAt = new Date(Date.now() + 2 * 86_400_000);
  startsAt.setUTCMinutes(0, 0, 0);
  const slot = await api(turnout.base, "POST", `/api/v1/admin/webinars/${slug}/slots`, {
    starts_at: startsAt.toISOString().replace(".000", ""), capacity: 1,
  }, ADMIN_TOKEN);
  assert.equal(slot.status, 201, JSON.stringify(slot.body));
  const taken = await api(turnout.base, "POST", "/api/v1/registrations", {
    slot_id: slot.body.slot_id, webinar: slug, name: "Meera Nair", email: "meera.browser@example.com",
    phone: "+91 98765 43211", time_zone: "Asia/Kolkata", consent: { privacy_policy: true },
  });
  assert.equal(taken.status, 201);

  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${slug}`);
  await enterDetails(page, { name: "Kiran Rao", email: "kiran.browser@example.com", phone: "+91 98765 43212" });
  const full = page.locator(".slots button", { hasText: "(full)" });
  await full.waitFor();
  assert.ok(await full.isDisabled(), "the full slot is disabled");
  await shot(page, "full-slot");
  await page.getByRole("button", { name: /^Join the waiting list for / }).click();
  await page.getByRole("heading", { name: "You're on the waiting list" }).waitFor();
  await page.locator("p", { hasText: "you are number 1 in line" }).waitFor();
  await shot(page, "waiting-list-joined");
  const place = await page.getByRole("link", { name: "See your place" }).getAttribute("href");
  const opened = await page.context().newPage();
  await opened.goto(place);
  await opened.locator("p", { hasText: "You are number 1 in line" }).waitFor();
  await shot(opened, "waiting-list-place");

  // Meera cancels: her seat is held for Kiran, who claims it on a laptop.
  const cancelled = await api(turnout.base, "POST", `/api/v1/registrations/${taken.body.registration_id}/cancel`,
    undefined, taken.body.manage_token);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "Asia/Kolkata", locale: "en-IN" });
  const laptop = await desk.newPage();
  await laptop.goto(place);
  await laptop.getByText("A seat has freed and it is held for you until").waitFor();
  await shot(laptop, "waiting-list-offer-1280");
  await laptop.getByRole("button", { name: "Claim my seat" }).click();
  await laptop.getByText("The seat is yours.").waitFor();
  await shot(laptop, "waiting-list-claimed-1280");
  const afterClaim = await api(turnout.base, "POST", "/api/v1/registrations", {
    slot_id: slot.body.slot_id, webinar: slug, name: "Ravi Kumar", email: "ravi.browser@example.com",
    phone: "+91 98765 43213", time_zone: "Asia/Kolkata", consent: { privacy_policy: true },
  });
  assert.equal(afterClaim.status, 409, "the claimed seat is Kiran's");
  await desk.close();
  await page.context().close();
});

test("a résumé over 4 MB is refused before it is sent", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await enterDetails(page, { name: "Dev Patel", email: "dev.browser@example.com", phone: "+91 98765 43213" });
  await page.locator(".slots button:not([disabled])").first().click();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  const uploads = [];
  page.on("request", (request) => {
    if (request.url().endsWith("/resume")) uploads.push(request.url());
  });
  await page.getByLabel("Get your résumé reviewed (optional)").setInputFiles(pdf(4 * 1024 * 1024 + 1));
  await page.locator(".field-error", { hasText: "Your résumé must be 4 MB or smaller" }).waitFor();
  const window = page.getByLabel("Your preferred slot for consultation");
  const first = await window.locator("option:not([disabled]):not([value=''])").first().getAttribute("value");
  await window.selectOption(first);
  await page.getByRole("button", { name: "Complete registration" }).click();
  await page.locator(".field-error", { hasText: "Your résumé must be 4 MB or smaller" }).waitFor();
  assert.equal(await page.getByRole("heading", { name: "Registration completed" }).count(), 0);
  assert.deepEqual(uploads, [], "nothing was uploaded");
  await shot(page, "resume-too-large");
  await page.context().close();
});

test("the server's refusal of a résumé is shown next to the field", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await enterDetails(page, { name: "Ira Sen", email: "ira.browser@example.com", phone: "+91 98765 43218" });
  await page.locator(".slots button:not([disabled])").first().click();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  const window = page.getByLabel("Your preferred slot for consultation");
  const first = await window.locator("option:not([disabled]):not([value=''])").first().getAttribute("value");
  await window.selectOption(first);
  const fake = join(tmpdir(), `not-really-${process.pid}.pdf`);
  writeFileSync(fake, "a text file wearing a .pdf name");
  await page.getByLabel("Get your résumé reviewed (optional)").setInputFiles(fake);
  await page.getByRole("button", { name: "Complete registration" }).click();
  const error = page.locator("#tw1-resume-error");
  await error.filter({ hasText: "Upload a PDF or DOCX file" }).waitFor();
  assert.equal(await page.getByRole("heading", { name: "Registration completed" }).count(), 0);
  await shot(page, "resume-refused-by-server");
  await page.context().close();
});

test("a registration is cancelled from the manage page", async () => {
  const slots = await api(turnout.base, "GET", `/api/v1/webinars/${WEBINAR}/slots?tz=Asia/Kolkata`);
  const open = slots.body.days.flatMap((day) => day.slots).find((slot) => slot.status === "open");
  const registered = await api(turnout.base, "POST", "/api/v1/registrations", {
    slot_id: open.slot_id, webinar: WEBINAR, name: "Nisha Shah", email: "nisha.browser@example.com",
    phone: "+91 98765 43214", time_zone: "Asia/Kolkata", consent: { privacy_policy: true },
  });
  assert.equal(registered.status, 201);
  const { registration_id: id, manage_token: token } = registered.body;

  const page = await phone();
  await page.goto(`${turnout.base}/registrations/${id}?token=${token}`);
  await page.getByRole("heading", { name: "Your registration" }).waitFor();
  await shot(page, "manage-1-confirmed");
  await page.getByRole("button", { name: "Cancel my registration" }).click();
  await page.getByRole("heading", { name: "Cancel your seat?" }).waitFor();
  await shot(page, "manage-2-confirm-cancel");
  await page.getByRole("link", { name: "Keep my seat" }).click();
  await page.locator("dd", { hasText: "Confirmed" }).waitFor();
  await page.getByRole("button", { name: "Cancel my registration" }).click();
  await page.getByRole("button", { name: "Yes, cancel my registration" }).click();
  await page.getByText("Your registration is cancelled.").waitFor();
  await page.locator("dd", { hasText: "Cancelled" }).waitFor();
  await shot(page, "manage-3-cancelled");
  const after = await api(turnout.base, "GET", `/api/v1/registrations/${id}`, undefined, token);
  assert.equal(after.body.status, "cancelled");
  await page.context().close();
});

test("the article page's JSON-LD parses and describes the article and its FAQ", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/articles/${ARTICLE}`);
  const blocks = await page.locator('script[type="application/ld+json"]').allTextContents();
  assert.equal(blocks.length, 1);
  const graph = JSON.parse(blocks[0]);
  const article = graph.find((node) => node["@type"] === "Article");
  const faq = graph.find((node) => node["@type"] === "FAQPage");
  assert.equal(article.headline, "Machine learning engineer: job description, skills and salary");
  assert.equal(article.author[0].name, "Kavya Raman");
  assert.equal(article.contributor[0].name, "Meera Iyengar");
  assert.equal(article.reviewedBy[0].name, "Rohan Desai");
  assert.ok(faq.mainEntity.length >= 3);
  assert.equal(faq.mainEntity[0]["@type"], "Question");
  assert.equal(await page.locator(".article .body table").count(), 2);
  await shot(page, "article-json-ld");
  await page.context().close();
});

test("inside the join window the manage page leads with Join the webinar now", async () => {
  const meeting = "https://meet.example.com/ml-careers-live";
  const startsAt = new Date(Date.now() + 5 * 60_000);
  startsAt.setUTCSeconds(0, 0);
  const created = await api(turnout.base, "POST", `/api/v1/admin/webinars/${WEBINAR}/slots`,
    { capacity: 20, starts_at: startsAt.toISOString().replace(".000Z", "Z") }, ADMIN_TOKEN);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const slotId = created.body.slot_id;
  const linked = await api(turnout.base, "PATCH", `/api/v1/admin/slots/${slotId}`, { join_url: meeting }, ADMIN_TOKEN);
  assert.equal(linked.status, 200, JSON.stringify(linked.body));
  const registered = await api(turnout.base, "POST", "/api/v1/registrations", {
    slot_id: slotId, webinar: WEBINAR, name: "Kiran Rao", email: "kiran.browser@example.com",
    phone: "+91 98765 43215", time_zone: "Asia/Kolkata", consent: { privacy_policy: true },
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const { registration_id: id, manage_token: token, join_link: joinLink } = registered.body;

  const page = await phone();
  await page.goto(`${turnout.base}/registrations/${id}?token=${token}`);
  const join = page.getByRole("link", { name: "Join the webinar now" });
  await join.waitFor();
  assert.equal(await join.getAttribute("href"), joinLink);
  await shot(page, "manage-3-join-now");
  const opened = await fetch(joinLink, { redirect: "manual" });
  assert.equal(opened.status, 302);
  assert.equal(opened.headers.get("location"), meeting, "the personal link leads to the meeting");
  await page.context().close();
});

test("where WhatsApp is configured, step 1 offers it and the confirmation goes by WhatsApp", async () => {
  // A fake Cloud API that records what it is sent.
  const { createServer } = await import("node:http");
  const sent = [];
  const cloud = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      sent.push({ path: request.url, authorization: request.headers.authorization, body: JSON.parse(body) });
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ messaging_product: "whatsapp", messages: [{ id: "wamid.1" }] }));
    });
  });
  await new Promise((done) => cloud.listen(0, "127.0.0.1", done));
  const withWhatsApp = await startTurnout({
    TURNOUT_WHATSAPP_API_URL: `http://127.0.0.1:${cloud.address().port}/v21.0`,
    TURNOUT_WHATSAPP_PHONE_NUMBER_ID: "106540352242922",
    TURNOUT_WHATSAPP_ACCESS_TOKEN: "EAAG-browser",
    TURNOUT_WHATSAPP_TEMPLATE_CONFIRMATION: "webinar_confirmation",
    TURNOUT_WHATSAPP_TEMPLATE_REMINDER: "webinar_reminder",
  });
  try {
    const plain = await phone();
    await plain.goto(`${turnout.base}/webinars/${WEBINAR}`);
    await plain.getByLabel("Full name").waitFor();
    await plain.waitForLoadState("networkidle");
    assert.equal(await plain.getByLabel(/on WhatsApp/).isVisible(), false, "not offered where it is not sent");
    await plain.context().close();

    const page = await phone();
    await page.goto(`${withWhatsApp.base}/webinars/${WEBINAR}`);
    const box = page.getByLabel("Send my confirmation and reminders on WhatsApp (by SMS if this number isn't on WhatsApp)");
    await box.waitFor();
    await box.check();
    await shot(page, "whatsapp-consent");
    await enterDetails(page, { name: "Meera Iyer", email: "meera.browser@example.com", phone: "+91 99887 76655" });
    await page.getByRole("heading", { name: "Select webinar slot" }).waitFor();
    await page.locator(".slots button:not([disabled])").first().click();
    await page.getByRole("heading", { name: "Almost there" }).waitFor();
    for (let attempt = 0; attempt < 100 && sent.length === 0; attempt++) {
      await new Promise((done) => setTimeout(done, 100));
    }
    assert.equal(sent.length, 1, "the worker in serve sent one template message");
    assert.equal(sent[0].path, "/v21.0/106540352242922/messages");
    assert.equal(sent[0].authorization, "Bearer EAAG-browser");
    assert.equal(sent[0].body.to, "919988776655");
    assert.equal(sent[0].body.template.name, "webinar_confirmation");
    assert.equal(sent[0].body.template.components[0].parameters[0].text, "Meera Iyer");
    await page.context().close();
  } finally {
    await withWhatsApp.stop();
    cloud.close();
  }
});

test("a reload keeps the visitor's progress, and Back keeps their details", async () => {
  const page = await phone();
  await page.goto(`${turnout.base}/webinars/${WEBINAR}`);
  await enterDetails(page, { name: "Farah Khan", email: "farah.browser@example.com", phone: "98765 43218" });
  await page.getByRole("heading", { name: "Select webinar slot" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Select webinar slot" }).waitFor();
  await page.getByRole("button", { name: "← Back to your details" }).click();
  await page.getByRole("heading", { name: "Enter details" }).waitFor();
  assert.equal(await page.getByLabel("Full name").inputValue(), "Farah Khan");
  assert.equal(await page.getByLabel("Phone").inputValue(), "98765 43218");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Select webinar slot" }).waitFor();
  await page.locator(".slots button:not([disabled])").first().click();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  await page.reload();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  await page.locator("p.done", { hasText: "Webinar slot blocked" }).waitFor();
  const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
  assert.ok(!/token=/.test(page.url()), "no token in the address");
  assert.ok(stored.includes("farah.browser@example.com"), "kept in this tab's session storage only");
  await shot(page, "resumed-almost-there");

  // Back from step 3 moves the held seat instead of taking a second one.
  const before = await page.locator("p.done").textContent();
  await page.getByRole("button", { name: "← Choose another webinar time" }).click();
  await page.getByText(/^Your seat is held for .*Choosing another time moves it\.$/).waitFor();
  await page.locator(".dates button").last().click();
  await page.locator(".slots button:not([disabled])").last().click();
  await page.getByRole("heading", { name: "Almost there" }).waitFor();
  const after = await page.locator("p.done").textContent();
  assert.notEqual(after, before, `the seat moved: ${before} → ${after}`);
  const kept = JSON.parse(await page.evaluate(() => Object.values(sessionStorage)[0]));
  const seat = await api(turnout.base, "GET", `/api/v1/registrations/${kept.registration.registration_id}`, undefined,
    kept.registration.manage_token);
  assert.equal(seat.body.status, "confirmed");
  assert.equal(`Webinar slot blocked: ${seat.body.label}`, after, "one registration, at the new time");
  await page.context().close();
});
