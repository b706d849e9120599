"""The one way from a time-zone name that came from outside (the browser's `tz` cookie, a form) to a zone.

A name is accepted only when it is one of the IANA zones this installation knows
(`zoneinfo.available_timezones()`, read once per process) and at most TIMEZONE_NAME_MAX_LENGTH characters:
`ZoneInfo()` on its own would open whatever path it is given (a directory such as `Europe`, a 4,000
character name) and raise errors other than ZoneInfoNotFoundError.
"""

import zoneinfo
from functools import lru_cache

# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia); anything much longer is not a zone.
TIMEZONE_NAME_MAX_LENGTH = 64


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_resolve(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone called `name`, or None when `name` is empty, too long or not a known zone. Never raises."""
    if not name or len(name) > TIMEZONE_NAME_MAX_LENGTH or name not in _zone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # a zone file removed since start-up
        return None
