"""Reference data from outside the process: configuration files and trading calendars."""
