"""Socket.IO event handlers (issue 4 completes them)."""
