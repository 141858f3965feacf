"""Child processes the harness starts and stops.

- `process`: pre-bound loopback sockets, readiness probes, process-tree teardown, whitelisted environments.
- `uvicorn_runner`: serves an ASGI app on an inherited socket (the child side of every HTTP server here).
- `app`: the app under test as a child server (`AppServer`: start, stats, per-worker counts, resets).
- `target`: a user's app (`--app MODULE:ATTR`) as a child server shaped like `AppServer` (`TargetServer`), instrumented
  by `bench.inject` before its module is imported.
- `localllm`: a small real model behind llama-cpp-python's OpenAI-compatible server.
- `sampler`: RSS / CPU of a server's process tree while a run lasts.
"""
