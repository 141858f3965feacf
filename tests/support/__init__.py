"""Helpers shared by the test tiers (stand-in servers)."""
