-- wrk script for the read scenarios (bench/run.py writes the arguments):
--   wrk ... -s get.lua URL -- <token file> <path template> <lo> <hi> [<ms between requests>]
-- Each request GETs the template with `{id}` replaced by a random id in [lo, hi] (the ids of
-- findings in the caller's scope), as the caller of the token. With a pause, each connection
-- waits that long before each request (a fixed rate: connections / pause). Prints one JSON
-- line at the end.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local f = io.open(args[1]); token = f:read("*l"); f:close()
  template = args[2]
  lo = tonumber(args[3]); hi = tonumber(args[4])
  math.randomseed(os.time() * 1000 + tid)
  headers = {["Authorization"] = "Bearer " .. token}
  pause = tonumber(args[5] or "0")
end

function delay()
  return pause
end

function request()
  local path = template:gsub("{id}", tostring(math.random(lo, hi)))
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
