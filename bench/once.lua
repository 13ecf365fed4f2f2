-- wrk script that sends each of a fixed list of requests once, spread over the threads, then
-- only `GET /healthz` once a second per connection until bench/run.py, which watches for the
-- work to be done (in the database or the service's metrics), stops wrk (it writes the arguments):
--   wrk ... -s once.lua URL -- <threads> <lines file> <token file or -> <method> <path template> <body template>
-- Each line of the lines file is substituted for `{line}` in the path and body templates.
-- Counts answers by class (the health checks among the 2xx) and prints one JSON line at the end.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[1])
  lines = {}
  local n = 0
  for line in io.lines(args[2]) do
    if n % nthreads == tid then table.insert(lines, line) end
    n = n + 1
  end
  headers = {["Content-Type"] = "application/json"}
  if args[3] ~= "-" then
    local f = io.open(args[3]); headers["Authorization"] = "Bearer " .. f:read("*l"); f:close()
  end
  method, path, body = args[4], args[5], args[6]
  idx = 0; ok = 0; client = 0; server = 0
end

function request()
  idx = idx + 1
  local line = lines[idx]
  if line == nil then
    return wrk.format("GET", "/healthz")
  end
  return wrk.format(method, (path:gsub("{line}", line)), headers, (body:gsub("{line}", line)))
end

function delay()
  if idx >= #lines then return 1000 end
  return 0
end

function response(status, headers, body)
  if status < 300 then ok = ok + 1 elseif status < 500 then client = client + 1 else server = server + 1 end
end

function done(summary, latency, requests)
  local oks, clients, servers = 0, 0, 0
  for _, t in ipairs(threads) do
    oks = oks + t:get("ok"); clients = clients + t:get("client"); servers = servers + t:get("server")
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "ok": %d, "4xx": %d, "5xx": %d}\n',
    oks + clients + servers, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, oks, clients, servers))
end
