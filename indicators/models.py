"""The published report: editions, chapters, indicators, stories, districts.

Everything a resident reads belongs to an edition, so years can be compared.
Figures are stored as the report gives them: a decimal value with the
report's own qualifier (``5000 余套`` is not ``5000 套``) and unit.
"""

import re
import unicodedata
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def localized(obj: models.Model, field: str) -> str:
    """The English text of ``field`` when the interface is English and it exists."""
    return localized_in(obj, field, english=is_english())


def is_english() -> bool:
    """Whether the interface is English (the ``_en`` texts are shown)."""
    return (get_language() or "").startswith("en")


def localized_in(obj: models.Model, field: str, *, english: bool) -> str:
    """``localized`` with the language decided by the caller: a list of rows asks once
    (``is_english``) rather than once per text of every row."""
    if english:
        text = getattr(obj, f"{field}_en", "")
        if text:
            return text
    return getattr(obj, field)


class PublishStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


# --- Publication: the one definition of "public" ----------------------------------------------
#
# Editions, indicators, stories (and feedback's surveys) are public when they
# are published *and* their publish date has come. The rule is written once
# for the database (``public_q``) and once for a row in memory
# (``is_public_at``); every query, property and page goes through these two.


def public_q(prefix: str = "", *, now: datetime | None = None) -> Q:
    """Published, with a publish date that has come; ``prefix`` reaches a related row (``"edition__"``)."""
    return Q(
        **{
            f"{prefix}status": PublishStatus.PUBLISHED,
            f"{prefix}published_at__isnull": False,
            f"{prefix}published_at__lte": timezone.now() if now is None else now,
        }
    )


def is_public_at(status: str, published_at: datetime | None, now: datetime) -> bool:
    """``public_q`` for one row: the same three conditions, evaluated in Python."""
    return status == PublishStatus.PUBLISHED and published_at is not None and published_at <= now


def publication_normalize(status: str, published_at: datetime | None, now: datetime) -> datetime | None:
    """The publish date to store: publishing without a date means now.

    Without it the row would be "published" yet invisible (``public_q`` wants a
    date), which no editor means. A draft keeps whatever date it has; a date in
    the future schedules the publication.
    """
    if status == PublishStatus.PUBLISHED and published_at is None:
        return now
    return published_at


class PublishableQuerySet(models.QuerySet):
    def published(self) -> "PublishableQuerySet":
        return self.filter(public_q())


class Publishable(models.Model):
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=PublishStatus.choices,
        default=PublishStatus.DRAFT,
        help_text=_("只有“已发布”且发布时间已到的内容对公众可见。"),
    )
    published_at = models.DateTimeField(
        _("发布时间"),
        null=True,
        blank=True,
        help_text=_("留空则不公开；可设为将来的时间以定时发布。"),
    )

    objects = PublishableQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_public(self) -> bool:
        return is_public_at(self.status, self.published_at, timezone.now())


class District(models.Model):
    """One of Beijing's 16 districts (区)."""

    slug = models.SlugField(_("标识"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=20, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("行政区")
        verbose_name_plural = _("行政区")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return localized(self, "name")


class Street(models.Model):
    """A street (街道) or town (镇/乡) within a district."""

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="streets", verbose_name=_("所属区")
    )
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True)

    class Meta:
        ordering = ["district__order", "name"]
        verbose_name = _("街道/乡镇")
        verbose_name_plural = _("街道/乡镇")
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="street_unique_name_in_district")
        ]

    def __str__(self) -> str:
        return f"{self.district.name}{self.name}"


