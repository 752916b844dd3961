-- Shared by the wrk scripts of bench/run.sh (loaded with dofile from each script).
-- Each wrk thread gets an id in setup(); a list file is split so that thread t takes lines
-- t, t+n, t+2n, … — no two threads ever send the same line. done() prints one JSON line,
-- prefixed "BENCH ", that run.sh keeps as the phase's result.

local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- Lines of `path` that belong to thread `tid` of `n`.
function load_slice(path, tid, n)
   local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
   local out, i = {}, 0
   for line in f:lines() do
      if line ~= "" then
         if i % n == tid then out[#out + 1] = line end
         i = i + 1
      end
   end
   f:close()
   assert(#out > 0, "no lines for thread " .. tid .. " in " .. path)
   return out
end

-- Counters a script may keep per thread (globals, read back in done()).
ok, bad, wrapped = 0, 0, 0
bad_sample = nil -- the first unexpected answer of a thread, for the report

function note_bad(status, body)
   bad = bad + 1
   if bad_sample == nil then
      bad_sample = tostring(status) .. " " .. string.sub(tostring(body), 1, 160)
   end
end

function report(summary, latency)
   local e = summary.errors
   local ok_n, bad_n, wrapped_n = 0, 0, 0
   for _, t in ipairs(threads) do
      ok_n = ok_n + (t:get("ok") or 0)
      bad_n = bad_n + (t:get("bad") or 0)
      wrapped_n = wrapped_n + (t:get("wrapped") or 0)
      local sample = t:get("bad_sample")
      if sample then io.write("unexpected answer (thread ", t:get("tid"), "): ", sample, "\n") end
   end
   local secs = summary.duration / 1e6
   io.write(string.format(
      'BENCH {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"mean_us":%.1f,"non2xx":%d,"socket_errors":%d,"timeouts":%d,"ok":%d,"bad":%d,"wrapped":%d}\n',
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.status, e.connect + e.read + e.write, e.timeout, ok_n, bad_n + e.status, wrapped_n))
end

function done(summary, latency, requests)
   report(summary, latency)
end
