"""Catalog file formats: the documented CSV header, JSON Lines, and the pure checks of one product's fields.

Nothing here writes to the database; `listings.services` does. `product_fields_clean` is the one place
that decides whether a product's values are acceptable (used by the dashboard form, admin and import).

CSV header (the first line; columns in any order, only `sku` is required; a column left out of the
file leaves that field unchanged on products that exist, and takes its default on new ones):

    sku,name,brand,description,image_url,upc,gtin,ean,isbn,issn,price,quantity,shipping_weight

- sku: up to 50 characters, unique (the key of the upsert).
- name (up to 200) and price are required for a new product.
- price: at most two decimals, never negative (e.g. 9.99). shipping_weight: pounds, at most two decimals.
- quantity: a whole number, never negative, at most 2147483647 (a new product without the column starts at 0).
- description: up to 100,000 characters (CSV and JSON Lines alike).
- upc/gtin/ean/isbn/issn: see `listings.identifiers`; an empty cell clears the identifier.

JSON Lines: one JSON object per line with the same keys; numbers may be JSON numbers or strings.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from channel_manager.csv_files import csv_cell_read
from listings.identifiers import (
    IDENTIFIER_FIELDS,
    IdentifierError,
    normalize_identifier,
    parse_price,
    parse_quantity,
    parse_weight,
)

CSV_COLUMNS = (
    "sku",
    "name",
    "brand",
    "description",
    "image_url",
    "upc",
    "gtin",
    "ean",
    "isbn",
    "issn",
    "price",
    "quantity",
    "shipping_weight",
)
PRODUCT_FIELDS = frozenset(CSV_COLUMNS) - {"sku"}
FIELDS_REQUIRED_FOR_NEW = ("name", "price")
TEXT_LIMITS = {"sku": 50, "name": 200, "brand": 100, "image_url": 1000}
# The same for a CSV cell and a JSON Lines value (the CSV reader's own cell limit, 131,072, is above it).
DESCRIPTION_MAX_LENGTH = 100_000

TEMPLATE_EXAMPLE_ROWS = (
    {
        "sku": "MUG-001",
        "name": "Stoneware mug, 12 oz",
        "brand": "Acme",
        "description": "Dishwasher-safe stoneware mug.",
        "image_url": "https://example.com/images/mug-001.jpg",
        "upc": "036000291452",
        "price": "9.99",
        "quantity": "120",
        "shipping_weight": "1.25",
    },
    {
        "sku": "BOOK-042",
        "name": "A field guide to birds",
        "brand": "Acme Press",
        "isbn": "9780306406157",
        "price": "24.50",
        "quantity": "8",
        "shipping_weight": "2.10",
    },
)


NOT_UTF8 = "The file is not valid UTF-8: save it as CSV UTF-8 and import it again"


class CatalogFileInvalid(ValueError):
    """The file as a whole cannot be imported (bad header, wrong encoding); nothing was written."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class SourceRow:
    """One record of a catalog file: its row number (CSV: the header is row 1; JSON Lines: line number),
    the raw values by column, or the reason it could not be read at all."""

    row_number: int
    values: dict
    unreadable: str = ""


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def _text(value) -> str:
    if value is None:
        return ""
    return str(value).strip()


def product_fields_clean(values: dict, *, fields: Iterable[str]) -> tuple[dict, list[FieldError]]:
    """Check and normalise the given product fields of `values` (a mapping of raw values).

    Returns (clean values by field, errors). Every bad field gets its own error; the clean dict holds
    only the fields that passed. `sku` is checked too when it is among `fields`.
    """
    clean: dict = {}
    errors: list[FieldError] = []
    for field, cleaner in _cleaners(tuple(fields)):
        try:
            clean[field] = cleaner(field, values.get(field))
        except IdentifierError as error:
            errors.append(FieldError(error.field, error.message))
    return clean, errors


@functools.lru_cache(maxsize=256)
def _cleaners(fields: tuple[str, ...]) -> tuple[tuple[str, Callable], ...]:
    """(field, its cleaner) for each of `fields`: looked up once per set of columns, not once per row."""
    return tuple((field, FIELD_CLEANERS.get(field, _unknown_field)) for field in fields)


