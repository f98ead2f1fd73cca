-- wrk script for benchmarks/load.py: every request addresses a NEW order.
--
-- Configured by environment variables (load.py sets them):
--   LB_METHOD   HTTP method                          LB_PATH  path template, "{n}" = order number
--   LB_BODY     body template ("" for none)          LB_HEADERS  "Name: value" lines
--   LB_START    first order number of this run       LB_THREADS  wrk's -t (the stride)
--   LB_COUNT    when > 0: each thread stops after its share (count / threads) of answers
--               and prints LBDONE
-- Thread k sends orders LB_START + k, + k + LB_THREADS, ... so runs and threads never share
-- an order. done() prints one line "LBJSON {...}": counts, errors, latency percentiles (us)
-- and the highest order number sent, from which load.py starts the next run.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  method = os.getenv("LB_METHOD") or "POST"
  path_t = os.getenv("LB_PATH")
  body_t = os.getenv("LB_BODY") or ""
  step = tonumber(os.getenv("LB_THREADS") or "1")
  n = tonumber(os.getenv("LB_START") or "0") + tid
  last = -1
  used = 0
  quota = math.ceil(tonumber(os.getenv("LB_COUNT") or "0") / step)
  answered = 0
  headers = {}
  for line in string.gmatch(os.getenv("LB_HEADERS") or "", "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
end

function request()
  local num = string.format("%d", n)
  local path = string.gsub(path_t, "{n}", num)
  local body = nil
  if body_t ~= "" then body = string.gsub(body_t, "{n}", num) end
  last = n
  used = used + 1
  n = n + step
  return wrk.format(method, path, headers, body)
end

-- defined only for a counted run: a response() callback makes wrk parse every answer
if tonumber(os.getenv("LB_COUNT") or "0") > 0 then
  function response(status, headers, body)
    answered = answered + 1
    if answered == quota then
      -- wrk's main thread sleeps for -d whatever the threads do: load.py sends it SIGINT
      -- (which ends that sleep) once every thread has said so
      io.write("LBDONE\n")
      io.flush()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local max_n, sent = -1, 0
  for _, thread in ipairs(threads) do
    local l = thread:get("last")
    if l and l > max_n then max_n = l end
    sent = sent + (thread:get("used") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'LBJSON {"requests":%d,"duration_us":%d,"bytes":%d,"sent":%d,"max_n":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%.1f,"p90":%.1f,"p99":%.1f,"mean":%.1f,"max":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes, sent, max_n,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
