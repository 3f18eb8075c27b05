"""The report's figures written for the English pages: the same numbers, in English units.

The report writes ``2185.8 万人``, ``约 1200 万平方米``, ``超 4 成``; an English reader
gets ``21.858 million people``, ``about 12 million m²``, ``more than 40%``, ``1,065``. Only the
writing changes: 万 (ten thousand) and 亿 (a hundred million) are multiplied out
exactly (``Decimal``), 成 (tenths) becomes a percentage, and a unit is put in
English from a fixed list. A Chinese measure word (个, 家, 处, 项…) says only that
things are counted, and the indicator's name says what, so in English the number
stands alone. A unit or qualifier not on the lists keeps the report's own writing
(``format_quantity``): never a guessed translation.

The admin, the API and the open data keep the report's writing: they are the record.
"""

from decimal import Decimal

from indicators.models import ChangeDirection, Indicator, format_number, format_quantity

# Words that only count: the number stands alone in English.
MEASURE_WORDS = (
    *("个", "家", "条", "项", "处", "所", "部", "次", "座", "名"),
    *("起", "级", "类", "期", "方面", "平台", "届", "列", "件"),
)
# The report's units (after 万 or 亿) in English; "" for a measure word.
UNITS = {
    "": "",
    "%": "%",
    "人": "people",
    "人次": "person-times",
    "户": "households",
    "年": "years",
    "公里": "km",
    "公顷": "ha",
    "亩": "mu",
    "平方米": "m²",
    "立方米": "m³",
    "微克/立方米": "μg/m³",
    "千瓦时": "kWh",
    "元": "yuan",
    "吨": "tonnes",
    "标箱": "TEU",
    "架次": "flights",
    "间": "rooms",
    "套": "homes",
    "套（间）": "homes",
    "大领域": "domains",
    **dict.fromkeys(MEASURE_WORDS, ""),
}
MAGNITUDES = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
# How the magnitudes read in a unit label (a chart's values stay in the report's unit).
MAGNITUDE_LABELS = {"万": "10,000", "亿": "100 million"}
QUALIFIERS = {
    "": "",
    "超过": "more than",
    "超": "more than",
    "突破": "more than",
    "余": "more than",
    "多": "more than",
    "以上": "at least",
    "约": "about",
    "近": "nearly",
    "达": "",
}
_SCALES = ((Decimal(1_000_000_000), "billion"), (Decimal(1_000_000), "million"))


def _split(unit: str) -> tuple[Decimal, str, str]:
    """``(multiplier, its character or "", the unit after it)``: ``万人`` → (10000, 万, 人)."""
    if unit[:1] in MAGNITUDES and unit[1:] in UNITS:
        return MAGNITUDES[unit[0]], unit[0], unit[1:]
    return Decimal(1), "", unit


def _number(value: Decimal) -> str:
    """21858000 → ``21.858 million``; 20000 → ``20,000``; 2185.8 → ``2,185.8`` (English
    separates thousands; the report does not)."""
    for scale, word in _SCALES:
        if abs(value) >= scale:
            return f"{format_number(value / scale)} {word}"
    return format(Decimal(format_number(value)), ",f")


def _english(value: Decimal, unit: str, qualifier: str) -> str | None:
    """The figure in English; None when its unit or qualifier has none."""
    multiplier, _magnitude, rest = _split(unit)
    if rest == "成":
        value, multiplier, rest = value * 10, Decimal(1), "%"
    words, prefix = UNITS.get(rest), QUALIFIERS.get(qualifier)
    if words is None or prefix is None:
        return None
    number = _number(value * multiplier)
    amount = f"{number}%" if words == "%" else f"{number} {words}".rstrip()
    return f"{prefix} {amount}" if prefix else amount


def quantity_english(value: Decimal | None, unit: str, qualifier: str) -> str:
    """``format_quantity`` in English, or the report's writing when a part has no English."""
    if value is None:
        return ""
    english = _english(value, unit, qualifier)
    return format_quantity(value, unit, qualifier) if english is None else english


def unit_label_english(unit: str) -> str:
    """A unit as a label over figures written in it: ``万人`` → ``10,000 people``; the
    report's unit when it has no English."""
    _multiplier, magnitude, rest = _split(unit)
    words = UNITS.get(rest)
    if words is None:
        return unit
    if magnitude:
        return f"{MAGNITUDE_LABELS[magnitude]} {words}".rstrip()
    return words


def unit_english(unit: str) -> str:
    """The unit of the figures as written in English (``quantity_english``): ``万人`` →
    ``people`` (the figures say "21.858 million people"), ``成`` → ``%``, a measure word →
    ``""``; the report's unit when it has no English."""
    _multiplier, _magnitude, rest = _split(unit)
    if rest == "成":
        return "%"
    words = UNITS.get(rest)
    return unit if words is None else words


def change_english(indicator: Indicator) -> str:
    """``display_change`` in English: ``up 16.5% on 2022``, ``down 4.8% on 2019``."""
    if indicator.change_value is None:
        return ""
    unit = indicator.unit if indicator.change_unit == "" else indicator.change_unit
    amount = _english(indicator.change_value, unit, indicator.change_qualifier)
    year = indicator.change_base_year
    if amount is None or (indicator.change_base and not year):
        # A part without English, or a base the report names without a year: its own words.
        return indicator.display_change
    verb = "up" if indicator.change_direction == ChangeDirection.INCREASE else "down"
    return f"{verb} {amount} on {year}" if year else f"{verb} {amount}"
