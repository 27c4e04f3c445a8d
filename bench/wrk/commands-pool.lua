-- wrk script: POST /commands cycling over 200 keys per thread: the first pass stores them, every
-- later request is an idempotent replay of a stored command (no two in flight share a key).
-- (Compare commands-repeat.lua: one key for every connection.)
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
  local n = counter % 200
  local key = prefix .. "-" .. n
  local body = '{"id":"' .. key .. '","client_id":"wrk-client-' .. tid .. '","seq":' .. (n + 1) ..
    ',"stream":"wrk","kind":"bench.add","app":"wrk","payload":{"title":"Item ' .. n ..
    '","qty":1,"note":"' .. note .. '"},"created_at":1795000000000}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key }, body)
end