class Edition(Publishable):
    """One year's public reader of the health check."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=200, blank=True)
    preface = models.TextField(_("前言"), blank=True)
    preface_en = models.TextField(_("英文前言"), blank=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("年度报告")
        verbose_name_plural = _("年度报告")

    def __str__(self) -> str:
        return f"{self.year} · {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("indicators:edition", kwargs={"year": self.year})

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_preface(self) -> str:
        return localized(self, "preface")


class Chapter(models.Model):
    """One of the seven areas the report reviews (首都功能 … 区域协同)."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="chapters", verbose_name=_("年度报告")
    )
    number = models.PositiveSmallIntegerField(_("章序号"))
    slug = models.SlugField(_("标识"), max_length=60)
    theme = models.CharField(_("领域"), max_length=20, help_text=_("如：首都功能、城市规模。"))
    theme_en = models.CharField(_("英文领域"), max_length=60, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    summary = models.TextField(_("摘要"), blank=True)

    class Meta:
        ordering = ["edition", "number"]
        verbose_name = _("章")
        verbose_name_plural = _("章")
        constraints = [
            models.UniqueConstraint(fields=["edition", "number"], name="chapter_unique_number"),
            models.UniqueConstraint(fields=["edition", "slug"], name="chapter_unique_slug"),
        ]

    def __str__(self) -> str:
        return f"第{self.number}章 {self.theme}"

    def get_absolute_url(self) -> str:
        return reverse("indicators:chapter", kwargs={"year": self.edition.year, "slug": self.slug})

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_theme(self) -> str:
        return localized(self, "theme")


class Section(models.Model):
    """A numbered section of a chapter (01, 02 …) with the report's own text."""

    chapter = models.ForeignKey(
        Chapter, on_delete=models.CASCADE, related_name="sections", verbose_name=_("章")
    )
    number = models.PositiveSmallIntegerField(_("节序号"))
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    body = models.TextField(_("正文"), blank=True)

    class Meta:
        ordering = ["chapter", "number"]
        verbose_name = _("节")
        verbose_name_plural = _("节")
        constraints = [models.UniqueConstraint(fields=["chapter", "number"], name="section_unique_number")]

    def __str__(self) -> str:
        return f"{self.chapter.number}.{self.number:02d} {self.title}"

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class Qualifier(models.TextChoices):
    """The report's hedge on a figure; part of the fact, never dropped."""

    NONE = "", _("（无）")
    ABOVE = "以上", "以上"
    OVER = "超过", "超过"
    OVER_SHORT = "超", "超"
    ABOUT = "约", "约"
    ODD = "余", "余"
    MORE = "多", "多"
    NEARLY = "近", "近"
    BREAKTHROUGH = "突破", "突破"
    REACH = "达", "达"


PREFIX_QUALIFIERS = {"超过", "超", "约", "近", "突破", "达"}
_MAGNITUDES = ("万", "亿")


def format_quantity(value: Decimal | None, unit: str, qualifier: str) -> str:
    """Write a figure the way the report does.

    ``约 1200 万平方米``, ``6% 以上``, ``5000 余套（间）``, ``2 万余家``, ``200 多家``.
    """
    if value is None:
        return ""
    number = format_number(value)
    # The report writes "69.4%" but "2185.8 万人".
    amount = f"{number}{unit}" if unit.startswith("%") or not unit else f"{number} {unit}"
    if qualifier in PREFIX_QUALIFIERS:
        return f"{qualifier} {amount}"
    if qualifier == "以上":
        # "6% 以上" but "150 万亩以上", as printed.
        return f"{amount} 以上" if unit.startswith("%") else f"{amount}以上"
    if qualifier == "余" and unit.startswith(_MAGNITUDES):
        return f"{number} {unit[0]}余{unit[1:]}"
    if qualifier in {"余", "多"}:
        return f"{number} {qualifier}{unit}"
    return amount


def format_number(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 2185.8, 99.997, 1065."""
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# A number as the report prints it (2185.8, 2,143.8), and one written in Chinese
# numerals (三年, 十大, 百万人: 万 and 亿 stay with the unit, as in "万人").
_ARABIC_FIGURE = re.compile(r"\d+(?:,\d{3}(?!\d))*(?:\.\d+)?")
_CHINESE_FIGURE = re.compile(r"[〇零一二两三四五六七八九十百千]+")
_CHINESE_DIGITS = dict(zip("〇零一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_CHINESE_SCALES = {"十": 10, "百": 100, "千": 1000}


def _chinese_number(text: str) -> int:
    """三 → 3, 十 → 10, 二十三 → 23, 百 → 100, 一百零五 → 105, 二〇二三 → 2023."""
    if not any(ch in _CHINESE_SCALES for ch in text):
        return int("".join(str(_CHINESE_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _CHINESE_SCALES:
            total += (digit or 1) * _CHINESE_SCALES[ch]
            digit = 0
        else:
            digit = _CHINESE_DIGITS[ch]
    return total + digit


def figures_in(text: str) -> set[Decimal]:
    """Every number a sentence of the report states, in Arabic or Chinese numerals.

    Generous on purpose: a word like 统一 yields a 1 too. The set is used to
    tell whether a figure is *not* in the sentence, and a spurious number
    only ever silences that warning, never raises a false one.
    """
    # The PDF's text may carry full-width digits and points (４４．９).
    text = unicodedata.normalize("NFKC", text or "")
    figures = {Decimal(match.replace(",", "")) for match in _ARABIC_FIGURE.findall(text)}
    figures.update(Decimal(_chinese_number(match)) for match in _CHINESE_FIGURE.findall(text))
    return figures


def figure_differs_from_source(
    indicator: "Indicator", *, year: int | None, month: int | None, value: Decimal | None
) -> bool:
    """Whether ``value`` would stand above the indicator's quoted sentence with another number.

    Only the indicator's own-year annual figure is the one its sentence
    states; other years and months are not compared, and neither is a
    sentence without any number (no figure to differ from). The unit is the
    indicator's, as in the sentence (``2185.8`` for "2185.8 万人").
    """
    if value is None or month is not None or year != indicator.year:
        return False
    figures = figures_in(indicator.source_text)
    return bool(figures) and abs(value) not in figures


class Direction(models.TextChoices):
    UP = "up", _("越高越好")
    DOWN = "down", _("越低越好")
    NEUTRAL = "neutral", _("无好坏之分")


class ChangeDirection(models.TextChoices):
    INCREASE = "increase", _("增加")
    DECREASE = "decrease", _("减少")


class Indicator(Publishable):
    """A quantitative fact of the report, with its values over time."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="indicators", verbose_name=_("年度报告")
    )
    chapter = models.ForeignKey(
        Chapter, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("章")
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("节"),
    )
    code = models.SlugField(
        _("编码"),
        max_length=80,
        help_text=_("在本年度内唯一、稳定的英文标识，用于网址和导入导出。"),
    )
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    unit = models.CharField(_("单位"), max_length=30, blank=True, help_text=_("如：万人、%、亿元。"))
    year = models.PositiveSmallIntegerField(_("数值年份"), help_text=_("报告数值所指的年份。"))
    direction = models.CharField(
        _("方向"), max_length=10, choices=Direction.choices, default=Direction.NEUTRAL
    )
    change_value = models.DecimalField(_("变化量"), max_digits=14, decimal_places=4, null=True, blank=True)
    change_unit = models.CharField(
        _("变化单位"), max_length=30, blank=True, help_text=_("“%”为相对变化；留空表示与数值同单位。")
    )
    change_qualifier = models.CharField(
        _("变化限定词"), max_length=4, choices=Qualifier.choices, blank=True, default=""
    )
    change_direction = models.CharField(
        _("变化方向"), max_length=10, choices=ChangeDirection.choices, blank=True
    )
    change_base = models.CharField(
        _("比较基准"), max_length=30, blank=True, help_text=_("报告原文：上年、同比、2013 年……")
    )
    change_base_year = models.PositiveSmallIntegerField(_("基准年份"), null=True, blank=True)
    headline = models.BooleanField(_("首页要点"), default=False)
    order = models.PositiveIntegerField(_("排序"), default=0)
    source_text = models.TextField(_("原文"), help_text=_("报告中给出该数字的原句。"))
    note = models.TextField(_("说明"), blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["chapter__number", "order", "id"]
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        constraints = [
            models.UniqueConstraint(fields=["edition", "code"], name="indicator_unique_code"),
            models.CheckConstraint(
                condition=Q(change_value__isnull=True) | ~Q(change_direction=""),
                name="indicator_change_has_direction",
            ),
        ]
        indexes = [models.Index(fields=["status", "published_at"], name="indicator_published_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("indicators:indicator", kwargs={"year": self.edition.year, "code": self.code})

    @property
    def display_name(self) -> str:
        return localized(self, "name")

    def _values(self) -> list["IndicatorValue"]:
        # The prefetch cache when the selector prefetched ``values`` (read as it is: the
        # related manager that ``values.all()`` builds to reach it costs more than the rows).
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("values")
        if prefetched is not None and prefetched._result_cache is not None:
            return list(prefetched._result_cache)
        return list(self.values.all())

    @property
    def current_value(self) -> "IndicatorValue | None":
        """The value for the indicator's own year (the figure the report headlines)."""
        return self.current_and_previous()[0]

    @property
    def previous_value(self) -> "IndicatorValue | None":
        """The latest annual value before ``current_value``'s year (the report's comparison)."""
        return self.current_and_previous()[1]

    def current_and_previous(self) -> tuple["IndicatorValue | None", "IndicatorValue | None"]:
        """``(current_value, previous_value)`` from one reading of the values (a list row shows both)."""
        annual = [v for v in self._values() if v.month is None]
        current = next((v for v in annual if v.year == self.year), annual[-1] if annual else None)
        if current is None:
            return None, None
        earlier = [v for v in annual if v.year < current.year]
        return current, earlier[-1] if earlier else None

    @property
    def series(self) -> list["IndicatorValue"]:
        return self._values()

    @property
    def display_change(self) -> str:
        if self.change_value is None:
            return ""
        verb = "增长" if self.change_direction == ChangeDirection.INCREASE else "下降"
        base = self.change_base or ""
        if base and base != "同比":
            base = f"较{base}"
        unit = self.unit if self.change_unit == "" else self.change_unit
        amount = format_quantity(self.change_value, unit, self.change_qualifier)
        return f"{base}{verb} {amount}".strip()


class IndicatorValue(models.Model):
    """One point of an indicator: a year (or a month of it) and the figure."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="values", verbose_name=_("指标")
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    month = models.PositiveSmallIntegerField(
        _("月份"), null=True, blank=True, help_text=_("月度数据填 1–12；年度数据留空。")
    )
    value = models.DecimalField(_("数值"), max_digits=16, decimal_places=4)
    qualifier = models.CharField(_("限定词"), max_length=4, choices=Qualifier.choices, blank=True, default="")
    source = models.CharField(
        _("来源"), max_length=200, blank=True, help_text=_("留空即来自本年度报告；工作人员补录时写明出处。")
    )
    source_date = models.DateField(
        _("来源日期"),
        null=True,
        blank=True,
        help_text=_("来源发布或数据截至的日期；与报告原文不同的数值，页面显示其来源和日期。"),
    )

    class Meta:
        ordering = ["indicator", "year", "month"]
        verbose_name = _("指标数值")
        verbose_name_plural = _("指标数值")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year"],
                condition=Q(month__isnull=True),
                name="indicatorvalue_unique_year",
            ),
            models.UniqueConstraint(
                fields=["indicator", "year", "month"],
                condition=Q(month__isnull=False),
                name="indicatorvalue_unique_month",
            ),
            models.CheckConstraint(
                condition=Q(month__isnull=True) | Q(month__gte=1, month__lte=12),
                name="indicatorvalue_month_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.name} {self.label}: {self.display}"

    @property
    def label(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    @property
    def display(self) -> str:
        return format_quantity(self.value, self.indicator.unit, self.qualifier)

    @property
    def differs_from_source(self) -> bool:
        """The figure the page headlines is not the number of the report's sentence above it."""
        return figure_differs_from_source(self.indicator, year=self.year, month=self.month, value=self.value)

    @property
    def departs_from_report(self) -> bool:
        """A figure staff kept against the report's sentence, with its own source.

        Its page quotes that source and date instead of the sentence. A report's
        own figure (no source) always keeps the sentence: the form and the import
        let no differing figure be saved without a source.
        """
        return bool(self.source.strip()) and self.differs_from_source


class StoryKind(models.TextChoices):
    BEST_ALLEY = "best_alley", _("最美街巷")
    PARK_GREEN = "park_green", _("公园绿地")
    HOTLINE = "hotline", _("12345 热线")
    HOTLINE_THEME = "hotline_theme", _("每月一题")
    DISASTER_RESPONSE = "disaster_response", _("防灾救灾")
    MAJOR_PROJECT = "major_project", _("重大项目")
    HERITAGE_CULTURE = "heritage_culture", _("历史文化")
    URBAN_RENEWAL = "urban_renewal", _("城市更新")
    TRANSPORT = "transport", _("交通出行")
    PUBLIC_SERVICE = "public_service", _("公共服务")
    REGIONAL = "regional", _("区域协同")


class Story(Publishable):
    """A highlight of the year: a best alley, a park, a hotline theme …"""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="stories", verbose_name=_("年度报告")
    )
    chapter = models.ForeignKey(
        Chapter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stories",
        verbose_name=_("章"),
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stories",
        verbose_name=_("节"),
    )
    slug = models.SlugField(_("标识"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=StoryKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    summary = models.TextField(_("摘要"), blank=True)
    body = models.TextField(_("正文"), blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stories",
        verbose_name=_("所在区"),
    )
    street = models.ForeignKey(
        Street,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stories",
        verbose_name=_("街道/乡镇"),
    )
    rank = models.PositiveSmallIntegerField(_("名次"), null=True, blank=True)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    indicators = models.ManyToManyField(
        Indicator, blank=True, related_name="stories", verbose_name=_("相关指标")
    )
    order = models.PositiveIntegerField(_("排序"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["kind", "rank", "order", "id"]
        verbose_name = _("亮点故事")
        verbose_name_plural = _("亮点故事")
        constraints = [
            models.UniqueConstraint(fields=["edition", "slug"], name="story_unique_slug"),
        ]
        indexes = [
            models.Index(fields=["status", "published_at"], name="story_published_idx"),
            models.Index(fields=["kind", "district"], name="story_kind_district_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("indicators:story", kwargs={"year": self.edition.year, "slug": self.slug})

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class Photo(models.Model):
    """A photo of a story with the credit the report gives it (``霍文武 / 摄``)."""

    story = models.ForeignKey(
        Story, on_delete=models.CASCADE, related_name="photos", verbose_name=_("亮点故事")
    )
    caption = models.CharField(_("图注"), max_length=300)
    caption_en = models.CharField(_("英文图注"), max_length=400, blank=True)
    credit = models.CharField(
        _("署名"), max_length=120, blank=True, help_text=_("照原文，如“霍文武 / 摄”“北京市交通委 / 供”。")
    )
    image = models.ImageField(
        _("图片"),
        upload_to="photos/%Y/",
        blank=True,
        help_text=_("报告原图尚未提供时可留空，页面只显示图注与署名。"),
    )
    alt_text = models.CharField(_("替代文字"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["story", "order", "id"]
        verbose_name = _("照片")
        verbose_name_plural = _("照片")

    def __str__(self) -> str:
        return f"{self.caption}（{self.credit}）" if self.credit else self.caption
