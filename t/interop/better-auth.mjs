// The real issuer for mod_todo's interop test (t/interop/better_auth.t):
// Better Auth with its JWT plugin, on the test cluster's PostgreSQL.
//
//   node better-auth.mjs prepare --dir DIR --port P
//       migrate the "betterauth" database, sign a user up, create one
//       signing key per algorithm (EdDSA, ES256, RS256) and save what
//       GET /api/auth/jwks answers to DIR/jwks.json (TodoJWKSFile), plus
//       DIR/prepare.json (the user, the kids).  Then exit.
//   node better-auth.mjs serve --dir DIR --port P
//       sign the user in and serve Better Auth on http://127.0.0.1:P until
//       SIGTERM.
//
// Environment: BETTER_AUTH_SECRET; TODO_PG_DIR (socket directory),
// TODO_PG_PORT and TODO_USER_NAME (the cluster owner, peer auth).
//
// Four Better Auth instances share the database and the secret (the jwks
// table too), and differ only in their JWT plugin configuration, like one
// app reconfigured over time.  Each is served at its own basePath, all with
// the same baseURL, hence the same iss/aud:
//   /api/auth             jwt() -- the plugin's default, EdDSA (Ed25519);
//                         session.cookieCache strategy "jwt": HS256
//                         session_data signed with BETTER_AUTH_SECRET
//   /es256/api/auth       jwt({ jwks: { keyPairConfig: { alg: "ES256" } } })
//   /rs256/api/auth       jwt({ jwks: { keyPairConfig: { alg: "RS256" } } })
//   /cookie-jwt/api/auth  jwt({ sessionCookieCache: true }): session_data
//                         signed with the plugin's (JWKS) key instead
// Tokens come from Better Auth's own endpoints (GET <basePath>/token,
// GET <basePath>/get-session); the test calls them over HTTP.  Test
// control endpoints, for what has no HTTP endpoint in Better Auth:
//   GET  /control/session      {user_id, email, cookie, base_url, kids}
//   POST /control/rotate?alg=A a new signing key for A via the plugin's
//                              createJwk (what it does when a key expires
//                              under jwks.rotationInterval) -> {kid, alg}
//   GET  /control/hs256        an HS256 JWT {sub: user} signed by Better
//                              Auth's signJWT with BETTER_AUTH_SECRET
import { writeFileSync, readFileSync, renameSync } from "node:fs";
import http from "node:http";
import { betterAuth } from "better-auth";
import { signJWT as hs256SignJWT } from "better-auth/crypto";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { createJwk, jwt } from "better-auth/plugins/jwt";
import pg from "pg";

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through scripts/test.sh)`);
  return v;
}

function args(argv) {
  const [mode, ...rest] = argv;
  const o = { mode };
  for (let i = 0; i < rest.length; i += 2) {
    if (!rest[i].startsWith("--") || rest[i + 1] === undefined)
      throw new Error(`bad argument ${rest[i]}`);
    o[rest[i].slice(2)] = rest[i + 1];
  }
  if (!["prepare", "serve"].includes(mode) || !o.dir || !o.port)
    throw new Error("usage: better-auth.mjs prepare|serve --dir DIR --port P");
  return o;
}

const opt = args(process.argv.slice(2));
const baseURL = `http://127.0.0.1:${opt.port}`;
const secret = env("BETTER_AUTH_SECRET");
const pool = new pg.Pool({
  host: env("TODO_PG_DIR"),          // unix socket directory: peer auth
  port: Number(env("TODO_PG_PORT")),
  user: env("TODO_USER_NAME"),
  database: process.env.TODO_BA_DB || "betterauth",
  max: 4,
});
// Other suites stop and restart PostgreSQL (t/api/db_restart_health.t):
// an idle connection killed then must not kill us; the pool reconnects.
pool.on("error", (e) => console.error(`pg pool: ${e.message}`));

