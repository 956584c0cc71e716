-- wrk script: POST /api/v1/leads with a new person every request, writing
-- each lead's id and token to bench/out/leads-<thread>.txt for consult.lua.
local counter = 0
local webinar = os.getenv("TURNOUT_BENCH_WEBINAR")
local out_dir = os.getenv("TURNOUT_BENCH_OUT") or "bench/out"

local threads = {}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + thread_id)
  run_id = math.random(1, 1000000000)
  file = io.open(string.format("%s/leads-%d.txt", out_dir, thread_id), "a")
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"webinar":"%s","name":"Bench Visitor","email":"l%d-%d-%d@example.com",' ..
    '"phone":"+91 98765 43210","time_zone":"Asia/Kolkata","consent":{"privacy_policy":true,"sms":false}}',
    webinar, run_id, thread_id, counter)
  return wrk.format("POST", "/api/v1/leads", {["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"lead_id":"([^"]+)"')
    local token = string.match(body, '"lead_token":"([^"]+)"')
    if id and token then
      file:write(id, " ", token, "\n")
      file:flush()
    end
  end
end
