-- GET with no body; only the JSON report (bare plaintext baseline, GET /v1/payments/{id}).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
