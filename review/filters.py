"""The queue's filters (django-filter), shared by the queue page and the exports."""

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from feedback.models import ModerationState
from indicators.models import Chapter, District, is_english
from review.language import WrittenSelect, chapter_label, written_fields_mark
from review.models import CaseKind, CaseStatus, ReviewCase

ORDER_CHOICES = [("newest", _("最新在前")), ("oldest", _("最早在前"))]
SCORE_CHOICES = [(str(n), str(n)) for n in range(1, 6)]
ITEM_PREFIXES = {"indicator": "indicator_id", "story": "story_id", "question": "question_id"}


class DateInput(forms.DateInput):
    input_type = "date"


class CaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="filter_text", max_length=100)
    district = django_filters.ModelChoiceFilter(
        label=_("行政区"), queryset=District.objects.none(), empty_label=_("全部"), widget=WrittenSelect
    )
    chapter = django_filters.ModelChoiceFilter(
        label=_("章"), queryset=Chapter.objects.none(), empty_label=_("全部"), widget=WrittenSelect
    )
    item = django_filters.ChoiceFilter(
        label=_("对象"), method="filter_item", empty_label=_("全部"), widget=WrittenSelect
    )
    kind = django_filters.ChoiceFilter(label=_("类型"), choices=CaseKind.choices, empty_label=_("全部"))
    status = django_filters.ChoiceFilter(label=_("状态"), choices=CaseStatus.choices, empty_label=_("全部"))
    moderation = django_filters.ChoiceFilter(
        label=_("审核状态"),
        field_name="comment__moderation_state",
        choices=ModerationState.choices,
        empty_label=_("全部"),
    )
    score = django_filters.ChoiceFilter(
        label=_("评分"), choices=SCORE_CHOICES, method="filter_score", empty_label=_("全部")
    )
    received_from = django_filters.DateFilter(
        label=_("起始日期"), field_name="received_at", lookup_expr="date__gte", widget=DateInput
    )
    received_to = django_filters.DateFilter(
        label=_("截止日期"), field_name="received_at", lookup_expr="date__lte", widget=DateInput
    )
    order = django_filters.ChoiceFilter(
        label=_("排序"), choices=ORDER_CHOICES, method="filter_order", empty_label=None
    )

    class Meta:
        model = ReviewCase
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, user, **kwargs) -> None:
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        scope = queryset if queryset is not None else ReviewCase.objects.none()
        fields = self.form.fields
        if user.is_staff or user.is_superuser:
            fields["district"].queryset = District.objects.all()
        else:
            fields["district"].queryset = District.objects.filter(
                Q(planners__user=user) | Q(streets__planners__user=user)
            ).distinct()
        fields["chapter"].queryset = Chapter.objects.filter(
            pk__in=scope.order_by().values("chapter_id")
        ).select_related("edition")
        # The names in the planner's language (the same texts on a Chinese page).
        fields["district"].label_from_instance = lambda district: district.display_name
        fields["chapter"].label_from_instance = lambda chapter: chapter_label(chapter, english=is_english())
        # What was searched for, marked Chinese on an English page when it is.
        written_fields_mark(self.form, "q")
        # Evaluated only when the form is shown or an item is chosen.
        fields["item"].choices = lambda: [("", _("全部")), *self._item_choices(scope)]

    @staticmethod
    def _item_choices(scope: QuerySet) -> list[tuple[str, str]]:
        rows = (
            scope.order_by()
            .values(
                "indicator_id",
                "indicator__name",
                "indicator__name_en",
                "story_id",
                "story__title",
                "story__title_en",
                "question_id",
                "question__dimension",
                "question__dimension_en",
            )
            .distinct()
        )
        # On an English page each name's English, or its Chinese where it has none (the
        # option is then marked Chinese, ``WrittenSelect``).
        english = is_english()

        def name(field: str, row: dict) -> str:
            return (english and row[f"{field}_en"]) or row[field]

        choices = []
        for row in rows:
            if row["indicator_id"]:
                choices.append((f"indicator-{row['indicator_id']}", name("indicator__name", row)))
            elif row["story_id"]:
                choices.append((f"story-{row['story_id']}", name("story__title", row)))
            elif row["question_id"]:
                survey, dimension = _("问卷"), name("question__dimension", row)
                label = f"{survey} · {dimension}" if english else f"{survey}·{dimension}"
                choices.append((f"question-{row['question_id']}", label))
        return sorted(choices, key=lambda choice: choice[1])

    @property
    def qs(self) -> QuerySet[ReviewCase]:
        queryset = super().qs
        if not self.form.cleaned_data.get("order"):
            queryset = queryset.order_by("-received_at", "-id")
        return queryset

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(comment__body__icontains=value)
            | Q(survey_answer__comment__icontains=value)
            | Q(indicator__name__icontains=value)
            | Q(story__title__icontains=value)
            | Q(question__dimension__icontains=value)
        )

    def filter_item(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        prefix, _sep, pk = value.partition("-")
        if prefix not in ITEM_PREFIXES or not pk.isdigit():
            return queryset.none()
        return queryset.filter(**{ITEM_PREFIXES[prefix]: int(pk)})

    def filter_score(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        score = int(value)
        return queryset.filter(Q(rating__score=score) | Q(survey_answer__score=score))

    def filter_order(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "oldest":
            return queryset.order_by("received_at", "id")
        return queryset.order_by("-received_at", "-id")
