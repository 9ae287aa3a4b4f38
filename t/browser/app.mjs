// The frontend of the seeds' architecture, for t/browser/e2e.t: a small
// web app on its own origin whose users sign up and in with Better Auth
// (email and password, the JWT plugin) and whose page calls mod_todo on
// another origin with the JWT it gets from Better Auth.
//
//   node app.mjs --port P --api URL --db NAME
//
// Serves http://127.0.0.1:P (the origin in TodoCORSOrigins; the same page
// is reachable as http://localhost:P, an origin that is not):
//   /                      the page (public/index.html; the API's URL in
//                          <meta name="todo-api">)
//   /app.js                its script (public/app.js)
//   /api/auth/*            Better Auth, jwt() as a frontend configures it:
//                          EdDSA, iss = aud = the baseURL, 15 minutes;
//                          its JWKS at /api/auth/jwks (TodoJWKSURL)
//   /expired/api/auth/*    the same users, keys and sessions, but tokens
//                          that expired two minutes before they were
//                          issued: what a page holds after 15 minutes
// Better Auth keeps its tables in database NAME of the test cluster
// (migrated at start).  Environment: TODO_PG_DIR (socket directory),
// TODO_PG_PORT, TODO_USER_NAME (the cluster owner, peer auth).
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins/jwt";
import pg from "pg";
import { args } from "./lib.mjs";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/test.sh)`);
  return v;
}

const opt = args(["port", "api", "db"]);
const baseURL = `http://127.0.0.1:${opt.port}`;
const pool = new pg.Pool({
  host: env("TODO_PG_DIR"),
  port: Number(env("TODO_PG_PORT")),
  user: env("TODO_USER_NAME"),
  database: opt.db,
  max: 4,
});
pool.on("error", (e) => console.error(`pg pool: ${e.message}`));

// A fresh secret per run: the app is its only user.
const secret = randomBytes(32).toString("base64url");
function instance(basePath, jwtOptions) {
  return betterAuth({
    appName: "mod_todo browser test",
    baseURL,
    basePath,
    secret,
    database: pool,
    emailAndPassword: { enabled: true },
    plugins: [jwt(jwtOptions)],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
  });
}
const auth = instance("/api/auth");
const expired = instance("/expired/api/auth", { jwt: { expirationTime: "-2 minutes" } });
const handlers = [auth, expired].map((a) => [a.options.basePath, toNodeHandler(a)]);

const here = new URL(".", import.meta.url);
const page = readFileSync(new URL("public/index.html", here), "utf8");
const script = readFileSync(new URL("public/app.js", here), "utf8");
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const indexHtml = page.replace("{{API}}", escapeHtml(opt.api));

function send(res, status, type, body) {
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(body);
}

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, baseURL);
  try {
    if (req.method === "GET" && url.pathname === "/")
      return send(res, 200, "text/html; charset=utf-8", indexHtml);
    if (req.method === "GET" && url.pathname === "/app.js")
      return send(res, 200, "text/javascript; charset=utf-8", script);
    if (url.pathname === "/favicon.ico") return send(res, 204, "text/plain", "");
    const h = handlers.find(([p]) => url.pathname.startsWith(`${p}/`));
    if (h) return await h[1](req, res);
    send(res, 404, "text/plain", "not found\n");
  } catch (e) {
    console.error(e);
    if (!res.headersSent) send(res, 500, "text/plain", `${e.message || e}\n`);
    else res.end();
  }
});
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
server.listen(Number(opt.port), "127.0.0.1", () =>
  console.log(`frontend on ${baseURL}, API ${opt.api}, Better Auth at ${baseURL}/api/auth`));
