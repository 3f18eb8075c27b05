"""Spreadsheet cells as staff write them, read with clear messages in their language.

The indicator table (``indicators.resources``) reads its cells through these
widgets: Excel's ``2023.0`` is a year, ``2,185.8`` a figure, ``越高越好`` a
direction; anything else is refused with a message that names the cell's
value and what it may be. ``StaffCSV`` reads the CSV files Excel and WPS
write (UTF-8 with or without a byte-order mark, or GB18030).
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db.models.enums import TextChoices
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from import_export import widgets
from import_export.formats.base_formats import CSV

from indicators.models import format_number


def blank(value: Any) -> bool:
    """An empty cell: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as text for comparing rows: Excel's 2023.0 equals a CSV's "2023"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class IntegerCellWidget(widgets.Widget):
    """A whole number; Excel's ``2023.0`` is accepted, ``二〇二三`` or ``2023.5`` is not."""

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None) -> None:
        super().__init__(coerce_to_string=True)
        self.minimum = minimum
        self.maximum = maximum

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        if blank(value):
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            raise ValueError(_("“%(value)s” 不是整数。") % {"value": value})
        number = int(number)
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ValueError(
                _("%(value)s 超出范围，应在 %(min)s–%(max)s 之间。")
                % {"value": number, "min": self.minimum, "max": self.maximum}
            )
        return number

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return ""
        return value if kwargs.get("force_native_type") else str(value)


class MonthCellWidget(IntegerCellWidget):
    def __init__(self) -> None:
        super().__init__(minimum=1, maximum=12)

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> int | None:
        try:
            return super().clean(value, row, **kwargs)
        except ValueError as error:
            raise ValueError(
                _("月份应为 1–12 的整数；年度数据请留空。（%(error)s）") % {"error": error}
            ) from error


class DecimalCellWidget(widgets.Widget):
    """A figure as the report prints it: ``88.7``, ``2,185.8``; written back without trailing zeros."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Decimal | None:
        if blank(value):
            return None
        text = str(value).strip().replace(",", "").replace("，", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(_("“%(value)s” 不是数字。") % {"value": value})
        return number

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return ""
        # Excel gets a real number (openpyxl writes Decimal as a numeric cell).
        return value.normalize() if kwargs.get("force_native_type") else format_number(value)


class DateCellWidget(widgets.Widget):
    """A day: Excel's date cell, or ``2024-03-01``, ``2024/3/1``, ``2024.3.1``, ``2024年3月1日``."""

    # A CSV saved by Excel may carry a midnight time after the day.
    PATTERN = re.compile(
        r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+0{1,2}:00(?::00)?)?"
    )

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> date | None:
        if blank(value):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        match = self.PATTERN.fullmatch(str(value).strip())
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass  # no such day: 2024-02-30
        raise ValueError(_("“%(value)s” 不是日期，请写成 2024-03-01。") % {"value": value})

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        if value is None:
            return ""
        # Excel gets a real date cell.
        return value if kwargs.get("force_native_type") else value.isoformat()


class ChoiceCellWidget(widgets.Widget):
    """One of a model's choices, written as staff read it (越高越好), read back as code or label."""

    def __init__(self, choices: type[TextChoices], *, what: str, write_label: bool = True) -> None:
        super().__init__(coerce_to_string=True)
        self.choices = choices
        self.what = what
        self.write_label = write_label

    def _lookup(self) -> dict[str, str]:
        # Codes, and labels in the current and in the default language: an
        # export made in either interface imports in either.
        lookup = {str(value): value for value in self.choices.values}
        with translation.override(settings.LANGUAGE_CODE):
            lookup.update({str(label): value for value, label in self.choices.choices})
        lookup.update({str(label): value for value, label in self.choices.choices})
        return lookup

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        text = "" if value is None else str(value).strip()
        lookup = self._lookup()
        if text in lookup:
            return lookup[text]
        allowed = "、".join(str(label) for value, label in self.choices.choices if value)
        raise ValueError(
            _("“%(value)s” 不是可用的%(what)s，可填：%(allowed)s。")
            % {"value": text, "what": self.what, "allowed": allowed}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if not value:
            return ""
        return str(self.choices(value).label) if self.write_label else str(value)


class OptionalChoiceCellWidget(ChoiceCellWidget):
    """The same, where a blank cell means "not given"."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> str:
        return "" if blank(value) else super().clean(value, row, **kwargs)


class StaffCSV(CSV):
    """A CSV as staff's spreadsheets save it.

    UTF-8 with or without a byte-order mark, or GB18030 (what Excel on a
    Chinese Windows writes for plain "CSV"): read as bytes and decoded here.
    """

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any):
        if isinstance(in_stream, bytes):
            try:
                in_stream = in_stream.decode("utf-8-sig")
            except UnicodeDecodeError:
                in_stream = in_stream.decode("gb18030")
        return super().create_dataset(in_stream, **kwargs)
