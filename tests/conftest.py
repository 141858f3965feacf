"""Shared fixtures: tiers are selected with markers (`-m "not integration and not e2e"` runs the fast tier)."""

from __future__ import annotations
