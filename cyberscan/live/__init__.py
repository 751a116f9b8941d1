"""The outbound live layer: what services use to reach connected people."""
