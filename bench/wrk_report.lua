-- wrk script of bench/http: the method and JSON body come from the environment
-- (WRK_METHOD, WRK_BODY); at the end one machine-readable line is printed.
-- No request() or response() hook, so wrk sends the same prepared request at full
-- speed; no cookie is ever sent, so each rating POST is a new resident.
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
-- As the TLS-terminating proxy in front of gunicorn sets it (the portal's production
-- settings redirect plain HTTP to HTTPS otherwise); the floor ignores it.
wrk.headers["X-Forwarded-Proto"] = "https"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx3xx": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
