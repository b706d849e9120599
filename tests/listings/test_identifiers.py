"""Identifier normalisation on real check-digit cases (GS1, ISBN and ISSN published examples)."""

from decimal import Decimal

import pytest

from listings.identifiers import (
    IdentifierError,
    gs1_check_digit,
    issn_to_ean13,
    match_identifier,
    normalize_ean,
    normalize_gtin,
    normalize_isbn,
    normalize_issn,
    normalize_upc,
    parse_price,
    parse_quantity,
    parse_weight,
    upce_to_upca,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("036000291452", "036000291452"),  # GS1's UPC-A example
        ("0 36000 29145 2", "036000291452"),  # spaces as printed under the bars
        ("36000291452", "036000291452"),  # the leading zero a spreadsheet dropped
        ("0036000291452", "036000291452"),  # the same UPC as an EAN-13
        ("00036000291452", "036000291452"),  # the same UPC as a GTIN-14
        ("04252614", "042100005264"),  # UPC-E, last digit 1: manufacturer 421, product 526
        ("01234565", "012345000065"),  # UPC-E, last digit 5
        ("", ""),
    ],
)
def test_upc_is_normalised_to_twelve_digits(raw, expected):
    assert normalize_upc(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("036000291453", "UPC 036000291453 has a wrong check digit: the last digit should be 2, not 3."),
        ("45678912345", "UPC 045678912345 has a wrong check digit: the last digit should be 7, not 5."),
        (
            "04252615",
            "UPC-E (expanded to UPC-A) 042100005265 has a wrong check digit: the last digit should be 4, not 5.",
        ),
        ("52526140", "UPC 52526140 has 8 digits but is not a UPC-E (it must start with 0 or 1)."),
        ("0360002914", "UPC must have 12 digits (GTIN-12), got 10: 0360002914."),
        ("4006381333931", "UPC must have 12 digits (GTIN-12), got 13: 4006381333931."),
        ("03600029145A", "UPC must contain digits only, got '03600029145A'."),
        ("03600029145²", "UPC must contain digits only, got '03600029145²'."),
    ],
)
def test_upc_errors_name_the_field_and_never_fix_the_check_digit(raw, message):
    with pytest.raises(IdentifierError) as caught:
        normalize_upc(raw)
    assert caught.value.field == "upc"
    assert caught.value.message == message


def test_upce_expansion_follows_each_gs1_rule():
    assert upce_to_upca("01234505") == "012000003455"  # 0, 1, 2: manufacturer ends with the digit
    assert upce_to_upca("01234535") == "012300000455"  # 3
    assert upce_to_upca("01234545") == "012340000055"  # 4
    assert upce_to_upca("01234575") == "012345000075"  # 5-9


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00012345600012", "00012345600012"),
        ("036000291452", "00036000291452"),  # GTIN-12 padded
        ("4006381333931", "04006381333931"),  # GTIN-13 padded
        ("96385074", "00000096385074"),  # GTIN-8 padded
        ("10012345600019", "10012345600019"),  # a case-pack GTIN-14 (indicator digit 1)
    ],
)
def test_gtin_is_normalised_to_fourteen_digits(raw, expected):
    assert normalize_gtin(raw) == expected


def test_gtin_with_wrong_check_digit_is_refused():
    with pytest.raises(IdentifierError) as caught:
        normalize_gtin("00012345600013")
    assert (caught.value.field, caught.value.message) == (
        "gtin",
        "GTIN 00012345600013 has a wrong check digit: the last digit should be 2, not 3.",
    )


def test_gtin_too_long_or_short_is_refused():
    with pytest.raises(IdentifierError, match="GTIN must have 8 to 14 digits"):
        normalize_gtin("123456789012345")
    with pytest.raises(IdentifierError, match="GTIN must have 8 to 14 digits"):
        normalize_gtin("1234567")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("4006381333931", "4006381333931"),  # EAN-13 example
        ("400-6381-33393-1", "4006381333931"),
        ("96385074", "0000096385074"),  # EAN-8 padded to 13
        ("036000291452", "0036000291452"),  # a UPC-A is an EAN-13 with a leading zero
    ],
)
def test_ean_is_normalised_to_thirteen_digits(raw, expected):
    assert normalize_ean(raw) == expected


