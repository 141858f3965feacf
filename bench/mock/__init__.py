"""The mock OpenAI backend: chat completions (plain and SSE), a seeded latency model, OpenAI-like rate
limits with 429 + `retry-after`, seeded faults and exact accounting; as a server process or an in-process twin.
"""

from __future__ import annotations

from bench.mock.config import TIERS, MockConfig

__all__ = ["TIERS", "MockConfig"]
