-- wrk -s: revalidate a list as a polling client does. Every request sends
-- If-None-Match with the entity tag last seen; a 200 (the list changed)
-- brings a new tag. args: the first tag. At the end: how many of each.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) etag = args[1]; n304 = 0; n200 = 0; nother = 0 end
function request()
  local h = {}   -- wrk.format's headers replace wrk.headers (-H): copy them
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["If-None-Match"] = etag
  return wrk.format("GET", nil, h)
end
function response(status, headers, body)
  if status == 304 then n304 = n304 + 1
  elseif status == 200 then n200 = n200 + 1; etag = headers["etag"] or headers["ETag"] or etag
  else nother = nother + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("n304"); b = b + t:get("n200"); c = c + t:get("nother") end
  io.write(string.format("revalidated: %d 304 %d 200 %d other\n", a, b, c))
end
