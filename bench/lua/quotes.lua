-- POST /v1/quotes with the transfer example of the API reference (pure calculation).
-- wrk args: <body file> ; env BENCH_TOKEN
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local req

function init(args)
   local f = assert(io.open(args[1], "r"))
   local body = f:read("*a")
   f:close()
   req = wrk.format("POST", "/v1/quotes", {
      ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
      ["Content-Type"] = "application/json",
   }, body)
end

function request()
   return req
end
