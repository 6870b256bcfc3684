-- wrk script: each request posts one pledge act on the scheme in SCHEME.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"action":"record_pledge","entry":{"role":"community","amount":150000}}'
wrk.path = "/api/v1/schemes/" .. os.getenv("SCHEME") .. "/acts"
