-- Replays requests picked at random from a file, one request per line:
--   METHOD <TAB> PATH <TAB> JSON BODY or nothing <TAB> "gzip" or nothing
-- Usage: wrk ... -s bench/lua/requests.lua URL -- /path/to/requests.tsv
-- Every request is formatted once in init(); request() only picks one, so wrk stays cheap.
-- No response() callback: defining one makes wrk parse every body and slows it down; wrk
-- still counts non-2xx/3xx answers and socket errors in its summary.

local requests = {}
local count = 0
local next_id = 1

-- ARTIFACTD_BENCH_WRK_PORTS="P1,P2": thread i connects to 127.0.0.1:P((i-1) mod n + 1), so two
-- servers share the load (bench/postgres.ts, two artifactd instances on one database).
local ports = {}
for port in string.gmatch(os.getenv("ARTIFACTD_BENCH_WRK_PORTS") or "", "[^,]+") do
  ports[#ports + 1] = port
end

function setup(thread)
  thread:set("thread_id", next_id)
  if #ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", ports[((next_id - 1) % #ports) + 1])[1]
  end
  next_id = next_id + 1
end

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open request file " .. tostring(args[1]))
  for line in file:lines() do
    local method, path, body, encoding = line:match("^([^\t]+)\t([^\t]+)\t?([^\t]*)\t?(.*)$")
    if method then
      local headers = { ["Host"] = wrk.headers["Host"] }
      if encoding == "gzip" then
        headers["Accept-Encoding"] = "gzip"
      end
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      count = count + 1
      requests[count] = wrk.format(method, path, headers, body)
    end
  end
  file:close()
  assert(count > 0, "no requests in " .. args[1])
  math.randomseed(os.time() * 7919 + (thread_id or 0) * 104729)
end

function request()
  return requests[math.random(count)]
end