def _unknown_field(field: str, raw):
    raise IdentifierError(field, "unknown field.")


def _identifier_clean(field: str, raw) -> str:
    return normalize_identifier(field, _text(raw))


def _description_clean(field: str, raw) -> str:
    """A description: trimmed, any characters but NUL (no PostgreSQL text can hold it), within its limit."""
    text = _text(raw)
    if "\x00" in text:
        raise IdentifierError(field, "must not contain a NUL character.")
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise IdentifierError(field, f"can have at most {DESCRIPTION_MAX_LENGTH} characters, got {len(text)}.")
    return text


def _line_clean(field: str, raw) -> str:
    """A one-line text field (sku, name, brand, image_url): trimmed, no control characters, within its limit."""
    text = _text(raw)
    if _CONTROL_CHARACTERS.search(text):
        raise IdentifierError(field, "must not contain control characters (tabs, line breaks).")
    if field in ("sku", "name") and not text:
        raise IdentifierError(field, f"{'SKU' if field == 'sku' else 'Name'} is required.")
    if len(text) > TEXT_LIMITS[field]:
        raise IdentifierError(field, f"can have at most {TEXT_LIMITS[field]} characters, got {len(text)}.")
    if field == "image_url" and text and not _is_http_url(text):
        raise IdentifierError(field, f"must be an http(s) URL, got {text!r}.")
    return text


FIELD_CLEANERS = {
    **dict.fromkeys(TEXT_LIMITS, _line_clean),
    **dict.fromkeys(IDENTIFIER_FIELDS, _identifier_clean),
    "description": _description_clean,
    "price": lambda field, raw: _amount_clean(raw, parse_price),
    "quantity": lambda field, raw: parse_quantity(raw),
    "shipping_weight": lambda field, raw: _amount_clean(raw, parse_weight),
}

# An amount as spreadsheets write it (up to 6 digits, up to 2 decimals), within every limit of
# `parse_price` and `parse_weight`: taken as is, without their general checks.
_PLAIN_AMOUNT = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,2})?")
_CENT = Decimal("0.01")


def _amount_clean(raw, parse: Callable[[object], Decimal | None]) -> Decimal | None:
    """A plain amount as a Decimal with two decimals; anything else as `parse` (the full parser) decides."""
    if isinstance(raw, str) and _PLAIN_AMOUNT.fullmatch(raw):
        return Decimal(raw).quantize(_CENT)
    return parse(raw)


