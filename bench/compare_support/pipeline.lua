-- wrk: 16 requests pipelined per write (the same request each time).
init = function(args)
  local path = args[1] or "/hello.html"
  local depth = tonumber(args[2] or "16")
  local r = {}
  for i = 1, depth do r[i] = wrk.format("GET", path) end
  req = table.concat(r)
end

request = function()
  return req
end