def test_ean_with_wrong_check_digit_is_refused():
    with pytest.raises(IdentifierError) as caught:
        normalize_ean("4006381333932")
    assert (caught.value.field, caught.value.message) == (
        "ean",
        "EAN 4006381333932 has a wrong check digit: the last digit should be 1, not 2.",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0-306-40615-2", "0306406152"),
        ("080442957X", "080442957X"),
        ("080442957x", "080442957X"),
        ("978-0-306-40615-7", "9780306406157"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_isbn_ten_and_thirteen(raw, expected):
    assert normalize_isbn(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0306406153", "ISBN-10 0306406153 has a wrong check digit: the last character should be 2, not 3."),
        ("9780306406158", "ISBN-13 9780306406158 has a wrong check digit: the last digit should be 7, not 8."),
        ("4006381333931", "ISBN-13 must start with 978 or 979, got 4006381333931."),
        ("03064061", "ISBN must have 10 or 13 characters, got 8: 03064061."),
    ],
)
def test_isbn_errors(raw, message):
    with pytest.raises(IdentifierError) as caught:
        normalize_isbn(raw)
    assert (caught.value.field, caught.value.message) == ("isbn", message)


def test_issn_check_character_including_x():
    assert normalize_issn("0317-8471") == "03178471"
    assert normalize_issn("2049-3630") == "20493630"
    assert normalize_issn("1050-124x") == "1050124X"
    with pytest.raises(IdentifierError) as caught:
        normalize_issn("0317-8472")
    assert (caught.value.field, caught.value.message) == (
        "issn",
        "ISSN 03178472 has a wrong check digit: the last character should be 1, not 2.",
    )


def test_issn_is_sent_to_walmart_as_its_ean13():
    assert issn_to_ean13("03178471") == "9770317847001"
    assert match_identifier("issn", "03178471") == ("EAN", "9770317847001")
    assert match_identifier("upc", "036000291452") == ("UPC", "036000291452")


def test_gs1_check_digit():
    assert gs1_check_digit("03600029145") == 2
    assert gs1_check_digit("400638133393") == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("9.99", Decimal("9.99")), ("10", Decimal("10.00")), (9.5, Decimal("9.50")), ("1.250", Decimal("1.25"))],
)
def test_price_at_most_two_decimals(raw, expected):
    assert parse_price(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9.999", "Price can have at most two decimals (e.g. 9.99), got 9.999."),
        ("-1", "Price cannot be negative, got -1."),
        ("abc", "Price must be a number, got 'abc'."),
        ("", "Price is required."),
        ("NaN", "Price must be a number, got 'NaN'."),
    ],
)
def test_price_errors(raw, message):
    with pytest.raises(IdentifierError) as caught:
        parse_price(raw)
    assert (caught.value.field, caught.value.message) == ("price", message)


def test_weight_and_quantity():
    assert parse_weight("") is None
    assert parse_weight("1.25") == Decimal("1.25")
    with pytest.raises(IdentifierError, match=r"Shipping weight can have at most two decimals \(e.g. 1.25\)"):
        parse_weight("1.255")
    assert parse_quantity("12") == 12
    assert parse_quantity(3.0) == 3
    with pytest.raises(IdentifierError, match="Quantity cannot be negative, got -2."):
        parse_quantity("-2")
    with pytest.raises(IdentifierError, match="Quantity must be a whole number, got '1.5'."):
        parse_quantity("1.5")
    with pytest.raises(IdentifierError, match="Quantity must be a whole number, got '²'."):
        parse_quantity("²")
