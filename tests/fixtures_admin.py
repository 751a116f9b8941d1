"""Fixtures for the admin and moderation tests (issue 5)."""
