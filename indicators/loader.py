"""The report loader: a report data file (YAML) into the database.

``report_load`` brings the database in line with a report data file (YAML,
kept in the repo, readable by staff). It is idempotent: a second run with the
same file writes nothing; a changed value in the file updates its row. It
never changes what staff decide in the admin: publication status, uploaded
photos and values that staff entered with a source of their own.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from indicators import cache as page_cache
from indicators.models import (
    ChangeDirection,
    Chapter,
    Direction,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    PublishStatus,
    Qualifier,
    Section,
    Story,
    StoryKind,
    Street,
    publication_normalize,
)

ModelT = TypeVar("ModelT", bound=models.Model)


@dataclass
class LoadResult:
    """What a load did, per model: created / updated / unchanged counts."""

    counts: dict[str, Counter] = field(default_factory=dict)

    def add(self, model: type[models.Model], outcome: str) -> None:
        self.counts.setdefault(model._meta.model_name, Counter())[outcome] += 1

    @property
    def changed(self) -> int:
        return sum(c["created"] + c["updated"] + c["deleted"] for c in self.counts.values())

    def summary(self) -> str:
        return "; ".join(
            f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))
            for name, counter in sorted(self.counts.items())
        )


def _validate(instance: models.Model) -> None:
    # Field checks (choices, lengths, decimals) without a query per row: the
    # references come from this same load and the constraints are the database's.
    references = [f.name for f in instance._meta.concrete_fields if f.is_relation]
    instance.full_clean(exclude=references, validate_unique=False, validate_constraints=False)


def _upsert(
    model: type[ModelT], result: LoadResult, *, lookup: dict[str, Any], values: dict[str, Any]
) -> ModelT:
    """Create the row, or update only the fields that differ; never touch an equal row."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        _validate(instance)
        instance.save()
        result.add(model, "created")
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        _validate(instance)
        instance.save()
        result.add(model, "updated")
    else:
        result.add(model, "unchanged")
    return instance


