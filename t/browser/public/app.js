// The page's script: what a frontend does with Better Auth and mod_todo,
// without a framework.  Better Auth is same-origin (its REST endpoints, as
// its client library calls them); mod_todo is on another origin (the URL
// in <meta name="todo-api">) and gets the JWT of Better Auth's JWT plugin
// as a bearer token.  Every mod_todo call is logged in todoApp.log with
// what the script could read of the response (the test reads the log).
"use strict";

const API = document.querySelector('meta[name="todo-api"]').content;
const AUTH = "/api/auth";
// The response headers a script may want; CORS decides which it can read.
const READABLE = [
  "etag", "location", "link", "x-request-id", "retry-after",
  "www-authenticate", "idempotent-replayed", "ratelimit-limit",
  "ratelimit-remaining", "ratelimit-reset", "content-type",
];
const state = { email: null, token: null, tasks: new Map() };
const log = [];

// ------------------------------------------------------------ Better Auth
async function authCall(method, path, body) {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await res.json();
  } catch {
    // no JSON body
  }
  return { status: res.status, data };
}

// The JWT plugin's token for the current session (base: a Better Auth
// basePath).  {status, token}.
async function getToken(base = AUTH) {
  const r = await authCall("GET", `${base}/token`);
  return { status: r.status, token: r.status === 200 ? r.data.token : null };
}

// ---------------------------------------------------------------- mod_todo
async function api(method, path, opts = {}) {
  const { token = state.token, body, ifMatch, base = API, op } = opts;
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  // Relative to the API ("v1/tasks"), or a path of its origin (Location).
  const url = new URL(path, `${base}/`).href;
  const entry = { op: op || `${method} ${path}`, method, url };
  try {
    const res = await fetch(url, {
      method, headers, mode: "cors",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    entry.status = res.status;
    entry.headers = {};
    for (const h of READABLE) {
      const v = res.headers.get(h);
      if (v !== null) entry.headers[h] = v;
    }
    entry.headerNames = [...res.headers.keys()];
    const text = await res.text();
    try {
      entry.body = text ? JSON.parse(text) : null;
    } catch {
      entry.body = text;
    }
  } catch (e) {
    // What a blocked cross-origin request looks like to a script.
    entry.rejected = true;
    entry.error = `${e.name}: ${e.message}`;
  }
  log.push(entry);
  return entry;
}

// ----------------------------------------------------------------- the UI
const $ = (sel) => document.querySelector(sel);
const status = (text) => { $("#status").textContent = text; };

function render() {
  const items = [...state.tasks.values()].map(({ task }) => {
    const li = document.createElement("li");
    li.dataset.id = task.id;
    li.className = task.completed ? "completed" : "pending";
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = task.title;
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "toggle";
    toggle.textContent = task.completed ? "Undo" : "Done";
    const del = document.createElement("button");
    del.type = "button";
    del.className = "delete";
    del.textContent = "Delete";
    li.append(title, " ", toggle, " ", del);
    return li;
  });
  $("#tasks").replaceChildren(...items);
}

// Remember a task with the ETag of a response about it alone.
function keep(entry) {
  const task = entry.body && entry.body.data;
  if (task && task.id) state.tasks.set(task.id, { task, etag: entry.headers.etag });
}

async function refresh() {
  const r = await api("GET", "v1/tasks", { op: "list" });
  if (r.status !== 200) return status(`error: list ${r.status || r.error}`);
  const known = state.tasks;
  state.tasks = new Map(r.body.data.tasks.map((t) => {
    const k = known.get(t.id);
    // A list item has no ETag of its own; "<version>" is what it would be.
    return [t.id, { task: t, etag: k && k.task.version === t.version ? k.etag : `"${t.version}"` }];
  }));
  render();
}

async function signedIn(email) {
  const t = await getToken();
  if (!t.token) return status(`error: no token (${t.status})`);
  state.email = email;
  state.token = t.token;
  status(`signed in as ${email}`);
  await refresh();
}

function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}

$("#sign-up").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await authCall("POST", `${AUTH}/sign-up/email`, formData(ev.target));
  status(r.status === 200 ? `signed up as ${r.data.user.email} (${r.data.user.id})`
                          : `error: sign-up ${r.status}`);
});

$("#sign-in").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const { email, password } = formData(ev.target);
  const r = await authCall("POST", `${AUTH}/sign-in/email`, { email, password });
  if (r.status !== 200) return status(`error: sign-in ${r.status}`);
  await signedIn(r.data.user.email);
});

$("#sign-out").addEventListener("click", async () => {
  const r = await authCall("POST", `${AUTH}/sign-out`, {});
  state.email = state.token = null;
  state.tasks.clear();
  render();
  status(r.status === 200 ? "signed out" : `error: sign-out ${r.status}`);
});

$("#new-task").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = await api("POST", "v1/tasks", { op: "create", body: formData(ev.target) });
  if (r.status !== 201) return status(`error: create ${r.status || r.error}`);
  keep(r);
  ev.target.reset();
  await refresh();
});

$("#tasks").addEventListener("click", async (ev) => {
  const li = ev.target.closest("li");
  if (!li || ev.target.tagName !== "BUTTON") return;
  const k = state.tasks.get(li.dataset.id);
  if (ev.target.classList.contains("toggle")) {
    // An empty body toggles "completed".
    const r = await api("PATCH", `v1/tasks/${k.task.id}/complete`, { op: "toggle" });
    if (r.status !== 200) return status(`error: toggle ${r.status || r.error}`);
    keep(r);
  } else {
    const r = await api("DELETE", `v1/tasks/${k.task.id}`, { op: "delete", ifMatch: k.etag });
    if (r.status !== 204) return status(`error: delete ${r.status || r.error}`);
    state.tasks.delete(k.task.id);
  }
  await refresh();
});

window.todoApp = { API, state, log, api, getToken, authCall };
