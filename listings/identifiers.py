"""Product identifiers normalised the way Walmart needs them, and the catalog's number rules.

Pure functions, no Django. Every normaliser takes what an operator typed (spaces and hyphens allowed),
returns the canonical form, and raises `IdentifierError` naming the field when the value is malformed or
its check digit is wrong. A wrong check digit is never "fixed": only leading zeros that spreadsheets drop
are restored, and a UPC-E is expanded to its UPC-A by the GS1 rules.

- UPC  -> 12 digits (UPC-A / GTIN-12). 11 digits get their dropped leading zero back; an 8-digit UPC-E
  (number system 0 or 1) is expanded; a GTIN-13/14 that is a UPC padded with zeros is shortened.
- GTIN -> 14 digits (GTIN-8/12/13/14 padded with leading zeros).
- EAN  -> 13 digits (EAN-8/UPC-A/EAN-13 padded with leading zeros).
- ISBN -> 10 characters (ISBN-10, check character 0-9 or X) or 13 digits (ISBN-13, prefix 978/979).
- ISSN -> 8 characters (check character 0-9 or X).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Literal, overload

from channel_manager.numbers import NumberNotWhole, NumberTooLarge, NumberTooSmall, whole_number_parse

IDENTIFIER_FIELDS = ("upc", "gtin", "ean", "isbn", "issn")
QUANTITY_MAX = 2_147_483_647  # the catalog's quantity column (a 32-bit integer)
SHOWN_MAX_LENGTH = 40
_CENT = Decimal("0.01")
_SEPARATORS = re.compile(r"[\s\-]")


class IdentifierError(ValueError):
    """A value that cannot be accepted; `field` names the catalog field, `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def gs1_check_digit(body: str) -> int:
    """The GS1 (mod 10) check digit for the digits before it (UPC, EAN, GTIN, ISBN-13)."""
    # from the right: the digits in odd positions weigh 3, the others 1
    total = 3 * sum(map(int, body[-1::-2])) + sum(map(int, body[-2::-2]))
    return (10 - total % 10) % 10


def _gs1_verify(field: str, digits: str, label: str) -> str:
    expected = gs1_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise IdentifierError(
            field, f"{label} {digits} has a wrong check digit: the last digit should be {expected}, not {digits[-1]}."
        )
    return digits


def _clean(value: str | None) -> str:
    if not value:
        return ""
    if value.isascii() and value.isdigit():
        return value
    return _SEPARATORS.sub("", value).upper()


def _digits_only(field: str, value: str, label: str) -> None:
    if not (value.isascii() and value.isdigit()):
        raise IdentifierError(field, f"{label} must contain digits only, got {value!r}.")


def upce_to_upca(upce: str) -> str:
    """Expand an 8-digit UPC-E (number system, 6 digits, check digit) to its 12-digit UPC-A.

    The check digit is carried over unchanged (a UPC-E's check digit is that of its UPC-A), so the caller
    verifies it on the result. Raises ValueError for a number system other than 0 or 1.
    """
    number_system, middle, check = upce[0], upce[1:7], upce[7]
    if number_system not in "01":
        raise ValueError("UPC-E number system must be 0 or 1")
    d1, d2, d3, d4, d5, d6 = list(middle)
    if d6 in "012":
        body = f"{d1}{d2}{d6}0000{d3}{d4}{d5}"
    elif d6 == "3":
        body = f"{d1}{d2}{d3}00000{d4}{d5}"
    elif d6 == "4":
        body = f"{d1}{d2}{d3}{d4}00000{d5}"
    else:
        body = f"{d1}{d2}{d3}{d4}{d5}0000{d6}"
    return f"{number_system}{body}{check}"


def normalize_upc(value: str | None, field: str = "upc") -> str:
    """A UPC as 12 digits with a verified check digit; "" when empty."""
    digits = _clean(value)
    if not digits:
        return ""
    _digits_only(field, digits, "UPC")
    if len(digits) == 8:
        try:
            digits = upce_to_upca(digits)
        except ValueError:
            raise IdentifierError(
                field, f"UPC {digits} has 8 digits but is not a UPC-E (it must start with 0 or 1)."
            ) from None
        return _gs1_verify(field, digits, "UPC-E (expanded to UPC-A)")
    if len(digits) == 11:
        digits = "0" + digits
    elif len(digits) in (13, 14) and set(digits[: len(digits) - 12]) == {"0"}:
        digits = digits[-12:]
    if len(digits) != 12:
        raise IdentifierError(field, f"UPC must have 12 digits (GTIN-12), got {len(digits)}: {digits}.")
    return _gs1_verify(field, digits, "UPC")


def normalize_gtin(value: str | None, field: str = "gtin") -> str:
    """A GTIN as 14 digits (GTIN-8/12/13/14 padded with leading zeros) with a verified check digit."""
    digits = _clean(value)
    if not digits:
        return ""
    _digits_only(field, digits, "GTIN")
    if not 8 <= len(digits) <= 14:
        raise IdentifierError(field, f"GTIN must have 8 to 14 digits (stored as 14), got {len(digits)}: {digits}.")
    return _gs1_verify(field, digits.zfill(14), "GTIN")


def normalize_ean(value: str | None, field: str = "ean") -> str:
    """An EAN as 13 digits (GTIN-13; shorter codes padded with leading zeros) with a verified check digit."""
    digits = _clean(value)
    if not digits:
        return ""
    _digits_only(field, digits, "EAN")
    if len(digits) == 14 and digits[0] == "0":
        digits = digits[1:]
    if not 8 <= len(digits) <= 13:
        raise IdentifierError(field, f"EAN must have 8 to 13 digits (stored as 13), got {len(digits)}: {digits}.")
    return _gs1_verify(field, digits.zfill(13), "EAN")


def isbn10_check_character(body: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(body, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def normalize_isbn(value: str | None, field: str = "isbn") -> str:
    """An ISBN-10 (check character 0-9 or X) or ISBN-13 (978/979, GS1 check digit), without separators."""
    text = _clean(value)
    if not text:
        return ""
    if not text.isascii():
        raise IdentifierError(field, f"ISBN must contain digits (and a final X) only, got {text!r}.")
    if len(text) == 10:
        if not text[:9].isdigit() or not (text[9].isdigit() or text[9] == "X"):
            raise IdentifierError(field, f"ISBN-10 must be 9 digits and a check digit or X, got {text!r}.")
        expected = isbn10_check_character(text[:9])
        if text[9] != expected:
            raise IdentifierError(
                field,
                f"ISBN-10 {text} has a wrong check digit: the last character should be {expected}, not {text[9]}.",
            )
        return text
    if len(text) == 13:
        _digits_only(field, text, "ISBN-13")
        if text[:3] not in ("978", "979"):
            raise IdentifierError(field, f"ISBN-13 must start with 978 or 979, got {text}.")
        return _gs1_verify(field, text, "ISBN-13")
    raise IdentifierError(field, f"ISBN must have 10 or 13 characters, got {len(text)}: {text}.")


def issn_check_character(body: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(body, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def normalize_issn(value: str | None, field: str = "issn") -> str:
    """An ISSN as 8 characters (7 digits and a check digit or X), without the hyphen."""
    text = _clean(value)
    if not text:
        return ""
    if not text.isascii() or len(text) != 8 or not text[:7].isdigit() or not (text[7].isdigit() or text[7] == "X"):
        raise IdentifierError(field, f"ISSN must be 7 digits and a check digit or X (8 characters), got {text!r}.")
    expected = issn_check_character(text[:7])
    if text[7] != expected:
        raise IdentifierError(
            field, f"ISSN {text} has a wrong check digit: the last character should be {expected}, not {text[7]}."
        )
    return text


def issn_to_ean13(issn: str) -> str:
    """The EAN-13 of a normalised ISSN (prefix 977, the 7 ISSN digits, "00", GS1 check digit).

    Walmart's item-match feed has no ISSN product id type; periodicals are matched by this EAN.
    """
    body = f"977{issn[:7]}00"
    return body + str(gs1_check_digit(body))


NORMALIZERS = {
    "upc": normalize_upc,
    "gtin": normalize_gtin,
    "ean": normalize_ean,
    "isbn": normalize_isbn,
    "issn": normalize_issn,
}


def normalize_identifier(field: str, value: str | None) -> str:
    return NORMALIZERS[field](value, field)


def match_identifier(field: str, value: str) -> tuple[str, str]:
    """(productIdType, productId) for Walmart's MP_ITEM_MATCH feed from a normalised catalog identifier."""
    if field == "issn":
        return "EAN", issn_to_ean13(value)
    return field.upper(), value


def parse_price(value, field: str = "price") -> Decimal:
    """A price: a non-negative number with at most two decimals (e.g. 9.99). Raises IdentifierError."""
    return _parse_decimal(value, field, "Price", "9.99", required=True, max_value=Decimal("9999999999.99"))


def parse_weight(value, field: str = "shipping_weight") -> Decimal | None:
    """A shipping weight in pounds: empty, or a non-negative number with at most two decimals (e.g. 1.25)."""
    return _parse_decimal(value, field, "Shipping weight", "1.25", required=False, max_value=Decimal("999999.99"))


@overload
def _parse_decimal(
    value, field: str, label: str, example: str, *, required: Literal[True], max_value: Decimal
) -> Decimal: ...
@overload
def _parse_decimal(
    value, field: str, label: str, example: str, *, required: bool, max_value: Decimal
) -> Decimal | None: ...
def _parse_decimal(
    value, field: str, label: str, example: str, *, required: bool, max_value: Decimal
) -> Decimal | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise IdentifierError(field, f"{label} is required.")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise IdentifierError(field, f"{label} must be a number, got {_shown(text, quoted=True)}.") from None
    if not number.is_finite():
        raise IdentifierError(field, f"{label} must be a number, got {_shown(text, quoted=True)}.")
    if number < 0:
        raise IdentifierError(field, f"{label} cannot be negative, got {_shown(text)}.")
    if number > max_value:
        raise IdentifierError(field, f"{label} is too large (at most {max_value}), got {_shown(text)}.")
    exponent = number.as_tuple().exponent  # an int for a finite number
    if isinstance(exponent, int) and exponent < -2 and number != number.quantize(_CENT):
        raise IdentifierError(field, f"{label} can have at most two decimals (e.g. {example}), got {_shown(text)}.")
    return number.quantize(_CENT)


def parse_quantity(value, field: str = "quantity") -> int:
    """A stock quantity: a whole number, never negative. Empty means 0 is NOT assumed: raises."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise IdentifierError(field, "Quantity is required.")
    if isinstance(value, bool):
        raise IdentifierError(field, f"Quantity must be a whole number, got {text!r}.")
    if isinstance(value, float):
        if not value.is_integer():
            raise IdentifierError(field, f"Quantity must be a whole number, got {text}.")
        text = f"{value:.0f}"
    try:
        return whole_number_parse(text, min_value=0, max_value=QUANTITY_MAX)
    except NumberNotWhole:
        raise IdentifierError(field, f"Quantity must be a whole number, got {_shown(text, quoted=True)}.") from None
    except NumberTooSmall:
        raise IdentifierError(field, f"Quantity cannot be negative, got {_shown(text)}.") from None
    except NumberTooLarge:
        raise IdentifierError(field, f"Quantity is too large (at most {QUANTITY_MAX}), got {_shown(text)}.") from None


def _shown(text: str, *, quoted: bool = False) -> str:
    """`text` as shown in an error message, cut short so that a megabyte of digits is not echoed back."""
    if len(text) > SHOWN_MAX_LENGTH:
        return f"{text[:SHOWN_MAX_LENGTH]}... ({len(text)} characters)"
    return repr(text) if quoted else text


def identifier_gtin14(field: str, value: str) -> str:
    """A normalised catalog identifier as the GTIN-14 it stands for, so that codes of different types compare
    (a UPC-A, its EAN-13 and its GTIN-14 are one code): UPC and EAN padded with zeros, an ISBN-10 as its
    ISBN-13 (978 prefix, GS1 check digit), an ISSN as its EAN-13. Raises IdentifierError for a value that is
    not in its normalised form."""
    if field == "isbn" and len(value) == 10:
        body = "978" + value[:9]
        value = body + str(gs1_check_digit(body))
    elif field == "issn":
        value = issn_to_ean13(value)
    if not (value.isascii() and value.isdigit()) or len(value) > 14 or len(value) < 8:
        raise IdentifierError(field, f"{value!r} is not a normalised {field.upper()}.")
    return value.zfill(14)
