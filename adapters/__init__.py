"""Everything that speaks to an exchange or reads the outside world: links, the simulator,
and the reference-data sources (configuration files, trading calendars). Adapters translate;
they decide nothing (the simulator decides as an exchange would)."""
