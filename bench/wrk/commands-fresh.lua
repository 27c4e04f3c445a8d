-- wrk script: POST /commands with a fresh Idempotency-Key (= command id) on every request.
-- Each thread numbers its own keys under a random per-thread prefix.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
require("status-counts")
local next_id = 0

function setup(thread)
  count_setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function init(args)
  math.randomseed(os.time() + tid * 7919)
  prefix = string.format("wrk%d-%06x", tid, math.random(0, 0xffffff))
  counter = 0
  note = string.rep("x", 100)
end

function request()
  counter = counter + 1
  local key = prefix .. "-" .. counter
  local body = '{"id":"' .. key .. '","client_id":"wrk-client-' .. tid .. '","seq":' .. counter ..
    ',"stream":"wrk","kind":"bench.add","app":"wrk","payload":{"title":"Item ' .. counter ..
    '","qty":1,"note":"' .. note .. '"},"created_at":1795000000000}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key }, body)
end
