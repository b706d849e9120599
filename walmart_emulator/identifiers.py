"""Product identifiers: GTIN check digits and normalisation to GTIN-14 (the catalog's key)."""

import random

IDENTIFIER_LENGTHS = {"UPC": (12,), "GTIN": (8, 12, 13, 14), "EAN": (8, 13), "ISBN": (10, 13)}


class InvalidIdentifier(ValueError):
    pass


def gtin_check_digit(body: str) -> str:
    """Check digit for the digits `body` (GS1 mod-10: weights 3,1,3,... from the right)."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def gtin_is_valid(value: str) -> bool:
    return value.isdigit() and len(value) in (8, 12, 13, 14) and gtin_check_digit(value[:-1]) == value[-1]


def isbn10_to_gtin(value: str) -> str:
    if len(value) != 10 or not value[:9].isdigit() or not (value[9].isdigit() or value[9] in "Xx"):
        raise InvalidIdentifier(f"ISBN '{value}' is malformed.")
    total = sum((10 - position) * int(digit) for position, digit in enumerate(value[:9]))
    check = 10 if value[9] in "Xx" else int(value[9])
    if (total + check) % 11 != 0:
        raise InvalidIdentifier(f"ISBN '{value}' has a wrong check digit.")
    body = "978" + value[:9]
    return "0" + body + gtin_check_digit(body)


def identifier_to_gtin14(*, id_type: str, value: str) -> str:
    """The GTIN-14 for a UPC / GTIN / EAN / ISBN. Raises InvalidIdentifier (wrong length, digits, check digit)."""
    id_type = id_type.upper()
    value = (value or "").strip()
    if id_type not in IDENTIFIER_LENGTHS:
        raise InvalidIdentifier(f"Product ID type '{id_type}' is not supported.")
    if id_type == "ISBN" and len(value) == 10:
        return isbn10_to_gtin(value)
    if not value.isdigit() or len(value) not in IDENTIFIER_LENGTHS[id_type]:
        raise InvalidIdentifier(
            f"{id_type} '{value}' must be {' or '.join(map(str, IDENTIFIER_LENGTHS[id_type]))} digits."
        )
    if not gtin_is_valid(value):
        raise InvalidIdentifier(f"{id_type} '{value}' has a wrong check digit.")
    return value.zfill(14)


def upc_generate(rng: random.Random) -> str:
    """A random valid UPC-A (12 digits), number system 0-8 so it never looks like a coupon."""
    body = str(rng.randint(0, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
    return body + gtin_check_digit(body)
