"""Fixtures shared by the whole suite."""

import pytest

from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config


@pytest.fixture(scope="session")
def config():
    """The repository's configuration, as shipped."""
    return load_config()


@pytest.fixture(scope="session")
def calendar(config):
    """The trading calendar built from it."""
    return build_calendar(config.holidays)
