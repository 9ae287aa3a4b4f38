// What the browser drivers (docs.mjs, e2e.mjs) share: Debian's Chromium
// driven by playwright-core (never a downloaded browser), and the report
// each driver prints -- one JSON document on stdout, which the .t asserts
// on.  A driver never decides pass or fail itself.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";

export const CHROMIUM = "/usr/bin/chromium";
// Known to work here as an unprivileged user, headless, without a GPU or
// a network beyond 127.0.0.1 (playwright adds --user-data-dir, a new
// empty profile of our own below).
export const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

// --name value pairs; every name in `required` must be given.
export function args(required) {
  const o = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    if (!a[i].startsWith("--") || a[i + 1] === undefined)
      throw new Error(`bad argument ${a[i]}`);
    o[a[i].slice(2)] = a[i + 1];
  }
  for (const r of required)
    if (!o[r]) throw new Error(`--${r} is required`);
  return o;
}

// Run main(report) and print the report, also when main throws or hangs
// (report.error then says why); the exit status is 0 whenever a report
// was printed.
export function run(limitMs, main) {
  const report = { error: null };
  let printed = false;
  const print = () => {
    if (printed) return;
    printed = true;
    process.stdout.write(`${JSON.stringify(report)}\n`);
  };
  const timer = setTimeout(() => {
    report.error = report.error || `driver timed out after ${limitMs} ms (at ${report.step})`;
    print();
    process.exit(0);
  }, limitMs);
  main(report)
    .catch((e) => {
      report.error = `${report.step ? `at ${report.step}: ` : ""}${e.stack || e}`;
    })
    .finally(() => {
      clearTimeout(timer);
      print();
    });
}

// A persistent context on a fresh profile under `artifacts`; the page's
// console messages, page errors and CSP violations are collected in
// report.console / report.pageErrors.  The profile is removed afterwards.
export async function withChromium(artifacts, report, fn) {
  mkdirSync(artifacts, { recursive: true });
  const profile = mkdtempSync(join(artifacts, "profile-"));
  report.console = [];
  report.pageErrors = [];
  const { chromium } = await import("playwright-core");
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
    timeout: 60000,
  });
  try {
    report.chromium = context.browser()?.version() ?? null;
    context.on("console", (m) => report.console.push({
      type: m.type(), text: m.text(), url: m.location()?.url ?? null }));
    context.on("weberror", (e) => report.pageErrors.push(String(e.error())));
    context.setDefaultTimeout(30000);
    return await fn(context);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
