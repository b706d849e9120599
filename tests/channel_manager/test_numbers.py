"""Bounded whole-number parsing: any text gives a number in range or a clear refusal, never int()'s own
ValueError for more than 4,300 digits, and never a number a database column cannot hold."""

import pytest

from channel_manager.numbers import (
    NumberNotWhole,
    NumberTooLarge,
    NumberTooSmall,
    query_int,
    whole_number_parse,
)

FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("42", 42), (" 7 ", 7), ("+3", 3), ("0009", 9), ("100", 100), ("-0", 0), ("000" + "1" * 3, 111)],
)
def test_a_whole_number_in_range_is_parsed(text, expected):
    assert whole_number_parse(text, min_value=0, max_value=1000) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (FIVE_THOUSAND_DIGITS, NumberTooLarge),
        ("-" + FIVE_THOUSAND_DIGITS, NumberTooSmall),
        ("1001", NumberTooLarge),
        ("-1", NumberTooSmall),
        ("1.5", NumberNotWhole),
        ("1e3", NumberNotWhole),
        ("", NumberNotWhole),
        ("١٢", NumberNotWhole),  # digits of other scripts are not accepted
        ("²", NumberNotWhole),
        ("12abc", NumberNotWhole),
    ],
    ids=[
        "5,000 digits",
        "-5,000 digits",
        "above",
        "below",
        "decimal",
        "exponent",
        "empty",
        "arabic",
        "superscript",
        "x",
    ],
)
def test_anything_else_is_refused_with_its_reason(text, error):
    with pytest.raises(error):
        whole_number_parse(text, min_value=0, max_value=1000)


def test_a_zero_padded_number_in_range_is_not_mistaken_for_a_large_one():
    assert whole_number_parse("0" * 5000 + "5", min_value=0, max_value=10) == 5


@pytest.mark.parametrize(
    "value", [None, "", "x", FIVE_THOUSAND_DIGITS, "9" * 30, "0", "-4", "1.0"], ids=lambda value: repr(value)[:12]
)
def test_a_query_parameter_that_is_not_a_number_in_range_gives_the_default(value):
    assert query_int(value, default=50) == 50


def test_a_query_parameter_in_range_is_used():
    assert query_int("200", default=50) == 200
