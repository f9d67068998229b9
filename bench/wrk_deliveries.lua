-- wrk script of bench/webhook_load.py: replays pre-built, pre-signed WooCommerce deliveries.
--
--   wrk -t2 -c32 -d63s --latency -s bench/wrk_deliveries.lua http://127.0.0.1:PORT/ \
--       -- <requests prefix> <threads> <active seconds> <rate per second, 0 = unpaced>
--
-- Thread i reads "<prefix>.<i>": records "<length>\n<raw HTTP request>" (webhook_load.py writes
-- them: real order.updated bodies, distinct, each with its own X-WC-Webhook-Signature) and sends
-- them in turn, wrapping around if it runs out.
-- Pacing: with a rate, each thread keeps a schedule of one request every threads/rate seconds
-- (requests that fall behind go out at once, up to one per connection). After <active seconds>
-- no new request is sent, so the requests in flight finish within wrk's -d and every delivery
-- the server stored was also counted here. wrk's latency is from writing the request to the
-- end of the response (it excludes the TCP connect of Connection: close requests).
-- done() prints one line: "AFTERCARE_WRK {json}".

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } aftercare_timespec;
int clock_gettime(int clock_id, aftercare_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("aftercare_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

-- main state: one entry per thread, for done()
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- thread state
local requests = {}
local cursor = 0
local interval = 0
local stop_at = 0
local next_at = 0
ok, other, sent, wrapped, late = 0, 0, 0, 0, 0

function init(args)
  local prefix, thread_count = args[1], tonumber(args[2])
  local active, rate = tonumber(args[3]), tonumber(args[4])
  local file = assert(io.open(prefix .. "." .. thread_index, "rb"))
  while true do
    local header = file:read("*l")
    if not header then break end
    requests[#requests + 1] = file:read(tonumber(header))
  end
  file:close()
  assert(#requests > 0, "no requests in " .. prefix .. "." .. thread_index)
  if rate > 0 then interval = thread_count / rate end
  local start = now()
  stop_at = start + active
  next_at = start
end

local STOP = 3600 * 1000 -- ms: no more requests on this connection; wrk's -d ends the run

function delay()
  local t = now()
  if t >= stop_at then return STOP end
  if interval == 0 then return 0 end
  next_at = next_at + interval
  if next_at >= stop_at then return STOP end -- the slot is past the window
  local wait = next_at - t
  if wait <= 0 then return 0 end
  return math.floor(wait * 1000)
end

function request()
  cursor = cursor + 1
  if cursor > #requests then
    cursor = 1
    wrapped = wrapped + 1
  end
  sent = sent + 1
  if now() >= stop_at then late = late + 1 end
  return requests[cursor]
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, _requests)
  local totals = { ok = 0, other = 0, sent = 0, wrapped = 0, late = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
  end
  local parts = {}
  local function put(key, value) parts[#parts + 1] = string.format('"%s":%s', key, value) end
  for key, value in pairs(totals) do put(key, value) end
  put("completed", summary.requests)
  put("duration_us", summary.duration)
  put("bytes", summary.bytes)
  put("errors_connect", summary.errors.connect)
  put("errors_read", summary.errors.read)
  put("errors_write", summary.errors.write)
  put("errors_status", summary.errors.status)
  put("errors_timeout", summary.errors.timeout)
  put("latency_mean_us", latency.mean)
  put("latency_max_us", latency.max)
  for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
    put("latency_p" .. string.gsub(tostring(p), "%.", "_") .. "_us", latency:percentile(p))
  end
  io.write("AFTERCARE_WRK {" .. table.concat(parts, ",") .. "}\n")
end
