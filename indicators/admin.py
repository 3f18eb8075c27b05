"""Staff curation of the report in the Django admin.

Every model of the report is here with list columns, filters and search.
Publication goes through ``indicators.services`` (list actions "publish" and
"unpublish"); a draft is marked in every list so staff never mistake it for
public content. Every save and delete makes the pages showing the row fresh
(``ReportAdmin``: the page cache, ``indicators.cache``). The indicator table
can be imported and exported as CSV or Excel, one row per value
(``indicators.resources``).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import SelectableFieldsExportForm
from import_export.results import Result

from indicators import cache as page_cache
from indicators import services
from indicators.cells import StaffCSV
from indicators.editions import edition_start_from
from indicators.models import (
    Chapter,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    PublishStatus,
    Section,
    Story,
    Street,
    figure_differs_from_source,
    format_number,
    publication_normalize,
)
from indicators.resources import (
    STAFF_VALUE_NEEDS_SOURCE,
    VALUE_DIFFERS_CONFIRM,
    VALUE_DIFFERS_NEEDS_SOURCE,
    VALUE_DIFFERS_SAVED,
    IndicatorValueResource,
    value_differs_message,
)
from indicators.selectors import values_prefetch


class ReportAdmin(admin.ModelAdmin):
    """The admin of every report model: a save or delete renews the pages showing the row.

    The row's edition is taken as it was and as it is, so a row moved to another
    chapter, edition or year renews the pages of both (``page_cache.content_years``).
    Inline rows (sections, values, photos, streets) belong to the row saved.
    """

    def save_model(self, request: HttpRequest, obj, form: forms.ModelForm, change: bool) -> None:
        before = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        page_cache.report_changed(years=page_cache.content_years(before, obj))

    def delete_model(self, request: HttpRequest, obj) -> None:
        years = page_cache.content_years(obj)
        super().delete_model(request, obj)
        page_cache.report_changed(years=years)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        years = page_cache.content_years_of(queryset)
        super().delete_queryset(request, queryset)
        page_cache.report_changed(years=years)


# --- Publication ----------------------------------------------------------------------------


class PublishableForm(forms.ModelForm):
    """Saving as published without a date publishes now (``publication_normalize``)."""

    def clean(self) -> dict:
        cleaned = super().clean()
        if "status" in cleaned:
            cleaned["published_at"] = publication_normalize(
                cleaned["status"], cleaned.get("published_at"), timezone.now()
            )
        return cleaned


@admin.display(description=_("公开状态"), ordering="status")
def publication_badge(obj: Edition | Indicator | Story) -> str:
    if obj.status != PublishStatus.PUBLISHED or obj.published_at is None:
        return format_html('<strong class="pub pub--draft">●&nbsp;{}</strong>', _("草稿（不公开）"))
    if not obj.is_public:
        when = timezone.localtime(obj.published_at).strftime("%Y-%m-%d %H:%M")
        return format_html('<strong class="pub pub--pending">◐&nbsp;{} {}</strong>', _("定时发布"), when)
    edition = getattr(obj, "edition", None)
    if edition is not None and not edition.is_public:
        # Published itself, but nobody sees it while its edition is not public.
        return format_html(
            '<strong class="pub pub--pending">◐&nbsp;{}</strong>', _("已发布，但年度报告未公开")
        )
    return format_html('<span class="pub pub--public">✔&nbsp;{}</span>', _("已公开"))


@admin.display(description=_("年度"), ordering="edition__year")
def edition_year(obj: Chapter | Story) -> int:
    # The year alone: the edition's full title would crowd the list.
    return obj.edition.year


class PublishableAdmin(ReportAdmin):
    """Shared by editions, indicators and stories: the publish column and actions."""

    form = PublishableForm
    actions = ["publish", "unpublish"]
    date_hierarchy = "published_at"

    @admin.action(description=_("发布所选内容（立即公开）"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = services.publishable_publish(queryset=queryset)
        self.message_user(
            request,
            ngettext("已发布 %(count)d 项。", "已发布 %(count)d 项。", changed) % {"count": changed},
            messages.SUCCESS,
        )

    @admin.action(description=_("撤回所选内容（改为草稿）"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet) -> None:
        changed = services.publishable_unpublish(queryset=queryset)
        self.message_user(
            request,
            ngettext("已撤回 %(count)d 项，改为草稿。", "已撤回 %(count)d 项，改为草稿。", changed)
            % {"count": changed},
            messages.SUCCESS,
        )


# --- Districts and streets ----------------------------------------------------------------------


class StreetInline(admin.TabularInline):
    model = Street
    extra = 0
    fields = ["name", "name_en"]


@admin.register(District)
class DistrictAdmin(ReportAdmin):
    list_display = ["name", "name_en", "slug", "order"]
    list_editable = ["order"]
    search_fields = ["name", "name_en", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [StreetInline]


@admin.register(Street)
class StreetAdmin(ReportAdmin):
    list_display = ["name", "name_en", "district"]
    list_filter = ["district"]
    list_select_related = ["district"]
    search_fields = ["name", "name_en", "district__name"]
    autocomplete_fields = ["district"]


# --- Editions, chapters, sections -------------------------------------------------------------------


class EditionStartForm(forms.Form):
    """The year of the edition to start from the selected one."""

    year = forms.IntegerField(label=_("新年度"), min_value=2000, max_value=2100)


@admin.register(Edition)
class EditionAdmin(PublishableAdmin):
    actions = [*PublishableAdmin.actions, "start_next"]
    list_display = ["year", "title", publication_badge, "published_at"]
    list_display_links = ["year", "title"]
    list_filter = ["status"]
    search_fields = ["title", "title_en", "=year"]
    fieldsets = [
        (None, {"fields": ["year", "title", "title_en"]}),
        (_("前言"), {"fields": ["preface", "preface_en"]}),
        (_("发布"), {"fields": ["status", "published_at"]}),
    ]

    @admin.action(description=_("以所选年度为基础新建年度（草稿，不含数值）"), permissions=["add"])
    def start_next(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Ask for the year, then copy the structure (``editions.edition_start_from``)."""
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个年度作为基础。"), messages.ERROR)
            return None
        previous = queryset.get()
        form = EditionStartForm(request.POST if "apply" in request.POST else None)
        form.fields["year"].initial = previous.year + 1
        if form.is_bound and form.is_valid():
            try:
                edition = edition_start_from(previous=previous, year=form.cleaned_data["year"])
            except ValidationError as error:
                form.add_error("year", error)
            else:
                link = reverse("admin:indicators_edition_change", args=[edition.pk])
                self.message_user(
                    request,
                    format_html(
                        '{} <a href="{}">{}</a>',
                        _("已新建 %(year)s 年度草稿（%(chapters)s 章、%(indicators)s 项指标，无数值）。")
                        % {
                            "year": edition.year,
                            "chapters": edition.chapters.count(),
                            "indicators": edition.indicators.count(),
                        },
                        link,
                        _("编辑新年度"),
                    ),
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("新建年度"),
            "opts": self.model._meta,
            "previous": previous,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/indicators/edition/start_from.html", context)


class SectionInline(admin.StackedInline):
    model = Section
    extra = 0
    fields = [("number", "title"), "title_en", "body"]


@admin.register(Chapter)
class ChapterAdmin(ReportAdmin):
    list_display = ["__str__", "title", edition_year, "slug", "section_count"]
    list_filter = ["edition"]
    list_select_related = ["edition"]
    search_fields = ["theme", "theme_en", "title", "title_en", "slug"]
    inlines = [SectionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Chapter]:
        return super().get_queryset(request).prefetch_related("sections")

    @admin.display(description=_("节数"))
    def section_count(self, obj: Chapter) -> int:
        return len(obj.sections.all())


@admin.register(Section)
class SectionAdmin(ReportAdmin):
    list_display = ["__str__", "chapter", "title_en"]
    list_filter = ["chapter__edition", "chapter"]
    list_select_related = ["chapter", "chapter__edition"]
    search_fields = ["title", "title_en", "body", "chapter__theme"]
    autocomplete_fields = ["chapter"]


# --- Indicators -----------------------------------------------------------------------------------------


class TrimmedDecimalsForm(forms.ModelForm):
    """Figures in the form as the report writes them: 1065 and 44.9, not 1065.0000 and 44.9000."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if isinstance(field, forms.DecimalField) and isinstance(value, Decimal):
                # Still a Decimal (equal to the stored one), so the field's has_changed holds.
                self.initial[name] = Decimal(format_number(value))


class IndicatorValueForm(TrimmedDecimalsForm):
    """A value staff add names its source; one that departs from the report's sentence is confirmed.

    The indicator page quotes the report's sentence under the figure, so a figure
    the sentence does not state (importing 45.1 above "森林覆盖率达到 44.9%") is
    never saved silently: the form asks for a tick, the source and its date, and
    the page then shows those instead of the sentence.
    """

    confirm_differs = forms.BooleanField(
        label=_("我确认该数值与报告原文不同"),
        required=False,
        help_text=_("数值与指标所引报告原文中的数字不同时须勾选，并写明来源和来源日期。"),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.pk is None and not (cleaned.get("source") or "").strip():
            self.add_error("source", STAFF_VALUE_NEEDS_SOURCE)
        self._confirm_departure_from_source(cleaned)
        return cleaned

    def _indicator(self, cleaned: dict) -> Indicator | None:
        # The value's own admin has an indicator field; an inline's parent is the instance's.
        if cleaned.get("indicator") is not None:
            return cleaned["indicator"]
        try:
            return self.instance.indicator
        except Indicator.DoesNotExist:
            return None

    def _confirm_departure_from_source(self, cleaned: dict) -> None:
        indicator = self._indicator(cleaned)
        value = cleaned.get("value")
        if indicator is None or not figure_differs_from_source(
            indicator, year=cleaned.get("year"), month=cleaned.get("month"), value=value
        ):
            return
        if self.instance.pk is not None and not {"value", "year", "month"} & set(self.changed_data):
            return  # confirmed when it was saved; editing its source or qualifier asks nothing again
        if not cleaned.get("confirm_differs"):
            self.add_error(
                "confirm_differs",
                format_lazy("{}{}", value_differs_message(indicator, value), VALUE_DIFFERS_CONFIRM),
            )
        if not (cleaned.get("source") or "").strip():
            self.add_error("source", VALUE_DIFFERS_NEEDS_SOURCE)
        if cleaned.get("source_date") is None:
            self.add_error("source_date", VALUE_DIFFERS_NEEDS_SOURCE)


def warn_if_differs_from_source(
    model_admin: admin.ModelAdmin, request: HttpRequest, value: IndicatorValue
) -> None:
    if value.differs_from_source:
        model_admin.message_user(
            request,
            format_lazy("{}{}", value_differs_message(value.indicator, value.value), VALUE_DIFFERS_SAVED),
            messages.WARNING,
        )


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    form = IndicatorValueForm
    extra = 0
    fields = ["year", "month", "value", "qualifier", "source", "source_date", "confirm_differs"]


class ColumnHeaderExportForm(SelectableFieldsExportForm):
    """The export page names each column as the file's header does ("报告年度").

    django-import-export labels a column with its field's name in English and
    its header in brackets ("Edition (报告年度)").
    """

    def _get_field_label(self, resource, field_name: str) -> str:
        field = resource.fields.get(field_name)
        return field.column_name if field else field_name


class IndicatorForm(TrimmedDecimalsForm, PublishableForm):
    pass


class IndicatorAdmin(ImportExportMixin, PublishableAdmin):
    form = IndicatorForm
    resource_classes = [IndicatorValueResource]
    export_form_class = ColumnHeaderExportForm
    formats = [CSV, XLSX]
    # With a byte-order mark Excel opens the exported CSV as UTF-8, not GBK.
    to_encoding = "utf-8-sig"
    # Lists each bad row's errors in plain sight above the stock preview.
    import_template_name = "admin/indicators/indicator/import.html"

    list_display = [
        "code",
        "name",
        "figure",
        "chapter",
        "section",
        "year",
        "headline",
        publication_badge,
        "updated_at",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["edition", "status", "chapter__theme", "headline", "direction", "values__qualifier"]
    list_select_related = ["edition", "chapter", "section__chapter"]
    search_fields = ["code", "name", "name_en", "source_text"]
    autocomplete_fields = ["chapter", "section"]
    inlines = [IndicatorValueInline]
    fieldsets = [
        (None, {"fields": ["edition", ("chapter", "section"), "code", ("name", "name_en")]}),
        (_("数值"), {"fields": [("unit", "year", "direction"), "source_text", "note"]}),
        (
            _("比较"),
            {
                "fields": [
                    ("change_value", "change_unit", "change_qualifier", "change_direction"),
                    ("change_base", "change_base_year"),
                ]
            },
        ),
        (_("展示与发布"), {"fields": [("headline", "order"), ("status", "published_at")]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Indicator]:
        return super().get_queryset(request).prefetch_related(values_prefetch())

    @admin.display(description=_("数值"))
    def figure(self, obj: Indicator) -> str:
        value = obj.current_value
        return value.display if value else "—"

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for value in formset.new_objects + [obj for obj, _fields in formset.changed_objects]:
            if isinstance(value, IndicatorValue):
                warn_if_differs_from_source(self, request, value)

    # --- import: a file with any bad row imports nothing -------------------------------------

    def get_import_formats(self) -> list:
        # Same order as ``formats``: CSV in UTF-8 or GB18030, then Excel.
        return [StaffCSV, XLSX]

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import creates and changes indicators and values: it needs both rights.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_import_data_kwargs(self, **kwargs) -> dict:
        # The confirm step re-runs the import for real: roll the whole file back
        # if a row fails there too (e.g. the data changed since the preview).
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def process_result(self, result: Result, request: HttpRequest) -> HttpResponseRedirect:
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                _("文件中有错误的行，整个文件未导入任何数据。请重新上传并查看逐行错误。"),
                messages.ERROR,
            )
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        return super().process_result(result, request)


admin.site.register(Indicator, IndicatorAdmin)


@admin.register(IndicatorValue)
class IndicatorValueAdmin(ReportAdmin):
    form = IndicatorValueForm
    list_display = [
        "indicator",
        "label",
        "figure",
        "qualifier",
        "display",
        "source",
        "source_date",
        "differs",
    ]
    list_filter = ["indicator__edition", "year", "qualifier", "indicator__chapter__theme"]
    list_select_related = ["indicator"]
    search_fields = ["indicator__code", "indicator__name", "source"]
    autocomplete_fields = ["indicator"]

    @admin.display(description=_("年月"), ordering="year")
    def label(self, obj: IndicatorValue) -> str:
        return obj.label

    @admin.display(description=_("按报告写法"))
    def display(self, obj: IndicatorValue) -> str:
        return obj.display

    @admin.display(description=_("数值"), ordering="value")
    def figure(self, obj: IndicatorValue) -> str:
        return format_number(obj.value)

    @admin.display(description=_("与报告原文不同"), boolean=True)
    def differs(self, obj: IndicatorValue) -> bool:
        return obj.differs_from_source

    def save_model(
        self, request: HttpRequest, obj: IndicatorValue, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        warn_if_differs_from_source(self, request, obj)


# --- Stories and photos -------------------------------------------------------------------------------------


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    fields = ["order", "caption", "caption_en", "credit", "image", "alt_text"]


# Beijing's extent (39°26′–41°03′ N, 115°25′–117°30′ E) with a little margin: a point
# outside it is a typo or swapped fields, and would fall off the districts' map.
BEIJING_LATITUDE = (Decimal("39.4"), Decimal("41.1"))
BEIJING_LONGITUDE = (Decimal("115.4"), Decimal("117.6"))


def _within(value: Decimal, bounds: tuple[Decimal, Decimal]) -> bool:
    return bounds[0] <= value <= bounds[1]


class StoryForm(PublishableForm):
    """A story's place on the districts' map: both coordinates or neither, inside Beijing."""

    class Meta:
        help_texts = {
            "latitude": _("北纬，如 39.9163（与高德地图一致的 GCJ-02 坐标）；范围 39.4–41.1。"),
            "longitude": _("东经，如 116.3972（GCJ-02）；范围 115.4–117.6。"),
        }

    def clean(self) -> dict:
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        if self.has_error("latitude") or self.has_error("longitude"):
            return cleaned
        if (latitude is None) != (longitude is None):
            missing = "longitude" if longitude is None else "latitude"
            self.add_error(
                missing, forms.ValidationError(_("请同时填写纬度和经度，或都留空。"), code="incomplete")
            )
            return cleaned
        if latitude is None:
            return cleaned
        if _within(latitude, BEIJING_LONGITUDE) and _within(longitude, BEIJING_LATITUDE):
            message = _("纬度和经度似乎填反了：北京的纬度约 39.4–41.1，经度约 115.4–117.6。")
            self.add_error("latitude", forms.ValidationError(message, code="swapped"))
            return cleaned
        if not _within(latitude, BEIJING_LATITUDE):
            message = _("纬度不在北京市范围内（39.4–41.1）。")
            self.add_error("latitude", forms.ValidationError(message, code="outside_beijing"))
        if not _within(longitude, BEIJING_LONGITUDE):
            message = _("经度不在北京市范围内（115.4–117.6）。")
            self.add_error("longitude", forms.ValidationError(message, code="outside_beijing"))
        return cleaned


@admin.register(Story)
class StoryAdmin(PublishableAdmin):
    form = StoryForm
    list_display = [
        "title",
        "kind",
        "rank",
        "district",
        "street",
        edition_year,
        publication_badge,
        "updated_at",
    ]
    list_display_links = ["title"]
    list_filter = ["edition", "status", "kind", "district"]
    list_select_related = ["edition", "district", "street__district"]
    search_fields = ["slug", "title", "title_en", "summary", "body"]
    autocomplete_fields = ["chapter", "section", "district", "street", "indicators"]
    inlines = [PhotoInline]
    fieldsets = [
        (None, {"fields": ["edition", "kind", "slug", ("title", "title_en"), "rank"]}),
        (_("正文"), {"fields": ["summary", "body"]}),
        (_("位置"), {"fields": [("chapter", "section"), ("district", "street"), ("latitude", "longitude")]}),
        (_("相关指标"), {"fields": ["indicators"]}),
        (_("展示与发布"), {"fields": ["order", ("status", "published_at")]}),
    ]


@admin.register(Photo)
class PhotoAdmin(ReportAdmin):
    list_display = ["caption", "credit", "story", "has_image", "order"]
    list_filter = ["story__kind", "story__edition"]
    list_select_related = ["story"]
    search_fields = ["caption", "caption_en", "credit", "story__title"]
    autocomplete_fields = ["story"]

    @admin.display(description=_("已上传图片"), boolean=True)
    def has_image(self, obj: Photo) -> bool:
        return bool(obj.image)
