-- wrk script: POST /commands with one Idempotency-Key and body, over and over: the first
-- request stores it, every later one is an idempotent replay of the stored answer.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("status-counts")
local key = "wrk-repeat-0001"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Idempotency-Key"] = key
wrk.body = '{"id":"' .. key .. '","client_id":"wrk-client","seq":1,"stream":"wrk","kind":"bench.add",' ..
  '"app":"wrk","payload":{"title":"Item 1","qty":1,"note":"' .. string.rep("x", 100) .. '"},"created_at":1795000000000}'

function setup(thread)
  count_setup(thread)
end
