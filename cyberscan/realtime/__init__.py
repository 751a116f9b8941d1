"""Socket.IO: importing this package registers the event handlers."""

from cyberscan.realtime import events  # noqa: F401
