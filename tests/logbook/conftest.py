from tests.logbook.fixtures import *  # noqa: F403 - shared personas and helpers
