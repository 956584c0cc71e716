-- wrk script: POST /api/v1/registrations with a new person every request,
-- spread over the slots listed in TURNOUT_BENCH_SLOTS. With
-- TURNOUT_BENCH_FORWARDED set, each request names one of 60,000 client
-- addresses in X-Forwarded-For (the server trusts 127.0.0.1), so the
-- abuse limits are exercised without refusing anyone.
local counter = 0
-- thread_id is a global each thread's setup sets: declaring a local of the
-- same name here once gave both threads id 0, one seed and one run_id, so
-- every person registered twice.
local slots = {}
local webinar = os.getenv("TURNOUT_BENCH_WEBINAR")
local forwarded = os.getenv("TURNOUT_BENCH_FORWARDED") ~= nil

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
  local headers = {["Content-Type"] = "application/json"}
  if forwarded then
    local client = (counter * 2 + thread_id) % 60000
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", thread_id, math.floor(client / 256) % 256, client % 256)
  end
  return wrk.format("POST", "/api/v1/registrations", headers, body)
end
