-- wrk script: POST /api/v1/registrations with a new person every request,
-- spread over the slots listed in TURNOUT_BENCH_SLOTS.
local counter = 0
local thread_id = 0
local slots = {}
local webinar = os.getenv("TURNOUT_BENCH_WEBINAR")

for id in string.gmatch(os.getenv("TURNOUT_BENCH_SLOTS") or "", "%d+") do
  table.insert(slots, id)
end

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + thread_id)
  run_id = math.random(1, 1000000000)
end

request = function()
  counter = counter + 1
  local slot = slots[(counter % #slots) + 1]
  local body = string.format(
    '{"slot_id":%s,"webinar":"%s","name":"Bench Visitor","email":"v%d-%d-%d@example.com",' ..
    '"phone":"+91 98765 43210","time_zone":"Asia/Kolkata","consent":{"privacy_policy":true,"sms":false}}',
    slot, webinar, run_id, thread_id, counter)
  return wrk.format("POST", "/api/v1/registrations", {["Content-Type"] = "application/json"}, body)
end
