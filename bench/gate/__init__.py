"""The CI regression gate: gated metrics read from a run (`metrics`), the committed baseline (`baseline`), the
decisions (`compare`), and their table, Markdown and JUnit XML. `bench gate` (bench/commands/gate.py) drives it."""
