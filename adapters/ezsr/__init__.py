"""EzSR-style market-data files: a snapshot of every security, rewritten at an interval."""
