"""Figures are written the way the report writes them, qualifier included."""

from decimal import Decimal

import pytest

from indicators.models import format_quantity


@pytest.mark.parametrize(
    ("value", "unit", "qualifier", "expected"),
    [
        ("2185.8000", "万人", "", "2185.8 万人"),
        ("6", "%", "以上", "6% 以上"),
        ("150", "万亩", "以上", "150 万亩以上"),
        ("1200", "万平方米", "约", "约 1200 万平方米"),
        ("5000", "套（间）", "余", "5000 余套（间）"),
        ("2", "万家", "余", "2 万余家"),
        ("200", "家", "多", "200 多家"),
        ("3000", "家", "超", "超 3000 家"),
        ("2200", "万标箱", "突破", "突破 2200 万标箱"),
        ("99.997", "%", "约", "约 99.997%"),
        ("114.5", "", "", "114.5"),
    ],
)
def test_format_quantity(value, unit, qualifier, expected):
    assert format_quantity(Decimal(value), unit, qualifier) == expected


def test_no_value_shows_nothing():
    assert format_quantity(None, "万件", "") == ""
