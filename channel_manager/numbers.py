"""Bounded parsing of the whole numbers that people and files send (form fields, query strings, imports).

Python's int() refuses a string of more than 4,300 digits with a ValueError that nothing expects, and a
number with fewer digits can still overflow a database column. Every whole number that comes from outside
goes through `whole_number_parse` (a clear reason when it is refused) or `query_int` (a query-string
parameter, which falls back to its default). Both look at the number of digits before converting, so the
cost and the outcome do not depend on how long the text is.
"""

import re

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class NumberInvalid(ValueError):
    """Not a whole number, or outside the accepted range."""


class NumberNotWhole(NumberInvalid):
    """Not an optional sign followed by the digits 0-9."""


class NumberTooSmall(NumberInvalid):
    """Below the minimum."""


class NumberTooLarge(NumberInvalid):
    """Above the maximum."""


def whole_number_parse(text: str, *, min_value: int, max_value: int) -> int:
    """The whole number written in `text` (surrounding spaces allowed), between `min_value` and `max_value`.

    Raises NumberNotWhole, NumberTooSmall or NumberTooLarge (all NumberInvalid, a ValueError); their
    messages never repeat the text, which may be megabytes long.
    """
    text = text.strip()
    if not _WHOLE_NUMBER.fullmatch(text):
        raise NumberNotWhole("not a whole number")
    negative = text.startswith("-")
    digits = text.lstrip("+-").lstrip("0")
    bound = min_value if negative else max_value
    if len(digits) > len(str(abs(bound))):  # more digits than the bound: out of range, decided without int()
        raise (NumberTooSmall if negative else NumberTooLarge)(f"outside {min_value}..{max_value}")
    number = -int(digits or "0") if negative else int(digits or "0")  # without the zeros int() would count
    if number < min_value:
        raise NumberTooSmall(f"below {min_value}")
    if number > max_value:
        raise NumberTooLarge(f"above {max_value}")
    return number


def query_int(value: str | None, *, default: int, min_value: int = 1, max_value: int = 2**31 - 1) -> int:
    """A query-string parameter as a whole number, or `default` when it is missing, not a whole number or
    outside `min_value`..`max_value`."""
    if not value:
        return default
    try:
        return whole_number_parse(value, min_value=min_value, max_value=max_value)
    except NumberInvalid:
        return default
