"""Beijing's 16 districts: their map, residents' satisfaction in each, their stories.

The map is drawn on the server as SVG from boundary data the site ships
(``feedback/data/boundaries/``: source and licence in its README), so it needs
no tile server, no outside request and no JavaScript. A district is coloured by
the stored satisfaction of the residents who named it (``AggregateScope.DISTRICT``);
below ``AGGREGATE_MIN_COUNT`` raters its mean is withheld (``ScoreSummary``) and
it stays uncoloured. Stories with coordinates (set by staff in the admin) are
points on it.

The projection is equirectangular with the longitude scaled by the cosine of
Beijing's middle latitude: at the scale of a city, as faithful as any.
"""

import functools
import json
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db.models import QuerySet
from django.http import Http404

from feedback.models import AggregateScope
from feedback.selectors import (
    ScoreSummary,
    aggregates_by_object,
    district_aggregates,
    district_list,
    survey_current,
    survey_questions,
    survey_results,
)
from indicators.models import District, Story, StoryKind
from indicators.selectors import story_list_published

BOUNDARIES = Path(__file__).resolve().parent / "data" / "boundaries" / "beijing_districts.geojson"
MAP_WIDTH = 600
# A district's name is written on the map when its outline is at least this wide (px);
# the small central districts are named by their link and in the table.
LABEL_MIN_WIDTH = 48
# Upper bounds of the colour classes of a mean score (1–5); the last class takes the rest.
CLASS_BOUNDS = (Decimal("3"), Decimal("3.5"), Decimal("4"), Decimal("4.5"))


# --- Geometry ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outline:
    slug: str
    path: str
    label_x: float
    label_y: float
    width: float


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    outlines: dict[str, Outline]
    project: "Projection"


@dataclass(frozen=True)
class Projection:
    west: float
    north: float
    scale_x: float
    scale_y: float

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return round((lon - self.west) * self.scale_x, 1), round((self.north - lat) * self.scale_y, 1)


def _ring_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Area and centroid of a projected ring (shoelace)."""
    area = cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x1 * y2 - x2 * y1
        area += cross
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    if not area:
        return 0.0, ring[0][0], ring[0][1]
    return abs(area) / 2, cx / (3 * area), cy / (3 * area)


def _crossing(ring: list[tuple[float, float]], y: float) -> tuple[float, float, float]:
    """The longest stretch of the horizontal line at ``y`` inside ``ring``: (length, middle x, y)."""
    xs = sorted(
        x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)
        if (y1 <= y < y2) or (y2 <= y < y1)
    )
    stretches = [(b - a, (a + b) / 2, y) for a, b in zip(xs[::2], xs[1::2], strict=False)]
    return max(stretches, default=(0.0, 0.0, y))


def _label_point(ring: list[tuple[float, float]]) -> tuple[float, float]:
    """A point well inside the ring for its name: the middle of the widest of a few horizontal
    stretches (a concave district's centroid may lie outside it, or on its edge)."""
    _, _, cy = _ring_centroid(ring)
    top, bottom = min(y for _, y in ring), max(y for _, y in ring)
    heights = [cy, *(top + (bottom - top) * f / 10 for f in range(3, 8))]
    centre = _crossing(ring, cy)
    widest = max((_crossing(ring, y) for y in heights), key=lambda stretch: stretch[0])
    # The centroid's own line unless another is much wider.
    _, x, y = centre if centre[0] >= 0.8 * widest[0] else widest
    return x, y


def _outline(feature: dict, project: Projection) -> Outline:
    parts, largest = [], (0.0, [(0.0, 0.0)])
    xs: list[float] = []
    for polygon in feature["geometry"]["coordinates"]:
        for index, ring in enumerate(polygon):
            points = [project(lon, lat) for lon, lat in ring]
            xs += [x for x, _ in points]
            parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in points) + "Z")
            if index == 0:
                largest = max(largest, (_ring_centroid(points)[0], points), key=lambda part: part[0])
    label_x, label_y = _label_point(largest[1])
    return Outline(
        slug=feature["properties"]["slug"],
        path="".join(parts),
        label_x=round(label_x, 1),
        # Text sits on its baseline: down by a third of its size to centre it on the point.
        label_y=round(label_y + 6, 1),
        width=max(xs) - min(xs),
    )


@functools.cache
def geometry() -> Geometry:
    """The districts' outlines as SVG paths (read and projected once per process)."""
    features = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    points = [
        point
        for f in features
        for polygon in f["geometry"]["coordinates"]
        for ring in polygon
        for point in ring
    ]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((north + south) / 2))
    scale = MAP_WIDTH / ((east - west) * squeeze)
    project = Projection(west=west, north=north, scale_x=scale * squeeze, scale_y=scale)
    outlines = {o.slug: o for o in (_outline(f, project) for f in features)}
    return Geometry(
        width=MAP_WIDTH, height=math.ceil((north - south) * scale), outlines=outlines, project=project
    )


