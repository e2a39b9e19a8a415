"""EzTrans-style end-of-day files: reference data, trades, positions, closing prices."""
