"""Which source files are the user's own code: not the stdlib, not an installed package (the blocked-loop sampler's
rule, app_under_test/blocksites.py) and not the harness's own packages, whose frames wrap every request here."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from app_under_test.blocksites import default_own_code

# bench/ (this wrapper, the uvicorn runner) and app_under_test/ (the sampler itself): never the user's code.
_HARNESS_DIRS = tuple(os.path.join(os.path.realpath(Path(__file__).resolve().parents[n] / name), "")
                      for n, name in ((1, ""), (2, "app_under_test")))


@lru_cache(maxsize=8192)
def user_code(filename: str) -> bool:
    if not default_own_code(filename):
        return False
    path = os.path.realpath(filename)
    return not any(path.startswith(d) for d in _HARNESS_DIRS)
