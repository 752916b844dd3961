-- POST /v1/quotes with the transfer example of the API reference (pure calculation).
-- wrk args: <body file> [path, default /v1/quotes] ; env BENCH_TOKEN
-- (with the path /json-echo it is the same request to the bare actix-web JSON echo)
dofile(os.getenv("BENCH_LUA") .. "/common.lua")

local req

function init(args)
   local f = assert(io.open(args[1], "r"))
   local body = f:read("*a")
   f:close()
   req = wrk.format("POST", args[2] or "/v1/quotes", {
      ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
      ["Content-Type"] = "application/json",
   }, body)
end

function request()
   return req
end
