// What every browser test needs: the real Turnout binary serving the demo
// on a free port with a fresh data folder, Debian's Chromium, and a place
// for screenshots.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const binary = process.env.TURNOUT_BIN ?? resolve(here, "../target/debug/turnout");
export const ADMIN_TOKEN = "browser-tests-admin-token-of-32-chars-or-more";
export const SCREENSHOTS = join(here, "screenshots");

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/** Starts `turnout serve --demo`; resolves once /readyz answers. */
export async function startTurnout(env = {}) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), "turnout-browser-"));
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(binary, ["--data-dir", data, "serve", "--demo", "--bind", `127.0.0.1:${port}`], {
    env: {
      ...process.env,
      TURNOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      TURNOUT_LIMITS_MIN_FILL_MS: String(FORM_FILL_MS),
      RUST_LOG: "warn",
      DATABASE_URL: "",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`turnout exited with ${child.exitCode}`);
    try {
      const response = await fetch(`${base}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    base,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((done) => (child.exitCode !== null ? done() : child.once("exit", done)));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with nothing that reaches the network. */
export async function launchBrowser() {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Forms that record a lead carry a form token at least this old. */
const FORM_FILL_MS = 500;

/** Calls Turnout's API from the test (outside the browser). A lead's form
 * gets a form token first, and waits out the minimum fill time, as the
 * widget does. */
export async function api(base, method, path, body, token) {
  if (method === "POST" && /^\/api\/v1\/(leads|registrations)$/.test(path) && body && body.email && !body.form_token) {
    const issued = await api(base, "GET", "/api/v1/form-token");
    await new Promise((resolve) => setTimeout(resolve, issued.body.min_fill_ms + 50));
    body = { ...body, form_token: issued.body.form_token };
  }
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A one-page site on another origin, for embedding the widget. */
export async function startPartnerSite() {
  const { createServer: createHttpServer } = await import("node:http");
  let html = "";
  const server = createHttpServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(html);
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    serve(page) {
      html = page;
    },
    stop: () => new Promise((done) => server.close(done)),
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
