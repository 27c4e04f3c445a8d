-- Shared by the wrk scripts: counts answers by HTTP status per thread and prints the totals
-- as one line "statuses: 201=... 409=..." when the run ends.
local threads = {}

function count_setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  statuses = statuses or {}
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, k .. "=" .. v) end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
