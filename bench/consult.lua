-- wrk script: POST /api/v1/consultations, each request with the next lead
-- recorded by leads.lua, spread over the windows in TURNOUT_BENCH_WINDOWS.
local leads = {}
local windows = {}
local counter = 0
local out_dir = os.getenv("TURNOUT_BENCH_OUT") or "bench/out"
local thread_count = tonumber(os.getenv("TURNOUT_BENCH_THREADS") or "2")

for id in string.gmatch(os.getenv("TURNOUT_BENCH_WINDOWS") or "", "%S+") do
  table.insert(windows, id)
end

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  -- Each thread takes every thread_count-th lead, so no two share one.
  local index = 0
  for t = 1, 16 do
    local file = io.open(string.format("%s/leads-%d.txt", out_dir, t), "r")
    if file then
      for line in file:lines() do
        index = index + 1
        if index % thread_count == thread_id - 1 then
          local id, token = string.match(line, "(%S+) (%S+)")
          table.insert(leads, {id, token})
        end
      end
      file:close()
    end
  end
end

request = function()
  counter = counter + 1
  local lead = leads[((counter - 1) % #leads) + 1]
  local window = windows[(counter % #windows) + 1]
  local body = string.format('{"lead_id":"%s","lead_token":"%s","window_id":"%s"}', lead[1], lead[2], window)
  return wrk.format("POST", "/api/v1/consultations", {["Content-Type"] = "application/json"}, body)
end
