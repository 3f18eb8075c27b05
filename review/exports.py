"""The queue as a table (CSV and Excel), with no resident identifier of any kind.

No resident id, key hash, nickname or self-reported resident district is
written: only the case, where it belongs, and the resident's words.
"""

import io
import re
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from indicators.models import is_english, localized_in
from review.language import chapter_label, item_label
from review.models import ReviewCase

# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# What a spreadsheet cannot hold: XML 1.0 (the .xlsx format) has no control characters
# but tab, line feed and carriage return, nor U+FFFE and U+FFFF; openpyxl refuses to
# write them (IllegalCharacterError) and Excel would refuse the file. A resident may
# paste them into a comment; they carry no meaning, so both exports drop them.
_UNHOLDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def header() -> list[str]:
    return [
        _("编号"),
        _("类型"),
        _("对象"),
        _("章"),
        _("行政区"),
        _("街道/乡镇"),
        _("状态"),
        _("审核状态"),
        _("评分"),
        _("内容"),
        _("反馈时间"),
        _("首次答复时间"),
        _("经办人"),
    ]


def _safe(value: str) -> str:
    # Dropped first: "\x01=HYPERLINK(…)" must not become a formula once cleaned.
    value = _UNHOLDABLE.sub("", value)
    return f"'{value}" if value.startswith(_FORMULA_PREFIXES) else value


def _time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def row(case: ReviewCase, *, english: bool = False) -> list:
    """A case's cells. The names are in the export's language, as the header and the labels
    are (``english``: the planner's workspace is English): English where it exists."""
    return [
        case.pk,
        case.get_kind_display(),
        _safe(item_label(case.item, english=english)),
        _safe(chapter_label(case.chapter, english=english)) if case.chapter_id else "",
        _safe(localized_in(case.district, "name", english=english)) if case.district_id else "",
        _safe(localized_in(case.street, "name", english=english)) if case.street_id else "",
        case.get_status_display(),
        case.comment.get_moderation_state_display() if case.comment_id else "",
        case.score if case.score is not None else "",
        _safe(case.text),
        _time(case.received_at),
        _time(case.first_reply_at),
        _safe(case.assignee.get_username()) if case.assignee_id else "",
    ]


def rows(queryset: QuerySet[ReviewCase]) -> Iterator[list]:
    # The language asked once, when the first row is made: a streamed export is made after
    # its view returned, in the same request's language (its header is translated then too).
    english = is_english()
    # iterator(): an export of every case of a city does not sit in memory.
    for case in queryset.iterator(chunk_size=500):
        yield row(case, english=english)


def xlsx_bytes(queryset: Iterable[ReviewCase]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("反馈"))
    sheet.append(header())
    for values in rows(queryset):
        sheet.append([str(value) if isinstance(value, str) else value for value in values])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
