"""The run pipeline: a plan in, results.json out.

- `config` / `profiles`: the frozen run configuration and the named profiles (steps of scenarios x variants).
- `backends`: which upstream a run talks to, and the flags that choose it.
- `orchestrator`: one entry point (`run_plan`) that `bench run` and `bench gate` both call.
- `execute`: one run of one scenario against one app; `locust_job`: Locust as a subprocess, records merged.
- `probes` / `static`: measurements that need no load (tiers, .env read-back, provider code lines).
- `cost` / `progress` / `host`: the paid-backend guard, the progress bar, host metadata.
"""
