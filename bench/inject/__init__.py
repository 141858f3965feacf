"""The child side of `--app MODULE:ATTR`: instrumentation installed in the user's app process before its module is
imported, and inert anywhere else (the user's code never imports it).

    bootstrap.py  the uvicorn factory each worker loads: installs the watchers, imports the target, wraps it
    watch.py      `--watch MODULE:CLASS`: constructions, live instances and construction sites of a class
    owncode.py    which frames are the user's code (not the stdlib, installed packages or the harness)
    asgi.py       the thin ASGI wrapper: `/__bench__/stats|reset|healthz`, everything else to the user's app
    probes.py     loop lag, the blocked-loop sampler, requests in flight and RSS of this process

The parent side is `bench.servers.target` (TargetServer, shaped like the reference app's AppServer).
"""
