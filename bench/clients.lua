-- wrk script for bench/clients.sh: creates, with or without an
-- Idempotency-Key (a fresh key per request, as a client retrying nothing
-- would send), spread over the benchmark users' tokens.  Arguments (after
-- "--"): mode ("plain" or "keyed"), data directory (tokens.txt: "user
-- token" per line).

local mode, tokens = "plain", {}
local counter, thread_tag = 0, ""

function setup(thread)
  thread:set("tag", tostring(math.random(1, 1e9)))
end

function init(args)
  mode = args[1] or "plain"
  for l in io.lines((args[2] or ".") .. "/tokens.txt") do
    local _, t = l:match("^(%S+) (%S+)$")
    tokens[#tokens + 1] = t
  end
  thread_tag = tag or tostring(math.random(1, 1e9))
  math.randomseed(os.time() + tonumber(thread_tag))
end

function request()
  counter = counter + 1
  local h = { ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
              ["Content-Type"] = "application/json" }
  if mode == "keyed" then
    h["Idempotency-Key"] = string.format('"%s-%d-%d"', thread_tag, counter, math.random(1, 1e9))
  end
  return wrk.format("POST", "/api/v1/tasks", h,
    string.format('{"title":"bench task %d","description":"created by the benchmark",'
                  .. '"priority":%d,"due_at":"2030-01-01T00:00:00Z"}', counter,
                  math.random(0, 3)))
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d requests=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.requests))
end
