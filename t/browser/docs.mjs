// Driver of t/browser/docs.t: P/docs in Chromium, with Swagger UI served
// locally (TodoDocsAssets).  Lists the operations the page shows,
// authorizes with a bearer token, runs "Try it out" on GET /v1/tasks, and
// takes screenshots (--artifacts).  Records every request the page made
// and every CSP violation.  Prints one JSON report; docs.t asserts on it.
//
//   node docs.mjs --url P/docs-URL --token JWT --artifacts DIR
import { join } from "node:path";
import { args, run, withChromium } from "./lib.mjs";

const opt = args(["url", "token", "artifacts"]);

run(150000, async (report) => {
  await withChromium(opt.artifacts, report, async (context) => {
    await context.addInitScript(() => {
      window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI });
      });
    });
    report.requests = [];
    report.failed = [];
    context.on("request", (q) => report.requests.push(`${q.method()} ${q.url()}`));
    context.on("requestfailed", (q) =>
      report.failed.push(`${q.method()} ${q.url()}: ${q.failure()?.errorText}`));
    const page = await context.newPage();

    report.step = "open the page";
    const res = await page.goto(opt.url);
    report.status = res.status();
    report.contentType = res.headers()["content-type"];
    report.csp = res.headers()["content-security-policy"];
    await page.waitForSelector(".opblock");
    report.title = (await page.textContent(".info .title"))?.trim();
    report.operations = await page.$$eval(".opblock", (els) => els.map((el) => ({
      method: el.querySelector(".opblock-summary-method")?.textContent.trim().toLowerCase(),
      path: el.querySelector("[data-path]")?.getAttribute("data-path"),
      id: el.id,
    })));
    report.servers = await page.$$eval(".servers select option", (els) => els.map((e) => e.value));
    report.authorizeButton = await page.getAttribute(".auth-wrapper .authorize", "class");
    await page.screenshot({ path: join(opt.artifacts, "swagger-ui-full.png"), fullPage: true });
    // The operations, from the servers and Authorize bar down (past the
    // document's long description): the README's picture.
    await page.locator(".scheme-container").evaluate((e) => e.scrollIntoView());
    await page.screenshot({ path: join(opt.artifacts, "swagger-ui.png") });

    report.step = "authorize";
    await page.click(".auth-wrapper .authorize");
    await page.waitForSelector(".modal-ux .auth-container");
    report.authSchemes = await page.$$eval(".modal-ux .auth-container h4",
      (els) => els.map((e) => e.textContent.trim()));
    await page.fill(".modal-ux .auth-container input", opt.token);
    await page.click(".modal-ux .auth-btn-wrapper button.authorize");
    await page.click(".modal-ux .auth-btn-wrapper button.btn-done");
    await page.waitForSelector(".modal-ux", { state: "detached" });
    report.authorizedButton = await page.getAttribute(".auth-wrapper .authorize", "class");

    report.step = "try it out: GET /v1/tasks";
    const op = page.locator('.opblock[id$="-listTasks"]');
    await op.locator(".opblock-summary-control").click();
    await op.locator(".try-out__btn").click();
    const [apiRes] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname.endsWith("/v1/tasks")),
      op.locator("button.execute").click(),
    ]);
    report.apiRequest = {
      url: apiRes.url(),
      status: apiRes.status(),
      authorization: (await apiRes.request().allHeaders()).authorization ?? null,
    };
    const live = op.locator(".live-responses-table tbody .response").first();
    await live.waitFor();
    report.tryStatus = (await live.locator(".response-col_status").textContent())?.trim();
    report.tryBody = await live.locator(".response-col_description pre").first().textContent();
    report.tryCurl = await op.locator(".curl-command .curl").first().textContent();
    report.tryUrl = (await op.locator(".request-url pre").first().textContent())?.trim();
    await op.screenshot({ path: join(opt.artifacts, "swagger-ui-try-it-out.png") });
    report.cspViolations = await page.evaluate(() => window.__csp);
    report.step = "done";
  });
});
