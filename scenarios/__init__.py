"""Locust users, load shapes and per-request records for the benchmark scenarios.

Locust side (import `locust` first): users, calls, burst, arrival, shapes, completion, hooks.
Pure, importable by `bench` without gevent: registry, options, records, schedule, sse, clock, runstate.
"""
