"""HTML views of the participation app: thin, plain form POSTs (PRG).

A successful rating or comment redirects back to the item with a message; bad
input re-shows the form with field messages (status 400); too many
submissions get a 429 page; a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback import selectors
from feedback.forms import CommentForm, DeleteMyDataForm, RatingForm, SurveyForm, apply_service_errors
from feedback.models import ModerationState
from feedback.my_data import resident_data_delete
from feedback.pipeline import submission, submission_source_get
from feedback.residents import resident_cookie_delete, resident_identity
from feedback.submissions import comment_submit, rating_submit, survey_is_open, survey_response_submit


def _target_or_404(kind: str, pk: int):
    target = selectors.target_public_get(kind=kind, pk=pk)
    if target is None:
        raise Http404
    return target


def _back(target) -> str:
    return f"{target.get_absolute_url()}#participation"


def _back_to_target(request: HttpRequest, kind: str, pk: int) -> str:
    return _back(_target_or_404(kind, pk))


def _form_error(request: HttpRequest, form, target, kind: str, form_kind: str) -> HttpResponse:
    context = {"form": form, "target": target, "kind": kind, "form_kind": form_kind}
    return render(request, "feedback/form_error.html", context, status=400)


@require_POST
@submission("rating", back=_back_to_target)
def rate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    target = _target_or_404(kind, pk)
    form = RatingForm(request.POST, districts=list(selectors.district_list()))
    if form.is_valid():
        if form.is_bot:
            messages.success(request, _("已收到您的评分。"))
            return redirect(_back(target))
        try:
            rating = rating_submit(
                resident_key_hash=resident_identity(request).key_hash,
                target=target,
                score=form.cleaned_data["score"],
                district=form.cleaned_data["district"],
                source=submission_source_get(request),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已收到您的评分：%(score)s 分。汇总结果稍后更新。") % {"score": rating.score},
            )
            return redirect(_back(target))
    return _form_error(request, form, target, kind, "rating")


@require_POST
@submission("comment", back=_back_to_target)
def comment(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    target = _target_or_404(kind, pk)
    form = CommentForm(request.POST, districts=list(selectors.district_list()))
    if form.is_valid():
        if form.is_bot:
            messages.success(request, _("留言已提交，审核通过后公开。"))
            return redirect(_back(target))
        try:
            created = comment_submit(
                resident_key_hash=resident_identity(request).key_hash,
                target=target,
                body=form.cleaned_data["body"],
                nickname=form.cleaned_data["nickname"],
                district=form.cleaned_data["district"],
                source=submission_source_get(request),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if created.moderation_state == ModerationState.APPROVED:
                messages.success(request, _("留言已发布。"))
            else:
                messages.success(request, _("留言已提交，审核通过后公开。可在“我的数据”中查看审核状态。"))
            return redirect(_back(target))
    return _form_error(request, form, target, kind, "comment")


def _survey_or_404(pk: int | None):
    return selectors.survey_current() if pk is None else selectors.survey_public_get(pk=pk)


def _survey_post(request: HttpRequest, current, form: SurveyForm, answered: bool) -> HttpResponse | None:
    """Store a valid response and redirect; ``None`` re-shows the form with its errors."""
    if not form.is_valid():
        return None
    if form.is_bot:
        messages.success(request, _("感谢您参与满意度调查！"))
        return redirect(request.path)
    try:
        survey_response_submit(
            resident_key_hash=resident_identity(request).key_hash,
            survey=current,
            answers=form.answers(),
            district=form.cleaned_data["district"],
            source=submission_source_get(request),
        )
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    messages.success(
        request,
        _("答卷已更新。") if answered else _("感谢您参与满意度调查！截止前您可以随时回来修改答卷。"),
    )
    return redirect(request.path)


@require_http_methods(["GET", "HEAD", "POST"])
@submission("survey")
def survey(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    current = _survey_or_404(pk)
    if current is None:
        if pk is None:
            return render(request, "feedback/survey_none.html", {"nav": "survey"})
        raise Http404
    identity = resident_identity(request)
    response_row = (
        selectors.survey_response_for(key_hash=identity.key_hash, survey=current) if identity else None
    )
    is_open = survey_is_open(current)
    questions = selectors.survey_questions(current)
    districts = list(selectors.district_list())
    status = 200
    if request.method == "POST":
        if not is_open:
            messages.error(request, _("问卷已截止，答卷不能再修改。"))
            return redirect(request.path)
        form = SurveyForm(request.POST, questions=questions, districts=districts)
        done = _survey_post(request, current, form, answered=response_row is not None)
        if done is not None:
            return done
        status = 400
    else:
        form = SurveyForm(
            questions=questions, districts=districts, response=response_row, disabled=not is_open
        )
    context = {
        "survey": current,
        "form": form,
        "is_open": is_open,
        "answered": response_row is not None,
        "results": selectors.survey_results(questions),
        "min_count": settings.AGGREGATE_MIN_COUNT,
        "nav": "survey",
    }
    return render(request, "feedback/survey.html", context, status=status)


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
@submission(None)
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
    deleted = identity is not None and resident_data_delete(resident_key_hash=identity.key_hash)
    if deleted:
        messages.success(request, _("已删除本浏览器提交的全部数据。统计结果稍后更新。"))
    else:
        messages.info(request, _("本浏览器没有提交过任何数据。"))
    return resident_cookie_delete(redirect(reverse("feedback:my_data")))