const cookieCache = { cookieCache: { enabled: true, strategy: "jwt", maxAge: 300 } };
function instance(basePath, jwtOptions, session) {
  return betterAuth({
    appName: "mod_todo interop",
    baseURL,
    basePath,
    secret,
    database: pool,
    emailAndPassword: { enabled: true },
    session,
    plugins: [jwt(jwtOptions)],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
  });
}
const auths = {
  EdDSA: instance("/api/auth", undefined, cookieCache),
  ES256: instance("/es256/api/auth", { jwks: { keyPairConfig: { alg: "ES256" } } }),
  RS256: instance("/rs256/api/auth", { jwks: { keyPairConfig: { alg: "RS256" } } }),
  cookieJwt: instance("/cookie-jwt/api/auth", { sessionCookieCache: true }, cookieCache),
};
const ALGS = ["EdDSA", "ES256", "RS256"];

// A new signing key, exactly as the plugin makes one (and stores it in its
// jwks table); the newest key of an algorithm is the one it signs with.
async function newKey(alg) {
  const a = auths[alg];
  const key = await createJwk({ context: await a.$context }, a.options.plugins[0].options);
  return { kid: key.id, alg: key.alg };
}

function writeAtomic(path, text, mode = 0o644) {
  writeFileSync(`${path}.tmp`, text, { mode });
  renameSync(`${path}.tmp`, path);
}

function sessionCookie(res) {
  const c = res.headers.getSetCookie().map((s) => s.split(";")[0])
    .find((s) => s.startsWith("better-auth.session_token="));
  if (!c) throw new Error(`no session cookie (status ${res.status})`);
  return c;
}

async function prepare() {
  const { runMigrations } = await getMigrations(auths.EdDSA.options);
  await runMigrations();

  const user = {
    email: `interop-${Date.now()}@example.test`,
    password: `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`,
    name: "Interop Tester",
  };
  const res = await auths.EdDSA.api.signUpEmail({ body: user, asResponse: true });
  if (res.status !== 200) throw new Error(`sign-up: ${res.status} ${await res.text()}`);
  const body = await res.json();

  const kids = {};
  for (const alg of ALGS) kids[alg] = (await newKey(alg)).kid;

  // Exactly what Better Auth's JWKS endpoint answers.
  const jwks = await auths.EdDSA.handler(new Request(`${baseURL}/api/auth/jwks`));
  if (jwks.status !== 200) throw new Error(`jwks: ${jwks.status}`);
  writeAtomic(`${opt.dir}/jwks.json`, await jwks.text());
  writeAtomic(`${opt.dir}/prepare.json`,
    JSON.stringify({ user_id: body.user.id, ...user, base_url: baseURL, kids }, null, 2),
    0o600);
  console.log(`prepared user ${body.user.id}, keys ${JSON.stringify(kids)}`);
}

async function serve() {
  const prep = JSON.parse(readFileSync(`${opt.dir}/prepare.json`, "utf8"));
  const signIn = await auths.EdDSA.api.signInEmail({
    body: { email: prep.email, password: prep.password }, asResponse: true });
  const cookie = sessionCookie(signIn);

  const handlers = Object.values(auths).map((a) => [a.options.basePath, toNodeHandler(a)]);
  const json = (res, status, data) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(data));
  };
  const control = {
    "GET /control/session": async () => ({
      user_id: prep.user_id, email: prep.email, cookie, base_url: baseURL, kids: prep.kids }),
    "POST /control/rotate": async (url) => {
      const alg = url.searchParams.get("alg");
      if (!ALGS.includes(alg)) throw new Error(`alg must be one of ${ALGS}`);
      return newKey(alg);
    },
    "GET /control/hs256": async () => ({
      token: await hs256SignJWT({ sub: prep.user_id }, secret, 300) }),
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, baseURL);
    try {
      const c = control[`${req.method} ${url.pathname}`];
      if (c) return json(res, 200, await c(url));
      const h = handlers.find(([p]) => url.pathname.startsWith(`${p}/`));
      if (h) return await h[1](req, res);
      json(res, 404, { error: "not found" });
    } catch (e) {
      console.error(e);
      if (!res.headersSent) json(res, 500, { error: String(e.message || e) });
      else res.end();
    }
  });
  const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  server.listen(Number(opt.port), "127.0.0.1", () =>
    console.log(`Better Auth serving ${baseURL} (user ${prep.user_id})`));
}

try {
  if (opt.mode === "prepare") {
    await prepare();
    await pool.end();
  } else {
    await serve();
  }
} catch (e) {
  console.error(`better-auth.mjs ${opt.mode}: ${e.stack || e}`);
  process.exit(1);
}
