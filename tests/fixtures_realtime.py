"""Fixtures for the real-time tests (issue 4)."""
