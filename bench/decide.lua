-- wrk script: each thread decides its share of the pending closure requests, each once
-- (load enough of them to outlast the run; a thread that runs out stops). Usage: wrk -t4 -c16 -s decide.lua URL -- <threads> <ids file> <token file>
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[1])
  ids = {}
  local n = 0
  for line in io.lines(args[2]) do
    if n % nthreads == tid then table.insert(ids, line) end
    n = n + 1
  end
  local f = io.open(args[3]); token = f:read("*l"); f:close()
  idx = 0
  ok = 0
  bad = 0
end

function request()
  idx = idx + 1
  local id = ids[idx] or ids[#ids]
  return wrk.format("POST", "/api/v1/closure-requests/" .. id .. "/decisions",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
    '{"decision":"approve","comment":"同意"}')
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
  if ok + bad >= #ids then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local oks, bads = 0, 0
  for _, t in ipairs(threads) do oks = oks + t:get("ok"); bads = bads + t:get("bad") end
  local secs = summary.duration / 1e6
  io.write(string.format("decided %d (non-200 %d) in %.2f s: %.0f decisions/s, p50 %.1f ms, p99 %.1f ms\n",
    oks, bads, secs, oks / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
