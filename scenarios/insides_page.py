"""The live Insides page served by Locust's web UI at /insides: self-contained HTML (no external URL) whose
script reads /insides/stats twice a second."""

from __future__ import annotations

REFRESH_MS = 500

# (section, [(element id, label)]): the script fills each element by its id.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("App", (
        ("constructions", "ChatAgent constructions (since the app started)"),
        ("live_instances", "Live ChatAgent instances (peak)"),
        ("loop_lag_max_ms", "Event-loop lag, max (ms)"),
        ("loop_lag_p99_ms", "Event-loop lag, p99 of the last minute (ms)"),
        ("rss_mib", "App RSS, all processes (MiB)"),
        ("app_in_flight", "Requests in flight in the app (peak)"),
        ("loop_blocked", "Event loop blocked: ms (share of the time)"),
    )),
    ("Upstream (mock backend)", (
        ("upstream_429s", "Upstream 429s"),
        ("mock_in_flight", "Mock in flight (peak)"),
        ("mock_received", "Requests the mock received"),
    )),
    ("Locust", (
        ("locust_state", "State / users"),
        ("requests", "Requests (failures)"),
        ("rps", "Requests/s now"),
        ("response_times", "Response time median / p95 (ms)"),
    )),
)


def _sections() -> str:
    return "\n".join(
        f'<section><h2>{title}</h2><div class="grid">'
        + "".join(f'<div class="card"><div class="label">{label}</div><div class="value" id="{key}">-</div></div>'
                  for key, label in cards)
        + "</div></section>"
        for title, cards in SECTIONS)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Insides of the app under test</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #f6f7f9; color: #1d2330; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
  .meta { color: #555; margin-bottom: 1rem; }
  .meta b { color: #1d2330; }
  section { margin-bottom: 1.2rem; }
  h2 { font-size: .95rem; text-transform: uppercase; letter-spacing: .05em; color: #666; margin: 0 0 .4rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .6rem; }
  .card { background: #fff; border-radius: 8px; padding: .7rem .9rem; box-shadow: 0 1px 2px #0002; }
  .label { font-size: .8rem; color: #666; }
  .value { font-size: 1.6rem; font-variant-numeric: tabular-nums; margin-top: .2rem; }
  .small { font-size: .85rem; color: #666; }
  .bad { color: #c0392b; }
  .good { color: #1e8449; }
  #status { font-size: .85rem; color: #666; }
  a { color: #2c5aa0; }
  ol.sites { background: #fff; border-radius: 8px; padding: .7rem .9rem .7rem 2.2rem; margin: 0;
    box-shadow: 0 1px 2px #0002; font-family: ui-monospace, monospace; font-size: .85rem; }
</style>
</head>
<body>
<h1>Insides of the app under test</h1>
<div class="meta">variant <b id="variant">-</b> &middot; <span id="backend">-</span> &middot;
  app <span id="app_url">-</span> &middot; <a href="./">back to the Locust UI</a></div>
__SECTIONS__
<section><h2>Calls that blocked the event loop (since the test started)</h2>
<ol class="sites" id="blocked_sites"><li>-</li></ol></section>
<div id="status">connecting...</div>
<script>
const REFRESH_MS = __REFRESH_MS__;
const fmt = (v, d) => (v === null || v === undefined) ? "-" :
  (typeof v === "number" ? v.toLocaleString("en-US", {maximumFractionDigits: d === undefined ? 1 : d}) : String(v));
const pair = (a, b, d) => fmt(a, d) + (b === null || b === undefined ? "" : " (" + fmt(b, d) + ")");
function put(id, text, cls) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.className = el.className.split(" ").filter(c => c !== "bad" && c !== "good").join(" ") + (cls ? " " + cls : "");
}
function lagClass(ms) { return ms === null || ms === undefined ? "" : (ms >= 100 ? "bad" : "good"); }
function showBlocked(b) {
  put("loop_blocked", b ? fmt(b.blocked_ms, 0) + " (" + fmt(b.share * 100) + "%)" : "-",
      b ? (b.share >= 0.1 ? "bad" : "good") : "");
  const items = !b ? ["the app reports no blocked-loop figures"] :
    b.sites.length === 0 ? ["no block over " + fmt(b.threshold_ms, 0) + " ms"] :
    b.sites.map(x => x.where + (x.calls ? " -> " + x.calls : "") + ": " + fmt(x.blocked_ms, 0) + " ms (" +
                     fmt(x.share * 100, 0) + "% of blocked time)");
  document.getElementById("blocked_sites").replaceChildren(...items.map(text => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
}
async function refresh() {
  try {
    const r = await fetch("insides/stats", {cache: "no-store"});
    const s = await r.json();
    const a = s.app, m = s.mock, l = s.locust;
    put("variant", fmt(s.variant));
    put("backend", s.mode === "external" ? "your own server" : fmt(s.backend));
    put("app_url", fmt(s.app_url));
    put("constructions", fmt(a.constructions, 0));
    put("live_instances", pair(a.live_instances, a.live_instances_peak, 0));
    put("loop_lag_max_ms", fmt(a.loop_lag_max_ms), lagClass(a.loop_lag_max_ms));
    put("loop_lag_p99_ms", fmt(a.loop_lag_p99_ms), lagClass(a.loop_lag_p99_ms));
    put("rss_mib", fmt(a.rss_mib));
    put("app_in_flight", pair(a.in_flight, a.in_flight_peak, 0));
    showBlocked(a.blocked);
    put("upstream_429s", fmt(m.upstream_429s, 0), m.upstream_429s ? "bad" : "");
    put("mock_in_flight", pair(m.in_flight, m.peak_in_flight, 0));
    put("mock_received", fmt(m.received, 0));
    put("locust_state", fmt(l.state) + " / " + fmt(l.users, 0));
    put("requests", pair(l.requests, l.failures, 0), l.failures ? "bad" : "");
    put("rps", fmt(l.rps));
    put("response_times", fmt(l.median_ms, 0) + " / " + fmt(l.p95_ms, 0));
    let status = "updated " + new Date().toLocaleTimeString();
    if (s.error) status += " | could not start the servers: " + s.error;
    if (a.waiting_s > 1) status += " | waiting " + a.waiting_s.toFixed(1) +
      " s for the app's stats route (its event loop is busy)";
    else if (a.age_s !== null) status += " | app figures " + a.age_s.toFixed(1) + " s old";
    if (a.error) status += " | app: " + a.error;
    if (s.mode === "idle") status += " | press Start in the Locust UI to bring up the app";
    put("status", status);
  } catch (e) {
    put("status", "Locust is not answering (" + e + ")", "bad");
  }
}
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
""".replace("__REFRESH_MS__", str(REFRESH_MS)).replace("__SECTIONS__", _sections())
