-- GET /v1/payments/{id}, cycling through this thread's slice of the ids file.
-- wrk args: <ids file> <threads> ; env BENCH_TOKEN
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local ids, i, headers

function init(args)
   ids = load_slice(args[1], tid, tonumber(args[2]))
   i = 0
   headers = { ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
end

function request()
   i = i % #ids + 1
   return wrk.format("GET", "/v1/payments/" .. ids[i], headers)
end