def boundaries_geojson() -> bytes:
    return BOUNDARIES.read_bytes()


# --- The map ------------------------------------------------------------------------------------


def colour_class(summary: ScoreSummary) -> str:
    """``map-fill--none`` while the mean is withheld, else the class of its band."""
    if summary.mean is None:
        return "none"
    return str(sum(summary.mean >= bound for bound in CLASS_BOUNDS))


@dataclass(frozen=True)
class MapDistrict:
    district: District
    summary: ScoreSummary
    outline: Outline | None
    colour: str
    story_count: int = 0

    @property
    def labelled(self) -> bool:
        return self.outline is not None and self.outline.width >= LABEL_MIN_WIDTH


@dataclass(frozen=True)
class MapPoint:
    story: Story
    x: float
    y: float


@dataclass(frozen=True)
class DistrictMap:
    width: int
    height: int
    districts: list[MapDistrict]
    points: list[MapPoint] = field(default_factory=list)
    current: str = ""

    @property
    def legend(self) -> list[tuple[str, str, str]]:
        """(class, lower bound, upper bound) of each colour band, lowest first."""
        bounds = ["1", *(format(b, "f") for b in CLASS_BOUNDS), "5"]
        return [(str(i), bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def stories_located() -> QuerySet[Story]:
    """Public stories that have coordinates, for the map's points."""
    return (
        story_list_published()
        .filter(latitude__isnull=False, longitude__isnull=False)
        .defer("body", "summary")
        .order_by("-edition__year", "kind", "rank", "order", "id")
    )


def _points(stories: list[Story]) -> list[MapPoint]:
    project = geometry().project
    return [MapPoint(story, *project(float(story.longitude), float(story.latitude))) for story in stories]


def district_map(*, current: str = "") -> DistrictMap:
    """Every district with its stored satisfaction and outline, and the located stories (3 queries)."""
    shapes = geometry()
    stories = list(stories_located())
    counts: dict[int, int] = {}
    for story in stories:
        counts[story.district_id] = counts.get(story.district_id, 0) + 1
    districts = [
        MapDistrict(
            district=district,
            summary=summary,
            outline=shapes.outlines.get(district.slug),
            colour=colour_class(summary),
            story_count=counts.get(district.pk, 0),
        )
        for district, summary in district_aggregates()
    ]
    return DistrictMap(
        width=shapes.width,
        height=shapes.height,
        districts=districts,
        points=_points(stories),
        current=current,
    )


# --- One district -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyByDistrict:
    """A survey question's result among the residents of one district (withheld below the minimum)."""

    dimension: str
    text: str
    count: int
    mean: Decimal | None


@dataclass(frozen=True)
class DistrictPage:
    district: District
    summary: ScoreSummary
    stories: list[Story]
    best_alleys: list[Story]
    survey: object | None
    survey_rows: list[SurveyByDistrict]


def district_get(*, slug: str) -> District:
    district = district_list().filter(slug=slug).first()
    if district is None:
        raise Http404("No such district")
    return district


def _survey_rows(district: District) -> tuple[object | None, list[SurveyByDistrict]]:
    survey = survey_current()
    if survey is None:
        return None, []
    rows = []
    for question, summary in survey_results(survey_questions(survey)):
        entry = summary.by_district.get(str(district.pk))
        if entry is None:
            continue
        mean = entry.get("mean")
        rows.append(
            SurveyByDistrict(
                dimension=question.display_dimension,
                text=question.display_text,
                count=entry["count"],
                mean=None if mean is None else Decimal(str(mean)),
            )
        )
    return survey, rows


def district_page(*, slug: str) -> DistrictPage:
    """A district's stored satisfaction, its public stories (best alleys first) and its survey results."""
    district = district_get(slug=slug)
    summary = aggregates_by_object(scope=AggregateScope.DISTRICT, object_ids=[district.pk])[district.pk]
    stories = list(
        story_list_published(district=slug).defer("body").order_by("-edition__year", "kind", "rank")
    )
    survey, survey_rows = _survey_rows(district)
    return DistrictPage(
        district=district,
        summary=summary,
        stories=[s for s in stories if s.kind != StoryKind.BEST_ALLEY],
        best_alleys=[s for s in stories if s.kind == StoryKind.BEST_ALLEY],
        survey=survey,
        survey_rows=survey_rows,
    )
