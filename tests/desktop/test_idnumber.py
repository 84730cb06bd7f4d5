from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.domain import idnumber
from desktop.domain.idnumber import CHECK_CHARS, WEIGHTS, make_number, mask, mask_if_id, normalize, validate


def weighted_check_char(first17: str) -> str:
    """The check character the way GB 11643 writes it (each digit times its weight, modulo 11):
    the reference the fast :func:`idnumber.check_char` is held to."""
    assert len(first17) == 17 and first17.isascii() and first17.isdigit()
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


@pytest.fixture(autouse=True)
def _no_remembered_births():
    """Birth dates are remembered per text (a roster repeats them): every test here works them
    out afresh, so a slip in working them out cannot hide behind an earlier test's answer."""
    idnumber._BIRTHS.clear()


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

    assert check_char("15220219400901224") == "0" == weighted_check_char("15220219400901224")
    for bad in ("1522021940090122", "152202194009012240", "1522021940090122X", "1522021940090122\u0663"):
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


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_fast_check_character_is_the_standards_weighted_sum(first17):
    """check_char reads the digits as one base-13 number (13 ≡ 2 mod 11); the reference
    multiplies each digit by its weight of GB 11643 as the standard writes it."""
    from desktop.domain.idnumber import check_char

    assert check_char(first17) == weighted_check_char(first17)


def test_digits_of_other_scripts_are_not_id_digits():
    """Arabic-Indic or Devanagari digits are digits to Python (and to \\d): refused as the wrong
    characters, not taken for ASCII digits (nor a crash in the check character)."""
    from desktop.domain.idnumber import check_char

    good = make_number("152202", date(1940, 9, 1), 22)
    for i in (0, 8, 16, 17):
        for digit in ("\u0663", "\u0969", "\u06f3"):  # ٣ ३ ۳
            bad = good[:i] + digit + good[i + 1:]
            assert validate(bad).reason == "format", (i, digit)
    with pytest.raises(ValueError, match="^17 digits expected$"):
        check_char("1522021940090122\u0663")


def test_birth_dates_are_remembered_per_text_but_judged_against_each_today():
    n = make_number("152202", date(2026, 12, 1), 1)
    assert validate(n, today=date(2026, 11, 30)).reason == "future_birth"
    assert validate(n, today=date(2026, 12, 5)).valid  # the same birth text, another day
    bad = "152202" + "19400230" + "0012"  # no 30 February (any check character: the date fails first)
    assert validate(bad).reason == "birth_date" and validate(bad).reason == "birth_date"
    old = make_number("152202", date(1879, 12, 31), 1)
    assert validate(old).reason == "birth_date" and validate(old).reason == "birth_date"
