-- POST /v1/payments: each request a unique Idempotency-Key and a notice no other request uses
-- (an item can be held by only one live payment). Cycles once through this thread's slice of
-- the notice ids; if the slice runs out it wraps (counted in "wrapped": those requests get 409,
-- which run.sh reports as invalid).
-- wrk args: <notice ids file> <threads> <key prefix> ; env BENCH_TOKEN
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local ids, i, n, prefix, headers

function init(args)
   ids = load_slice(args[1], tid, tonumber(args[2]))
   prefix = args[3] .. "-" .. tid .. "-"
   i, n = 0, 0
   headers = {
      ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
      ["Content-Type"] = "application/json",
   }
end

function request()
   i = i + 1
   if i > #ids then i = 1; wrapped = wrapped + 1 end
   n = n + 1
   headers["Idempotency-Key"] = prefix .. n
   local body = '{"agency_code":"HN-VPDKDD","dossier_code":"000.00.12.H26-261120-0001",' ..
      '"items":[{"notice_id":"' .. ids[i] .. '"}],"payer":{"name":"Nguyen Van A"},' ..
      '"return_url":"https://dichvucong.example.gov.vn/hoso/1","locale":"vi"}'
   return wrk.format("POST", "/v1/payments", headers, body)
end
