"""HTML views of the participation app: thin, plain form POSTs (PRG).

A successful rating or comment redirects back to the item with a message; bad
input re-shows the form with field messages (status 400); too many
submissions get a 429 page; a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback import selectors, services
from feedback.forms import CommentForm, DeleteMyDataForm, RatingForm, SurveyForm, apply_service_errors
from feedback.limits import submission_limited
from feedback.models import AggregateScope, ModerationState
from feedback.residents import (
    resident_cookie_delete,
    resident_cookie_set,
    resident_identity,
)


def body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def refuse_large_body(view):
    """413 before the body is parsed (Django alone would answer 400)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and body_too_large(request):
            return render(request, "feedback/too_large.html", status=413)
        return view(request, *args, **kwargs)

    return wrapper


def _rate_limited_response(request: HttpRequest, back_url: str) -> HttpResponse:
    return render(request, "feedback/rate_limited.html", {"back_url": back_url}, status=429)


def _target_or_404(kind: str, pk: int):
    target = selectors.target_public_get(kind=kind, pk=pk)
    if target is None:
        raise Http404
    return target


def _back(target) -> str:
    return f"{target.get_absolute_url()}#participation"


@require_POST
@refuse_large_body
def rate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    target = _target_or_404(kind, pk)
    identity = resident_identity(request, create=True)
    if submission_limited(request, kind="rating", resident_key_hash=identity.key_hash):
        return resident_cookie_set(_rate_limited_response(request, _back(target)), identity)
    form = RatingForm(request.POST, districts=list(selectors.district_list()))
    if form.is_valid():
        if form.is_bot:
            messages.success(request, _("已收到您的评分。"))
            return redirect(_back(target))
        try:
            rating = services.rating_submit(
                resident_key_hash=identity.key_hash,
                target=target,
                score=form.cleaned_data["score"],
                district=form.cleaned_data["district"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已收到您的评分：%(score)s 分。汇总结果稍后更新。") % {"score": rating.score},
            )
            return resident_cookie_set(redirect(_back(target)), identity)
    response = render(
        request,
        "feedback/form_error.html",
        {"form": form, "target": target, "kind": kind, "form_kind": "rating"},
        status=400,
    )
    return resident_cookie_set(response, identity)


@require_POST
@refuse_large_body
def comment(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    target = _target_or_404(kind, pk)
    identity = resident_identity(request, create=True)
    if submission_limited(request, kind="comment", resident_key_hash=identity.key_hash):
        return resident_cookie_set(_rate_limited_response(request, _back(target)), identity)
    form = CommentForm(request.POST, districts=list(selectors.district_list()))
    if form.is_valid():
        if form.is_bot:
            messages.success(request, _("留言已提交，审核通过后公开。"))
            return redirect(_back(target))
        try:
            created = services.comment_submit(
                resident_key_hash=identity.key_hash,
                target=target,
                body=form.cleaned_data["body"],
                nickname=form.cleaned_data["nickname"],
                district=form.cleaned_data["district"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if created.moderation_state == ModerationState.APPROVED:
                messages.success(request, _("留言已发布。"))
            else:
                messages.success(request, _("留言已提交，审核通过后公开。可在“我的数据”中查看审核状态。"))
            return resident_cookie_set(redirect(_back(target)), identity)
    response = render(
        request,
        "feedback/form_error.html",
        {"form": form, "target": target, "kind": kind, "form_kind": "comment"},
        status=400,
    )
    return resident_cookie_set(response, identity)


@require_http_methods(["GET", "HEAD", "POST"])
@refuse_large_body
def survey(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    current = selectors.survey_current() if pk is None else selectors.survey_public_get(pk=pk)
    if current is None:
        if pk is None:
            return render(request, "feedback/survey_none.html", {"nav": "survey"})
        raise Http404
    identity = resident_identity(request, create=request.method == "POST")
    response_row = (
        selectors.survey_response_for(key_hash=identity.key_hash, survey=current) if identity else None
    )
    is_open = services.survey_is_open(current)
    questions = selectors.survey_questions(current)
    districts = list(selectors.district_list())
    status = 200
    if request.method == "POST":
        if not is_open:
            messages.error(request, _("问卷已截止，答卷不能再修改。"))
            return redirect(request.path)
        if submission_limited(request, kind="survey", resident_key_hash=identity.key_hash):
            return resident_cookie_set(_rate_limited_response(request, request.path), identity)
        form = SurveyForm(request.POST, questions=questions, districts=districts)
        if form.is_valid():
            if form.is_bot:
                messages.success(request, _("感谢您参与满意度调查！"))
                return redirect(request.path)
            try:
                services.survey_response_submit(
                    resident_key_hash=identity.key_hash,
                    survey=current,
                    answers=form.answers(),
                    district=form.cleaned_data["district"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("感谢您参与满意度调查！截止前您可以随时回来修改答卷。")
                    if response_row is None
                    else _("答卷已更新。"),
                )
                return resident_cookie_set(redirect(request.path), identity)
        status = 400
    else:
        form = SurveyForm(
            questions=questions, districts=districts, response=response_row, disabled=not is_open
        )
    by_question = selectors.aggregates_by_object(
        scope=AggregateScope.QUESTION, object_ids=[q.pk for q in questions]
    )
    context = {
        "survey": current,
        "form": form,
        "is_open": is_open,
        "answered": response_row is not None,
        "results": [(q, by_question[q.pk]) for q in questions],
        "min_count": settings.AGGREGATE_MIN_COUNT,
        "nav": "survey",
    }
    return resident_cookie_set(render(request, "feedback/survey.html", context, status=status), identity)


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "feedback/privacy.html",
        {"min_count": settings.AGGREGATE_MIN_COUNT, "nav": "privacy"},
    )


@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    identity = resident_identity(request)
    data = selectors.resident_data(key_hash=identity.key_hash) if identity else None
    return render(
        request,
        "feedback/my_data.html",
        {"data": data, "delete_form": DeleteMyDataForm(), "nav": "my_data"},
    )


@require_POST
@refuse_large_body
def my_data_delete(request: HttpRequest) -> HttpResponse:
    identity = resident_identity(request)
    form = DeleteMyDataForm(request.POST)
    if not form.is_valid():
        data = selectors.resident_data(key_hash=identity.key_hash) if identity else None
        return render(
            request,
            "feedback/my_data.html",
            {"data": data, "delete_form": form, "nav": "my_data"},
            status=400,
        )
    deleted = identity is not None and services.resident_data_delete(resident_key_hash=identity.key_hash)
    if deleted:
        messages.success(request, _("已删除本浏览器提交的全部数据。统计结果稍后更新。"))
    else:
        messages.info(request, _("本浏览器没有提交过任何数据。"))
    return resident_cookie_delete(redirect(reverse("feedback:my_data")))
