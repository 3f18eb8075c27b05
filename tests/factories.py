"""factory_boy factories for the report's models, shared by the whole suite.

Publishable things (editions, indicators, stories) are *published* by default,
with a publish date in the past; use the traits ``draft=True`` or
``scheduled=True`` (publish date in the future) for the hidden cases.

Children follow their parent's edition: ``IndicatorFactory(chapter=c)`` belongs
to ``c.edition``, ``StoryFactory(chapter=c)`` too, and
``StoryFactory(street=s)`` lies in ``s.district``.

``IndicatorFactory`` creates one annual value for the indicator's year unless
told otherwise::

    IndicatorFactory(values=[(2022, "88.7"), (2023, "90.5")])  # a comparison
    IndicatorFactory(values=[(2023, "5000", "余")])              # 5000 余套（间）
    IndicatorFactory(values=[])                                 # no figure given
"""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from indicators.models import (
    Chapter,
    Direction,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    PublishStatus,
    Section,
    Story,
    StoryKind,
    Street,
)

THEMES = ["首都功能", "城市规模", "空间布局", "生态底线", "城市治理", "安全韧性", "区域协同"]


def _past() -> "timezone.datetime":
    return timezone.now() - timedelta(days=1)


def _future() -> "timezone.datetime":
    return timezone.now() + timedelta(days=7)


class PublishableFactory(factory.django.DjangoModelFactory):
    status = PublishStatus.PUBLISHED
    published_at = factory.LazyFunction(_past)

    class Meta:
        abstract = True

    class Params:
        draft = factory.Trait(status=PublishStatus.DRAFT)
        scheduled = factory.Trait(published_at=factory.LazyFunction(_future))


class DistrictFactory(factory.django.DjangoModelFactory):
    slug = factory.Sequence(lambda n: f"district-{n}")
    name = factory.Sequence(lambda n: f"测试{n}区")
    name_en = factory.Sequence(lambda n: f"Test District {n}")
    order = factory.Sequence(lambda n: n)

    class Meta:
        model = District


class StreetFactory(factory.django.DjangoModelFactory):
    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"测试{n}街道")
    name_en = factory.Sequence(lambda n: f"Test Subdistrict {n}")

    class Meta:
        model = Street


class EditionFactory(PublishableFactory):
    # Years are unique: pass ``year=`` when a test needs a particular one.
    year = factory.Sequence(lambda n: 2023 + n)
    title = factory.LazyAttribute(lambda o: f"北京城市总体规划实施体检报告（{o.year}年度）公众读本")
    title_en = factory.LazyAttribute(lambda o: f"Beijing Master Plan Health Check {o.year}: Public Reader")
    preface = "一年一体检，五年一评估。\n\n这是前言的第二段。"
    preface_en = "An annual health check.\n\nThe second paragraph of the preface."

    class Meta:
        model = Edition


class ChapterFactory(factory.django.DjangoModelFactory):
    edition = factory.SubFactory(EditionFactory)
    number = factory.Sequence(lambda n: n + 1)
    slug = factory.Sequence(lambda n: f"chapter-{n}")
    theme = factory.Sequence(lambda n: THEMES[n % len(THEMES)])
    theme_en = factory.Sequence(lambda n: f"Theme {n}")
    title = factory.Sequence(lambda n: f"第{n}章的标题")
    title_en = factory.Sequence(lambda n: f"Title of chapter {n}")
    summary = "本章摘要。"

    class Meta:
        model = Chapter


class SectionFactory(factory.django.DjangoModelFactory):
    chapter = factory.SubFactory(ChapterFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"第{n}节的标题")
    title_en = factory.Sequence(lambda n: f"Section {n}")
    body = "本节正文第一段。\n\n本节正文第二段。"

    class Meta:
        model = Section


def _make_values(indicator: Indicator, points) -> None:
    for point in points:
        if isinstance(point, dict):
            IndicatorValueFactory(indicator=indicator, **point)
            continue
        year, value, *rest = point
        IndicatorValueFactory(
            indicator=indicator,
            year=year,
            value=Decimal(str(value)),
            qualifier=rest[0] if rest else "",
        )


class IndicatorFactory(PublishableFactory):
    chapter = factory.SubFactory(ChapterFactory)
    edition = factory.LazyAttribute(lambda o: o.chapter.edition)
    section = None
    code = factory.Sequence(lambda n: f"indicator-{n}")
    name = factory.Sequence(lambda n: f"测试指标{n}")
    name_en = factory.Sequence(lambda n: f"Test indicator {n}")
    unit = "%"
    year = 2023
    direction = Direction.UP
    source_text = factory.LazyAttribute(lambda o: f"{o.name}的原句。")

    class Meta:
        model = Indicator
        skip_postgeneration_save = True

    @factory.post_generation
    def values(self, create: bool, extracted, **kwargs) -> None:
        if not create:
            return
        points = extracted if extracted is not None else [(self.year, Decimal("42"))]
        _make_values(self, points)


class IndicatorValueFactory(factory.django.DjangoModelFactory):
    indicator = factory.SubFactory(IndicatorFactory, values=[])
    year = 2023
    month = None
    value = Decimal("42")
    qualifier = ""

    class Meta:
        model = IndicatorValue


class StoryFactory(PublishableFactory):
    chapter = None
    edition = factory.Maybe(
        "chapter",
        yes_declaration=factory.SelfAttribute("chapter.edition"),
        no_declaration=factory.SubFactory(EditionFactory),
    )
    section = None
    slug = factory.Sequence(lambda n: f"story-{n}")
    kind = StoryKind.PARK_GREEN
    title = factory.Sequence(lambda n: f"测试故事{n}")
    title_en = factory.Sequence(lambda n: f"Test story {n}")
    summary = "故事摘要。"
    body = "故事正文第一段。\n\n故事正文第二段。"
    street = None
    district = factory.Maybe(
        "street",
        yes_declaration=factory.SelfAttribute("street.district"),
        no_declaration=None,
    )
    rank = None

    class Meta:
        model = Story
        skip_postgeneration_save = True

    @factory.post_generation
    def indicators(self, create: bool, extracted, **kwargs) -> None:
        if create and extracted:
            self.indicators.add(*extracted)


class PhotoFactory(factory.django.DjangoModelFactory):
    story = factory.SubFactory(StoryFactory)
    caption = factory.Sequence(lambda n: f"图注{n}")
    caption_en = factory.Sequence(lambda n: f"Caption {n}")
    credit = "霍文武 / 摄"
    order = factory.Sequence(lambda n: n)

    class Meta:
        model = Photo
