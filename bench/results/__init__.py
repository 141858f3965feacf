"""results.json: the contract between a run and everything that reads it (report, gate, compare).

- `schema`: the format's history, its typed shape, writing and loading (old files upgraded there only).
- `runs`: query helpers over the runs of a results file (select by scenario, variant, axes; per-run figures).
- `stats`: medians, bootstrap intervals, significance: the statistics report and gate share.
"""