def _decimal(raw: Any, where: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation as error:
        raise ValidationError(f"{where}: {raw!r} is not a number", code="invalid_number") from error


def _choice(raw: Any, choices: type[models.TextChoices], where: str) -> str:
    value = "" if raw is None else str(raw)
    if value not in choices.values:
        allowed = ", ".join(repr(v) for v in choices.values)
        raise ValidationError(f"{where}: {value!r} is not one of {allowed}", code="invalid_choice")
    return value


def report_read(path: Path) -> dict[str, Any]:
    """Parse a report data file, with a clear error for a broken one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValidationError(f"{path}: {error}", code="unreadable") from error
    if not isinstance(data, dict) or "edition" not in data:
        raise ValidationError(f"{path}: not a report data file (no 'edition')", code="invalid_file")
    return data


@transaction.atomic
def report_load(*, data: dict[str, Any]) -> LoadResult:
    """Bring the database in line with one edition's data file (all or nothing)."""
    result = LoadResult()
    districts, streets = _districts_load(data.get("districts", []), result)
    edition = _edition_load(data["edition"], result)
    places = _chapters_load(edition, data.get("chapters", []), result)
    indicators = _indicators_load(edition, places, data.get("indicators", []), result)
    _stories_load(edition, places, districts, streets, indicators, data.get("stories", []), result)
    if result.changed:
        # Districts are in every edition's pages, and this file may have moved anything.
        page_cache.report_changed(years=None)
        _statistics_refresh()
    return result


def _statistics_refresh() -> None:
    """PostgreSQL's statistics of the report's tables, taken again after a load.

    Autovacuum analyses a table once 50 rows plus a tenth of it have changed: the
    editions and chapters (a few rows a year) never get there, and without statistics
    the planner guesses. The chapter page's prepared reads (``indicators.compiled``) then
    keep a plan that scans every public indicator of every edition for one chapter's
    (measured: its reads cost PostgreSQL 0.87 ms a page before, 0.48 ms after). Runs in
    the load's transaction: a load that rolls back leaves the statistics as they were.
    """
    if connection.vendor != "postgresql":
        return
    # Every table of the report app (a load writes each, or the pages join through it),
    # the stories' indicators included: a model added later is analysed without a list to keep.
    report_models = apps.get_app_config("indicators").get_models(include_auto_created=True)
    tables = [connection.ops.quote_name(model._meta.db_table) for model in report_models]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def _publish_fields() -> dict[str, Any]:
    # What the file adds is published as it is loaded; staff curate from there.
    status = PublishStatus.PUBLISHED
    return {"status": status, "published_at": publication_normalize(status, None, timezone.now())}


def _districts_load(
    rows: list[dict], result: LoadResult
) -> tuple[dict[str, District], dict[tuple[str, str], Street]]:
    districts: dict[str, District] = {}
    streets: dict[tuple[str, str], Street] = {}
    for order, row in enumerate(rows, start=1):
        district = _upsert(
            District,
            result,
            lookup={"slug": row["slug"]},
            values={"name": row["name"], "name_en": row.get("name_en", ""), "order": order},
        )
        districts[district.slug] = district
        for street_row in row.get("streets", []) or []:
            street = _upsert(
                Street,
                result,
                lookup={"district": district, "name": street_row["name"]},
                values={"name_en": street_row.get("name_en", "")},
            )
            streets[(district.slug, street.name)] = street
    return districts, streets


def _edition_load(row: dict, result: LoadResult) -> Edition:
    year = int(row["year"])
    values = {
        "title": row["title"],
        "title_en": row.get("title_en", ""),
        "preface": (row.get("preface") or "").strip(),
        "preface_en": (row.get("preface_en") or "").strip(),
    }
    existing = Edition.objects.filter(year=year).exists()
    # Publication is the staff's decision once the row exists.
    return _upsert(
        Edition, result, lookup={"year": year}, values=values if existing else {**values, **_publish_fields()}
    )


@dataclass
class _Places:
    """The chapters and sections of the edition being loaded, by number."""

    chapters: dict[int, Chapter] = field(default_factory=dict)
    sections: dict[tuple[int, int], Section] = field(default_factory=dict)


def _chapters_load(edition: Edition, rows: list[dict], result: LoadResult) -> _Places:
    places = _Places()
    for row in rows:
        chapter = _upsert(
            Chapter,
            result,
            lookup={"edition": edition, "number": int(row["number"])},
            values={
                "slug": row["slug"],
                "theme": row["theme"],
                "theme_en": row.get("theme_en", ""),
                "title": row["title"],
                "title_en": row.get("title_en", ""),
                "summary": (row.get("summary") or "").strip(),
            },
        )
        places.chapters[chapter.number] = chapter
        for section_row in row.get("sections", []) or []:
            section = _upsert(
                Section,
                result,
                lookup={"chapter": chapter, "number": int(section_row["number"])},
                values={
                    "title": section_row["title"],
                    "title_en": section_row.get("title_en", ""),
                    "body": (section_row.get("body") or "").strip(),
                },
            )
            places.sections[(chapter.number, section.number)] = section
    return places


def _place(places: _Places, row: dict, where: str) -> tuple[Chapter, Section | None]:
    """The chapter and section a row names, or a clear error."""
    chapter_number = int(row["chapter"])
    chapter = places.chapters.get(chapter_number)
    if chapter is None:
        raise ValidationError(f"{where}: no chapter {chapter_number}", code="unknown_chapter")
    if row.get("section") is None:
        return chapter, None
    section = places.sections.get((chapter_number, int(row["section"])))
    if section is None:
        raise ValidationError(
            f"{where}: chapter {chapter_number} has no section {row['section']}", code="unknown_section"
        )
    return chapter, section


def _indicators_load(
    edition: Edition, places: _Places, rows: list[dict], result: LoadResult
) -> dict[str, Indicator]:
    indicators: dict[str, Indicator] = {}
    existing_codes = set(Indicator.objects.filter(edition=edition).values_list("code", flat=True))
    for order, row in enumerate(rows, start=1):
        where = f"indicator {row.get('code')!r}"
        chapter, section = _place(places, row, where)
        change = row.get("change") or {}
        values = {
            "chapter": chapter,
            "section": section,
            "name": row["name"],
            "name_en": row.get("name_en", ""),
            "unit": row.get("unit") or "",
            "year": int(row.get("year") or edition.year),
            "direction": _choice(row.get("direction", "neutral"), Direction, where),
            "change_value": _decimal(change.get("value"), where),
            "change_unit": change.get("unit") or "",
            "change_qualifier": _choice(change.get("qualifier"), Qualifier, where),
            "change_direction": _choice(change.get("direction"), ChangeDirection, where) if change else "",
            "change_base": change.get("base") or "",
            "change_base_year": change.get("base_year"),
            "headline": bool(row.get("headline", False)),
            "order": order,
            "source_text": row["source"].strip(),
            "note": (row.get("note") or "").strip(),
        }
        if row["code"] not in existing_codes:
            values.update(_publish_fields())
        lookup = {"edition": edition, "code": row["code"]}
        indicator = _upsert(Indicator, result, lookup=lookup, values=values)
        _values_load(indicator, row, where, result)
        indicators[indicator.code] = indicator
    return indicators


def _values_load(indicator: Indicator, row: dict, where: str, result: LoadResult) -> None:
    """The report's annual points of one indicator: its value and the earlier one it compares with."""
    points: dict[int, tuple[Decimal, str]] = {}
    value = _decimal(row.get("value"), where)
    if value is not None:
        points[indicator.year] = (value, _choice(row.get("qualifier"), Qualifier, where))
    previous = row.get("previous")
    if previous:
        points[int(previous["year"])] = (
            _decimal(previous["value"], f"{where} previous"),
            _choice(previous.get("qualifier"), Qualifier, f"{where} previous"),
        )
    for year, (number, qualifier) in points.items():
        _upsert(
            IndicatorValue,
            result,
            lookup={"indicator": indicator, "year": year, "month": None},
            values={"value": number, "qualifier": qualifier},
        )
    # A point the file no longer gives goes; points staff entered with a source stay.
    stale = IndicatorValue.objects.filter(indicator=indicator, month__isnull=True, source="").exclude(
        year__in=points
    )
    deleted, _ = stale.delete()
    for _ in range(deleted):
        result.add(IndicatorValue, "deleted")


def _stories_load(
    edition: Edition,
    places: _Places,
    districts: dict[str, District],
    streets: dict[tuple[str, str], Street],
    indicators: dict[str, Indicator],
    rows: list[dict],
    result: LoadResult,
) -> None:
    existing_slugs = set(Story.objects.filter(edition=edition).values_list("slug", flat=True))
    for order, row in enumerate(rows, start=1):
        where = f"story {row.get('slug')!r}"
        chapter, section = _place(places, row, where) if row.get("chapter") else (None, None)
        district, street = _location(districts, streets, row, where)
        values = {
            "chapter": chapter,
            "section": section,
            "kind": _choice(row["kind"], StoryKind, where),
            "title": row["title"],
            "title_en": row.get("title_en", ""),
            "summary": (row.get("summary") or "").strip(),
            "body": (row.get("body") or "").strip(),
            "district": district,
            "street": street,
            "rank": row.get("rank"),
            "order": order,
        }
        if row["slug"] not in existing_slugs:
            values.update(_publish_fields())
        story = _upsert(Story, result, lookup={"edition": edition, "slug": row["slug"]}, values=values)
        _story_indicators_load(story, indicators, row.get("indicators", []) or [], where)
        _photos_load(story, row.get("photos", []) or [], result)


def _location(
    districts: dict[str, District], streets: dict[tuple[str, str], Street], row: dict, where: str
) -> tuple[District | None, Street | None]:
    """The district and street a story names, or a clear error."""
    district = street = None
    if row.get("district"):
        district = districts.get(row["district"])
        if district is None:
            raise ValidationError(f"{where}: unknown district {row['district']!r}", code="unknown_district")
    if row.get("street"):
        street = streets.get((row.get("district"), row["street"]))
        if street is None:
            raise ValidationError(f"{where}: unknown street {row['street']!r}", code="unknown_street")
    return district, street


def _story_indicators_load(
    story: Story, indicators: dict[str, Indicator], codes: list[str], where: str
) -> None:
    unknown = [code for code in codes if code not in indicators]
    if unknown:
        raise ValidationError(f"{where}: unknown indicator {unknown[0]!r}", code="unknown_indicator")
    related = [indicators[code] for code in codes]
    if {i.pk for i in story.indicators.all()} != {i.pk for i in related}:
        story.indicators.set(related)


def _photos_load(story: Story, rows: list[dict], result: LoadResult) -> None:
    captions = []
    for order, row in enumerate(rows, start=1):
        captions.append(row["caption"])
        _upsert(
            Photo,
            result,
            lookup={"story": story, "caption": row["caption"]},
            values={"credit": row.get("credit") or "", "order": order},
        )
    # Photos the file dropped go, unless staff uploaded an image for them.
    deleted, _ = story.photos.exclude(caption__in=captions).filter(image="").delete()
    for _ in range(deleted):
        result.add(Photo, "deleted")
