-- GET /callbacks/vnpay/ipn with pre-signed queries, one per attempt, cycling through this
-- thread's slice. Counts answers: "00" (a first-time transition) as ok, anything else as bad —
-- or, with the third argument "dup", "02" (already confirmed) as ok.
-- wrk args: <queries file> <threads> [dup]
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local qs, i, want

function init(args)
   qs = load_slice(args[1], tid, tonumber(args[2]))
   want = (args[3] == "dup") and '"RspCode":"02"' or '"RspCode":"00"'
   i = 0
end

function request()
   i = i + 1
   if i > #qs then i = 1; wrapped = wrapped + 1 end
   return wrk.format("GET", "/callbacks/vnpay/ipn?" .. qs[i])
end

function response(status, headers, body)
   if status == 200 and body and string.find(body, want, 1, true) then
      ok = ok + 1
   else
      note_bad(status, body)
   end
end
