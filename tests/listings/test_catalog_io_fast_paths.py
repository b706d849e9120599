"""The import's shortcuts for the common shapes of a value decide exactly as the general checks do."""

import random
from urllib.parse import urlsplit

import pytest

from listings.catalog_io import _PLAIN_AMOUNT, _PLAIN_HTTP_URL, FIELD_CLEANERS, _is_http_url
from listings.identifiers import IdentifierError, parse_price, parse_weight

AMOUNT_CHARACTERS = "0123456789.-+e ,x"
SCHEMES = ["http", "https", "HTTP", "hTtPs", "ftp", "", "http:", "https:/"]
HOST_PIECES = ["example", "a", "b9", "x-y", "-", ".", "..", "com", "é", "[::1]", "1.2.3.4", "user@", "%20", " ", ""]
TAILS = ["", "/", "/images/1.jpg", ":8080", ":99999/p", ":x", "?q=1", "#f", "/a b", "/ok?x=[1]", "\\x"]


def outcome(function, value):
    try:
        return ("ok", function(value))
    except IdentifierError as error:
        return ("error", error.field, error.message)


def amounts(rng: random.Random, count: int) -> list[str]:
    values = ["0", "0.0", "0.00", "1", "9.99", "12.5", "999999.99", "1000000", "12.345", "1.", ".5", "-1", "007.10"]
    for _ in range(count):
        values.append("".join(rng.choice(AMOUNT_CHARACTERS) for _ in range(rng.randint(0, 9))))
        values.append(f"{rng.randint(0, 10 ** rng.randint(1, 9))}.{rng.randint(0, 999):0{rng.randint(1, 3)}d}")
    return values


@pytest.mark.parametrize(("field", "parse"), [("price", parse_price), ("shipping_weight", parse_weight)])
def test_amount_cleaner_agrees_with_the_parser(field, parse):
    values = amounts(random.Random(42), 3000)
    for value in values:
        assert outcome(lambda raw: FIELD_CLEANERS[field](field, raw), value) == outcome(parse, value), value
    assert sum(1 for value in values if _PLAIN_AMOUNT.fullmatch(value)) > 500  # the shortcut is taken often


def test_http_url_shortcut_agrees_with_urlsplit():
    def by_urlsplit(text: str) -> bool:
        if " " in text:
            return False
        try:
            parts = urlsplit(text)
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and bool(parts.hostname) and "." in parts.hostname

    rng = random.Random(7)
    urls = [
        rng.choice(SCHEMES)
        + rng.choice(["://", "//", ":/", "://"])
        + "".join(rng.choice(HOST_PIECES) for _ in range(rng.randint(0, 4)))
        + rng.choice(TAILS)
        for _ in range(20000)
    ]
    decided = [_is_http_url(url) for url in urls]
    assert [by_urlsplit(url) for url in urls] == decided
    # both answers well represented, and the shortcut itself taken often
    assert 1000 < sum(decided) < 19000
    assert sum(1 for url in urls if _PLAIN_HTTP_URL.fullmatch(url)) > 100
