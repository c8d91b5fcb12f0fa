// The example app in headless Chromium, as a user and an admin would use it (run by
// tests/py/test_app_browser.py, which starts the stack, the workers and the database):
//   node app/tests/browser.mjs <.tools/node_modules> <artifacts dir>
// Environment: APP_URL, USER_EMAIL, ADMIN_EMAIL, PASSWORD. Prints one JSON line: what the page
// showed (each job's statuses in order, with the time each was displayed) for the test to
// check against the database. Screenshots go to the artifacts directory.
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";

const modules = path.resolve(process.argv[2]);
const artifacts = path.resolve(process.argv[3]);
const { chromium } = createRequire(path.join(modules, "package.json"))("playwright-core");
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// Chromium from Debian; without the background-networking flags it keeps trying to reach
// Google's services, which this machine's closed network refuses.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("response", (r) => {
  if (r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
});
// Every status the page displays, with the time it was displayed (Date.now(): the same clock
// as the stack's).
await page.addInitScript(() => {
  globalThis.__shown = [];
  const seen = new Map();
  const record = () => {
    for (const el of document.querySelectorAll("[data-testid=job-status]")) {
      const id = el.getAttribute("data-job-id");
      const status = el.textContent.trim();
      if (seen.get(id) !== status) {
        seen.set(id, status);
        globalThis.__shown.push({ job_id: id, status, at: Date.now() });
      }
    }
  };
  new MutationObserver(record).observe(document, {
    subtree: true, childList: true, characterData: true,
  });
});
const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`) });
const step = async (name, fn) => {
  try {
    await fn();
  } catch (e) {
    await shot(`failed-${name}`).catch(() => {});
    throw new Error(`${name}: ${e.message}`);
  }
};

async function signIn(email) {
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", env("PASSWORD"));
  await page.click("form.sign-in button[type=submit]");
  await page.waitForSelector("[data-testid=live]:text-is('live')", { timeout: 20000 });
}

async function generate(prompt, images, metadata, jobType = "sdxl_image_fast") {
  await page.selectOption("select[name=job_type]", jobType);
  await page.selectOption("select[name=num_images]", String(images));
  await page.fill("input[name=prompt]", prompt);
  await page.fill("input[name=metadata]", JSON.stringify(metadata));
  await page.click("form.generate button[type=submit]");
  const group = page.locator("[data-testid=group]", { hasText: prompt });
  await group.first().waitFor({ timeout: 15000 });
  return group.first();
}

const result = {};
await step("sign in as the user", async () => {
  await page.goto(env("APP_URL") + "/");
  await signIn(env("USER_EMAIL"));
});
await step("queue a 1x3 set and watch it complete", async () => {
  const set = await generate("a lighthouse at dusk", 3, { fake_seconds: 1.5 });
  result.set = await set.getAttribute("data-group-id");
  result.set_jobs = await set.locator("[data-testid=job]").evaluateAll((els) =>
    els.map((e) => e.getAttribute("data-job-id"))
  );
  await shot("1-workspace-queued");
  await page.waitForFunction(
    (g) => document.querySelectorAll(`[data-group-id="${g}"] [data-testid=job-status].processing`).length > 0,
    result.set, { timeout: 20000 },
  );
  await shot("2-workspace-processing");
  await page.waitForFunction(
    (g) => document.querySelectorAll(`[data-group-id="${g}"] [data-testid=job-status].completed`).length === 3 &&
      document.querySelectorAll(`[data-group-id="${g}"] img[data-testid=asset]`).length === 3,
    result.set, { timeout: 30000 },
  );
  await shot("3-workspace-completed");
});
await step("queue a job no worker takes and one that fails", async () => {
  const waiting = await generate("a waiting job", 1, {}, "rv51_fast");
  result.waiting = await waiting.getAttribute("data-group-id");
  const failing = await generate("an impossible picture", 1, { fake_fail: "permanent" });
  result.failing = await failing.getAttribute("data-group-id");
  await failing.locator("[data-testid=job-status].failed").waitFor({ timeout: 20000 });
  await shot("4-workspace-failed");
});
await step("see the set in the Library", async () => {
  await page.click("a[href='#/library']");
  for (const id of result.set_jobs) {
    await page.locator(`[data-testid=library-item][data-job-id="${id}"] img`).waitFor({ timeout: 15000 });
  }
  await page.waitForFunction(() =>
    [...document.querySelectorAll("[data-testid=library-item] img")].every((i) => i.complete && i.naturalWidth > 0)
  );
  result.library = await page.locator("[data-testid=library-item]").evaluateAll((els) =>
    els.map((e) => e.getAttribute("data-job-id"))
  );
  await shot("5-library");
});
result.shown = await page.evaluate(() => globalThis.__shown);
await step("sign in as the admin and see the queue", async () => {
  await page.click("text=Sign out");
  await page.waitForSelector("form.sign-in");
  await signIn(env("ADMIN_EMAIL"));
  await page.click("a[href='#/admin']");
  await page.locator("[data-testid=queue] tr", { hasText: "rv51" }).waitFor({ timeout: 15000 });
  await page.locator(`[data-testid=failed-job]`).first().waitFor({ timeout: 15000 });
  result.queue = await page.locator("[data-testid=queue] tbody tr").evaluateAll((rows) =>
    rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent))
  );
  await shot("6-admin");
});
await step("retry the failed job", async () => {
  const row = page.locator("[data-testid=failed-job]").first();
  result.retried = await row.getAttribute("data-job-id");
  await row.locator("button").click();
  await page.locator("[data-testid=note]", { hasText: "retried" }).waitFor({ timeout: 15000 });
  await shot("7-admin-retried");
});
await browser.close();
result.problems = problems;
console.log(JSON.stringify(result));