# The common shape of an image URL, accepted without parsing: http(s), a host of letters, digits and hyphens
# with at least one dot, an optional port, then a path, query or fragment without spaces. Anything else is
# judged by urlsplit.
_PLAIN_HTTP_URL = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::[0-9]{1,5})?(?:[/?#]\S*)?")


def _is_http_url(text: str) -> bool:
    """An absolute http(s) URL with a host and no spaces (a cheap check: Django's URLValidator costs more
    than the rest of a row's checks together, and Walmart fetches the image itself)."""
    if " " in text:
        return False
    if _PLAIN_HTTP_URL.fullmatch(text):
        return True
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.hostname is not None and "." in parts.hostname


# --- the same checks, a column at a time (the catalog import's CSV rows) ---------------------------------
#
# `product_columns_clean` decides every cell exactly as `product_fields_clean` does, but most cells never reach
# a cleaner: each column's common shapes are recognised by one precompiled pattern mapped over the whole
# column (a loop in C), and only the cells that do not match go through the field's cleaner. A pattern
# accepts a value only when the cleaner would return it unchanged (tests/listings/test_catalog_columns.py
# compares both on generated values), so the shortcut never decides differently.

_NO_CONTROL = r"[^\x00-\x1f\x7f]"
# One-line texts, trimmed, as `_line_clean` accepts them (sku and name required, each within its limit).
_PLAIN_LINE = {
    "sku": re.compile(rf"{_NO_CONTROL}{{1,{TEXT_LIMITS['sku']}}}"),
    "name": re.compile(rf"{_NO_CONTROL}{{1,{TEXT_LIMITS['name']}}}"),
    "brand": re.compile(rf"{_NO_CONTROL}{{0,{TEXT_LIMITS['brand']}}}"),
    # empty, or a plain http(s) URL (no space, see `_PLAIN_HTTP_URL`) without control characters, within its limit
    "image_url": re.compile(rf"(?:(?={_NO_CONTROL}{{1,{TEXT_LIMITS['image_url']}}}\Z)(?:{_PLAIN_HTTP_URL.pattern}))?"),
}
# Identifiers already in their stored form: 12, 14 or 13 digits (an ISBN-13 with its 978/979 prefix), whose
# GS1 check digit is then verified; anything else (separators, shorter codes, ISBN-10, ISSN) goes to its cleaner.
_PLAIN_IDENTIFIER = {
    "upc": re.compile(r"[0-9]{12}"),
    "gtin": re.compile(r"[0-9]{14}"),
    "ean": re.compile(r"[0-9]{13}"),
    "isbn": re.compile(r"97[89][0-9]{10}"),
}
_PLAIN_QUANTITY = re.compile(r"[0-9]{1,9}")  # below QUANTITY_MAX whatever the digits
_PLAIN_WEIGHT = re.compile(rf"(?:{_PLAIN_AMOUNT.pattern})?")  # empty: no weight


def _gs1_valid(digits: str) -> bool:
    """Whether the last digit of a string of ASCII digits is its GS1 check digit: the digits weigh 3 and 1
    alternately from the right but one, their sum with the check digit a multiple of 10. Summed over the
    bytes (each digit's code is 48 more than its value), without converting digit by digit."""
    codes = digits.encode()
    weighted = 3 * sum(codes[-2::-2]) + sum(codes[-1::-2])
    return (weighted - 48 * (3 * (len(codes) // 2) + (len(codes) + 1) // 2)) % 10 == 0


def _misfits(matches: list) -> list[int]:
    """The positions of the values a pattern did not match (None), found without a Python-level loop."""
    return list(itertools.compress(range(len(matches)), map(operator.not_, matches)))


def _lines(pattern: str) -> re.Pattern:
    """A pattern matching values joined by line breaks, each followed by one, each matching `pattern` (which
    matches no line break): one match over a whole column instead of one per value."""
    return re.compile(rf"(?:(?:{pattern})\n)*")


# Whole-column patterns: if a column matches, every one of its values does (`_column_fits`).
_LINES = {
    "image_url": _lines(rf"(?:{_PLAIN_HTTP_URL.pattern})?"),
    **{field: _lines(rf"(?:{pattern.pattern})?") for field, pattern in _PLAIN_IDENTIFIER.items()},
    "price": _lines(_PLAIN_AMOUNT.pattern),
    "quantity": _lines(_PLAIN_QUANTITY.pattern),
    "shipping_weight": _lines(_PLAIN_WEIGHT.pattern),
}
_LINE_REQUIRED = {"sku", "name"}


def _column_fits(field: str, values: list[str]) -> bool:
    """Whether every value of a column has its field's common shape (see `_column_plain`), decided with a few
    operations over the whole column (the joined text, the lengths) rather than one per value. False says
    only that some value does not: `_column_plain` then looks at each."""
    if not values:
        return True
    if field in _PLAIN_LINE:
        joined = "".join(values)
        if _CONTROL_CHARACTERS.search(joined) or max(map(len, values)) > TEXT_LIMITS[field]:
            return False
        if field in _LINE_REQUIRED and not min(map(len, values)):
            return False
        if field != "image_url":
            return True
    if field == "description":
        return max(map(len, values)) <= DESCRIPTION_MAX_LENGTH and "\x00" not in "".join(values)
    if field == "issn":
        return not any(values)
    text = "\n".join(values) + "\n"
    # a value holding a line break would pass as two lines: the count tells
    return text.count("\n") == len(values) and _LINES[field].fullmatch(text) is not None


def _column_plain(field: str, raw: list[str]) -> tuple[list, list[int]]:
    """A column's values in the form the field's cleaner would return them, for the cells of a common shape,
    and the positions of the other cells (left for the cleaner: their value in the list is meaningless).
    Amounts and quantities of the common shape stay text (exactly the number, which the database converts)."""
    values = raw if field in _UNTRIMMED else list(map(str.strip, raw))
    fits = _column_fits(field, values)
    if field in _PLAIN_IDENTIFIER:
        fullmatch = _PLAIN_IDENTIFIER[field].fullmatch
        return values, [
            index
            for index, value in enumerate(values)
            if value and not ((fits or fullmatch(value)) and _gs1_valid(value))
        ]
    if field == "shipping_weight":
        weights = [value or None for value in values]
        return weights, [] if fits else _misfits(list(map(_PLAIN_WEIGHT.fullmatch, values)))
    if fits:
        return values, []
    if field in _PLAIN_LINE:
        return values, _misfits(list(map(_PLAIN_LINE[field].fullmatch, values)))
    if field == "description":
        return values, [
            index for index, value in enumerate(values) if len(value) > DESCRIPTION_MAX_LENGTH or "\x00" in value
        ]
    if field == "price":
        return values, _misfits(list(map(_PLAIN_AMOUNT.fullmatch, values)))
    if field == "quantity":
        return values, _misfits(list(map(_PLAIN_QUANTITY.fullmatch, values)))
    return values, [index for index, value in enumerate(values) if value]  # issn: only an empty cell as is


_UNTRIMMED = {"price", "quantity", "shipping_weight"}  # their cleaners judge the text as given


def product_columns_clean(
    columns: Sequence[str], records: Sequence[Sequence[str]]
) -> tuple[dict[str, list], dict[int, list[FieldError]]]:
    """Check and normalise many rows of raw text cells (`records`, each in `columns` order) at once.

    Returns (clean values by field, each a list in record order; errors by record position). The decisions
    are those of `product_fields_clean(dict(zip(columns, record)), fields=columns)` for each record, its
    errors in the same order; a clean amount or quantity may be its text instead of a Decimal or int (the
    same number). The value of a bad cell is meaningless. Every column must be a product field or `sku`."""
    clean: dict[str, list] = {}
    errors: dict[int, list[FieldError]] = {}
    for position, field in enumerate(columns):
        raw = [record[position] for record in records]
        values, misfits = _column_plain(field, raw)
        if misfits:
            cleaner = FIELD_CLEANERS[field]
            values = list(values) if values is raw else values
            for index in misfits:
                try:
                    values[index] = cleaner(field, raw[index])
                except IdentifierError as error:
                    errors.setdefault(index, []).append(FieldError(error.field, error.message))
        clean[field] = values
    return clean, errors


def csv_header_check(header: list[str]) -> list[str]:
    """The columns of a CSV header, trimmed and lower-cased. Raises CatalogFileInvalid for an unknown or
    repeated column, or a header without `sku` (a typo must never silently drop a column's data)."""
    columns = [column.strip().lower() for column in header]
    if columns and columns[0].startswith("\ufeff"):
        columns[0] = columns[0].lstrip("\ufeff")
    unknown = [column for column in columns if column not in CSV_COLUMNS]
    if unknown:
        raise CatalogFileInvalid(
            f"Unknown column(s) {', '.join(repr(c) for c in unknown)} in the header. "
            f"Allowed columns: {', '.join(CSV_COLUMNS)}."
        )
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        raise CatalogFileInvalid(f"Column(s) {', '.join(repeated)} appear more than once in the header.")
    if "sku" not in columns:
        raise CatalogFileInvalid(f"The header has no 'sku' column. Expected columns: {', '.join(CSV_COLUMNS)}.")
    return columns


def csv_records(binary) -> tuple[list[str], Iterator[tuple[int, list[str] | None, str]]]:
    """(columns, records) of a UTF-8 CSV file opened in binary mode, streamed: each record is (row number, its
    cells in `columns` order, "") or (row number, None, why it cannot be read). Blank lines are skipped. The
    delimiter is a comma, or a semicolon or tab when the header uses that instead (spreadsheets in many
    locales save CSV with ";"). Raises CatalogFileInvalid."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        first_line = text.readline()
    except UnicodeDecodeError:
        raise CatalogFileInvalid(NOT_UTF8 + ".") from None
    delimiter = max((",", ";", "\t"), key=lambda candidate: (first_line.count(candidate), candidate == ","))
    reader = csv.reader(itertools.chain([first_line], text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise CatalogFileInvalid("The file is empty: expected a header line first.") from None
    except UnicodeDecodeError:
        raise CatalogFileInvalid(NOT_UTF8 + ".") from None
    except csv.Error as error:
        raise CatalogFileInvalid(f"The header line cannot be read: {error}.") from None
    columns = csv_header_check(header)
    width = len(columns)

    def records() -> Iterator[tuple[int, list[str] | None, str]]:
        row_number = 1
        while True:
            row_number += 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise CatalogFileInvalid(
                    f"{NOT_UTF8} after row {row_number - 1} (re-importing is safe: products are matched on SKU)."
                ) from None
            except csv.Error as error:
                yield row_number, None, f"cannot be read as CSV: {error}."
                continue
            joined = "".join(record)
            if not joined.strip():  # a blank line, or only separators and spaces
                continue
            if len(record) != width:
                yield row_number, None, f"has {len(record)} cells but the header has {width} columns."
                continue
            if "'" in joined:  # only a cell starting with a quote can need `csv_cell_read`
                record = list(map(csv_cell_read, record))
            yield row_number, record, ""

    return columns, records()


def csv_rows(binary) -> tuple[list[str], Iterator[SourceRow]]:
    """(columns, rows) of a UTF-8 CSV file opened in binary mode, streamed (`csv_records` as SourceRows)."""
    columns, records = csv_records(binary)
    rows = (
        SourceRow(row_number, {}, unreadable)
        if record is None
        else SourceRow(row_number, dict(zip(columns, record, strict=True)))
        for row_number, record, unreadable in records
    )
    return columns, rows


def jsonl_rows(binary) -> tuple[None, Iterator[SourceRow]]:
    """(None, rows) of a JSON Lines file opened in binary mode, streamed. Columns vary per line."""

    def rows() -> Iterator[SourceRow]:
        for line_number, raw_line in enumerate(binary, start=1):
            try:
                line = raw_line.decode("utf-8-sig" if line_number == 1 else "utf-8").strip()
            except UnicodeDecodeError:
                yield SourceRow(line_number, {}, "is not valid UTF-8.")
                continue
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield SourceRow(line_number, {}, f"is not valid JSON: {error.msg} (column {error.colno}).")
                continue
            except ValueError:  # int() refuses a JSON number of more than 4,300 digits
                yield SourceRow(line_number, {}, "has a number with more digits than any field accepts.")
                continue
            if not isinstance(record, dict):
                yield SourceRow(line_number, {}, "must be a JSON object.")
                continue
            unknown = sorted(key for key in record if key not in CSV_COLUMNS)
            if unknown:
                yield SourceRow(
                    line_number,
                    {},
                    f"has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(CSV_COLUMNS)}.",
                )
                continue
            if "sku" not in record:
                yield SourceRow(line_number, {}, "has no 'sku'.")
                continue
            yield SourceRow(line_number, {key: _json_value(value) for key, value in record.items()})

    return None, rows()


def _json_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    return value


def export_row(product) -> list[str]:
    """One product as a CSV row in `CSV_COLUMNS` order (re-importable as is)."""
    return [
        product.sku,
        product.name,
        product.brand,
        product.description,
        product.image_url,
        product.upc,
        product.gtin,
        product.ean,
        product.isbn,
        product.issn,
        f"{product.price:.2f}",
        str(product.quantity),
        "" if product.shipping_weight is None else f"{product.shipping_weight:.2f}",
    ]
