"""Pure risk logic: pre-trade checks, monitors, limits, market-maker protection, the kill
switch's state, stress tests and VaR. No I/O, no clock."""
