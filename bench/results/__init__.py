"""results.json: the contract between a run and everything that reads it (report, gate, compare).

- `schema`: the format's history, writing and loading (older files upgraded there only, in `upgrade`).
- `shape`: the current format as TypedDicts, checked against the committed example by a unit test.
- `runs`: query helpers over the runs of a results file (select by scenario, variant, axes; per-run figures).
- `stats`: medians, bootstrap intervals, significance: the statistics report and gate share.
"""
