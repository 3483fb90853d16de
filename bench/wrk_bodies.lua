-- wrk script for bench/ingest.py: POST pre-signed, distinct Eduzz bodies in order.
--
--   wrk -t2 -c50 -d10s --latency -s bench/wrk_bodies.lua http://127.0.0.1:PORT/webhooks/eduzz \
--       -- BODIES_FILE THREADS
--
-- BODIES_FILE holds one request per line: "<hex x-signature> <compact JSON body>".
-- Thread k (0-based) sends lines k, k+THREADS, k+2*THREADS, ... so no two threads send
-- the same body; after its last line a thread wraps around (those requests are duplicates).
-- Requests are built once in init(), so the per-request Lua cost is a table lookup.
-- response() counts statuses and Ponte's outcome ("accepted"/"duplicate"); done() prints
-- one machine-readable line, "BENCH_RESULT {json}", with exact figures from wrk itself.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   local nthreads = tonumber(args[2]) or 1
   local path_only = wrk.path
   reqs = {}
   local f = assert(io.open(path, "rb"))
   local i = 0
   for line in f:lines() do
      if i % nthreads == tid then
         local sig = line:sub(1, 64)
         local body = line:sub(66)
         reqs[#reqs + 1] = wrk.format("POST", path_only, {
            ["Content-Type"] = "application/json",
            ["User-Agent"] = "ponte-bench/wrk",
            ["x-signature"] = sig,
         }, body)
      end
      i = i + 1
   end
   f:close()
   assert(#reqs > 0, "no bodies for thread " .. tid)
   n = #reqs
   idx = 0
   sent = 0
   status_200 = 0
   accepted = 0
   duplicate = 0
   non200 = 0
end

function request()
   idx = idx + 1
   if idx > n then idx = 1 end
   sent = sent + 1
   return reqs[idx]
end

function response(status, headers, body)
   if status == 200 then
      status_200 = status_200 + 1
      if body:find('"accepted"', 1, true) then
         accepted = accepted + 1
      elseif body:find('"duplicate"', 1, true) then
         duplicate = duplicate + 1
      end
   else
      non200 = non200 + 1
   end
end

function done(summary, latency, requests)
   local t = {sent = 0, status_200 = 0, accepted = 0, duplicate = 0, non200 = 0, bodies_per_thread = {}}
   for _, thread in ipairs(threads) do
      t.sent = t.sent + thread:get("sent")
      t.status_200 = t.status_200 + thread:get("status_200")
      t.accepted = t.accepted + thread:get("accepted")
      t.duplicate = t.duplicate + thread:get("duplicate")
      t.non200 = t.non200 + thread:get("non200")
      table.insert(t.bodies_per_thread, thread:get("n"))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"p50_us":%d,"p75_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
      '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,' ..
      '"sent":%d,"status_200":%d,"accepted":%d,"duplicate":%d,"non200":%d,"bodies_per_thread":[%s]}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(75), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout,
      t.sent, t.status_200, t.accepted, t.duplicate, t.non200,
      table.concat(t.bodies_per_thread, ",")))
end
