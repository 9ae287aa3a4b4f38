-- wrk script for the latency-at-fixed-load scenario (bench/ops.sh): the
-- requests of bench.lua, but each connection waits `pace` milliseconds
-- (the fourth argument) after each answer before sending the next, so
-- that the load is a fixed fraction of the peak instead of all the
-- server can take.  Arguments (after "--"): scenario, data directory,
-- prefix, pace in ms.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "bench.lua")

local pace = 0
local bench_init = init

function init(args)
  bench_init(args)
  pace = tonumber(args[4]) or 0
end

-- Defined here, at the top level, so that wrk sees it before init runs.
function delay()
  return pace
end
