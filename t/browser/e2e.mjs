// Driver of t/browser/e2e.t: the seeds' architecture in Chromium.  On the
// frontend's page (app.mjs, origin --app) a user signs up, out and in
// with Better Auth through the page's forms; the page gets a JWT from the
// JWT plugin and works with mod_todo (--api, another origin) through its
// UI and its script: create, list, read by Location, PATCH with If-Match
// and with a stale one, toggle, delete; an expired and a garbage token.
// The same page from an origin mod_todo does not allow (--evil) tries
// too.  Prints one JSON report of what the page saw (todoApp.log
// entries); e2e.t asserts on it.
//
//   node e2e.mjs --app URL --evil URL --api URL --artifacts DIR
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { args, run, withChromium } from "./lib.mjs";

const opt = args(["app", "evil", "api", "artifacts"]);

function decodeJwt(t) {
  const [h, p] = String(t || "").split(".");
  const part = (s) => {
    try {
      return JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
    } catch {
      return null;
    }
  };
  return { header: part(h || ""), payload: part(p || "") };
}

run(150000, async (report) => {
  await withChromium(opt.artifacts, report, async (context) => {
    const page = await context.newPage();
    const status = () => page.textContent("#status");
    // Wait for the page's status line to match re (or to say "error").
    const statusIs = async (re) => {
      await page.waitForFunction((src) => {
        const t = document.querySelector("#status").textContent;
        return new RegExp(src).test(t) || t.startsWith("error");
      }, re.source);
      return status();
    };
    // The n-th (1-based) log entry of operation op, once it is there.
    const logged = async (op, n = 1) => {
      await page.waitForFunction(([o, k]) =>
        window.todoApp.log.filter((e) => e.op === o).length >= k, [op, n]);
      return page.evaluate(([o, k]) =>
        window.todoApp.log.filter((e) => e.op === o)[k - 1], [op, n]);
    };
    const call = (method, path, opts) => page.evaluate(
      ([m, p, o]) => window.todoApp.api(m, p, o), [method, path, opts || {}]);
    const titles = () => page.$$eval("#tasks li .title", (els) => els.map((e) => e.textContent));

    report.step = "open the frontend";
    await page.goto(`${opt.app}/`);
    report.appOrigin = await page.evaluate(() => location.origin);
    report.apiOfPage = await page.evaluate(() => window.todoApp.API);

    const user = {
      name: "Browser Tester",
      email: `browser-${Date.now()}@example.test`,
      password: `pw-${randomBytes(9).toString("base64url")}`,
    };
    report.email = user.email;

    report.step = "sign up";
    for (const k of ["name", "email", "password"])
      await page.fill(`#sign-up [name=${k}]`, user[k]);
    await page.click("#sign-up button");
    report.signUp = await statusIs(/^signed up as /);

    report.step = "sign out";
    await page.click("#sign-out");
    report.signOut = await statusIs(/^signed out$/);
    report.tokenSignedOut = await page.evaluate(() => window.todoApp.getToken());

    report.step = "sign in";
    await page.fill("#sign-in [name=email]", user.email);
    await page.fill("#sign-in [name=password]", user.password);
    await page.click("#sign-in button");
    report.signIn = await statusIs(/^signed in as /);
    report.firstList = await logged("list", 1);
    const token = await page.evaluate(() => window.todoApp.state.token);
    report.token = decodeJwt(token);

    report.step = "create through the UI";
    const title = `Buy milk ${Date.now()}`;
    report.title = title;
    await page.fill("#new-task [name=title]", title);
    await page.click("#new-task button");
    report.create = await logged("create");
    report.listAfterCreate = await logged("list", 2);
    await page.waitForSelector(`#tasks li .title >> text=${title}`);
    report.uiAfterCreate = await titles();

    report.step = "read, PATCH with If-Match, 412";
    const task = report.create.body && report.create.body.data;
    const id = task && task.id;
    const loc = report.create.headers && report.create.headers.location;
    report.getByLocation = await call("GET", loc);
    report.patch = await call("PATCH", `v1/tasks/${id}`,
      { body: { title: `${title} (oat)`, priority: 2 }, ifMatch: report.create.headers.etag });
    report.stale = await call("PATCH", `v1/tasks/${id}`,
      { body: { priority: 3 }, ifMatch: report.create.headers.etag });
    report.afterStale = await call("GET", `v1/tasks/${id}`);

    report.step = "toggle through the UI";
    await page.click(`#tasks li[data-id="${id}"] button.toggle`);
    report.toggle = await logged("toggle");
    report.listAfterToggle = await logged("list", 3);
    await page.waitForSelector(`#tasks li.completed[data-id="${id}"]`);
    report.uiAfterToggle = await page.getAttribute(`#tasks li[data-id="${id}"]`, "class");
    await page.screenshot({ path: join(opt.artifacts, "e2e-frontend.png") });

    report.step = "delete through the UI";
    await page.click(`#tasks li[data-id="${id}"] button.delete`);
    report.delete = await logged("delete");
    await logged("list", 4);
    await page.waitForSelector(`#tasks li[data-id="${id}"]`, { state: "detached" });
    report.uiAfterDelete = await titles();
    report.afterDelete = await call("GET", loc);

    report.step = "tokens a frontend must tell apart";
    report.garbage = await call("GET", "v1/tasks", { token: "garbage" });
    const expired = await page.evaluate(() => window.todoApp.getToken("/expired/api/auth"));
    report.expiredToken = { status: expired.status, token: expired.token, ...decodeJwt(expired.token) };
    report.expired = await call("GET", "v1/tasks", { token: expired.token });
    report.health = await call("GET", "health", { token: null });

    report.step = "an origin mod_todo does not allow";
    const evil = await context.newPage();
    await evil.goto(`${opt.evil}/`);
    report.evilOrigin = await evil.evaluate(() => location.origin);
    const evilCall = (method, path, opts) => evil.evaluate(
      ([m, p, o]) => window.todoApp.api(m, p, o), [method, path, opts]);
    report.evilList = await evilCall("GET", "v1/tasks", { token });
    report.evilCreate = await evilCall("POST", "v1/tasks", { token, body: { title: `evil ${title}` } });
    report.evilHealth = await evilCall("GET", "health", { token: null });
    // Nothing of that reached the user's tasks.
    report.listAfterEvil = await call("GET", `v1/tasks?q=${encodeURIComponent(`evil ${title}`)}`);
    report.step = "done";
  });
});
