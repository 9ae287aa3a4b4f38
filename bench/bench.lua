-- wrk script for mod_todo: spreads requests across the benchmark users'
-- tokens and tasks.  Arguments (after "--"): scenario, data directory,
-- and optionally the route prefix (default /api).
--   scenario: list | get | create | patch | mix (80 % reads / 20 % writes)
-- The data directory holds tokens.txt ("user token" per line) and
-- tasks.txt ("user task-id" per line), written by bench/run.sh.

local scenario, users, tasks, prefix = "list", {}, {}, "/api"
local counter = 0
-- Requests that do not change from one call to the next are formatted
-- once, in init: wrk shares the cores with Apache and PostgreSQL, and
-- formatting each request in Lua costs it CPU that the server would
-- otherwise get (pgbench, the ceiling, is a much lighter client).
local lists, gets, patches = {}, {}, {}

local function lines(path)
  local t = {}
  for l in io.lines(path) do t[#t + 1] = l end
  return t
end

local function auth(token, json)
  local h = { ["Authorization"] = "Bearer " .. token }
  if json then h["Content-Type"] = "application/json" end
  return h
end

function init(args)
  scenario = args[1] or "list"
  local dir = args[2] or "."
  prefix = args[3] or "/api"
  local tok = {}
  for _, l in ipairs(lines(dir .. "/tokens.txt")) do
    local u, t = l:match("^(%S+) (%S+)$")
    tok[u] = t
    users[#users + 1] = { user = u, token = t }
  end
  for _, l in ipairs(lines(dir .. "/tasks.txt")) do
    local u, id = l:match("^(%S+) (%S+)$")
    tasks[#tasks + 1] = { token = tok[u], id = id }
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
  for i, u in ipairs(users) do
    lists[i] = wrk.format("GET", prefix .. "/v1/tasks?limit=20", auth(u.token))
  end
  for i, t in ipairs(tasks) do
    gets[i] = wrk.format("GET", prefix .. "/v1/tasks/" .. t.id, auth(t.token))
    for p = 0, 3 do
      patches[4 * (i - 1) + p + 1] = wrk.format("PATCH", prefix .. "/v1/tasks/" .. t.id,
        auth(t.token, true), string.format('{"priority":%d}', p))
    end
  end
end

local function list()
  return lists[math.random(#lists)]
end

local function get()
  return gets[math.random(#gets)]
end

local function create()
  local u = users[math.random(#users)]
  counter = counter + 1
  return wrk.format("POST", prefix .. "/v1/tasks", auth(u.token, true),
    string.format('{"title":"bench task %d","description":"created by the benchmark",'
                  .. '"priority":%d,"due_at":"2030-01-01T00:00:00Z"}', counter,
                  math.random(0, 3)))
end

local function patch()
  return patches[math.random(#patches)]
end

local function mix()
  local r = math.random(100)
  if r <= 40 then return list() end
  if r <= 80 then return get() end
  if r <= 90 then return create() end
  return patch()
end

local pick = { list = list, get = get, create = create, patch = patch, mix = mix }

function request()
  return pick[scenario]()
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d requests=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.requests))
end
