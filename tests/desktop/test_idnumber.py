from datetime import date

import pytest

from desktop.domain.idnumber import make_number, mask, mask_if_id, normalize, validate


@pytest.mark.parametrize(
    "number",
    ["440308199901101512", "810000199408230021", "830000199201300022", "11010119900307803X", "500154199301135886",
     "152202194009012240", "15220219540505026X"],
)
def test_published_numbers_validate(number):
    assert validate(number).valid


def test_historical_region_code_accepted_for_old_birth_year():
    # 152202 阿尔山市 was created in 1996; a card issued later to someone born in 1940 carries it
    r = validate("152202194009012240")
    assert r.valid and "阿尔山市" in r.region
    assert r.birth_date == date(1940, 9, 1) and r.sex == "F"


def test_lower_case_x_and_fullwidth_digits_and_spaces():
    assert validate("11010119900307803x").valid
    assert validate("１５２２０２ １９４００９０１２２４０").valid
    assert normalize(" 1101 0119 9003 07803x ") == "11010119900307803X"


@pytest.mark.parametrize(
    "number,reason",
    [
        ("152202194009012241", "check_digit"),
        ("15220219400901224", "length"),
        ("1522021940090122A0", "format"),
        ("152202194002302240", "birth_date"),  # 30 Feb
        ("992202194009012240", "region"),
        ("", "empty"),
    ],
)
def test_invalid_numbers_say_why(number, reason):
    r = validate(number)
    assert r.valid is False and r.reason == reason and r.reason_zh
    assert r.number == normalize(number)  # the import report shows the number the clerk typed, normalised


def test_check_char_wants_seventeen_digits():
    from desktop.domain.idnumber import check_char

    assert check_char("15220219400901224") == "0"
    for bad in ("1522021940090122", "152202194009012240", "1522021940090122X"):
        with pytest.raises(ValueError, match="^17 digits expected$"):
            check_char(bad)


def test_future_birth_refused():
    n = make_number("152202", date(2030, 1, 1), 1)
    assert validate(n, today=date(2026, 11, 29)).reason == "future_birth"


def test_mask():
    assert mask("152202194009012240") == "152202********2240"


def test_make_number_round_trip():
    n = make_number("152224", date(1950, 2, 28), 37)
    r = validate(n)
    assert r.valid and r.birth_date == date(1950, 2, 28) and r.sex == "M"


def test_a_preview_masks_what_looks_like_an_id_number_and_nothing_else():
    """The import dialog shows a file's cells before its columns are known (issue 21)."""
    assert mask_if_id("152202194009012240") == "152202********2240"
    assert mask_if_id(" 15220219540505026x ") == "152202********026x"  # spaces around, lower-case x
    assert mask_if_id("152202400901224") == "152202*****1224"  # an old 15-digit number
    # anything else is shown as it is, spaces included
    for text in ("张三", " 1000.00 ", "1522021940090122", "1522021940090122400", "15220219400901224Y",
                 "1522021940090122X0", "2026-12-04", ""):
        assert mask_if_id(text) == text
