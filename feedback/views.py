"""HTML views of the participation app: thin, plain form POSTs (PRG).

A successful rating or comment redirects back to the item with a message; bad
input re-shows the form with field messages (status 400); too many
submissions get a 429 page; a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413.

The survey page and the privacy notice are the same for every visitor and come
from the page cache (``indicators.cache``); what is a visitor's own on a shared
page (their score of an item, their survey answers, the new-reply badge) comes
from ``me_fragment``, which ``feedback/me.js`` fetches. Without JavaScript the
pages work the same, that visitor's own data aside ("我的数据" shows it).
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from feedback import selectors
from feedback.caching import SURVEY_SCHEDULE
from feedback.forms import (
    CommentForm,
    DeleteMyDataForm,
    PhoneForm,
    RatingForm,
    SurveyForm,
    VerificationCodeForm,
    apply_service_errors,
)
from feedback.models import AggregateScope, ModerationState
from feedback.my_data import resident_data_delete
from feedback.pipeline import SubmissionRefused, submission, submission_source_get
from feedback.replies import replies_seen_mark, resident_notify_email_set
from feedback.replies import reply_rate as reply_rate_service
from feedback.reply_forms import NotifyEmailForm, ReplyRatingForm
from feedback.residents import client_address_hash, resident_cookie_delete, resident_identity
from feedback.sms import mask_phone
from feedback.submissions import comment_submit, rating_submit, survey_is_open, survey_response_submit
from feedback.verification import (
    code_ttl_minutes,
    phone_normalise,
    verification_confirm,
    verification_revoke,
    verification_start,
)
from indicators.cache import REPORT, REPORT_SCHEDULE, SURVEYS, aggregate_tag, cached_page


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
@cached_page(
    tags=(REPORT, SURVEYS, aggregate_tag(AggregateScope.QUESTION)),
    schedules=(REPORT_SCHEDULE, SURVEY_SCHEDULE),
)
@submission("survey")
def survey(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The survey and its results; a GET shows the blank form to everyone (see the module docstring)."""
    current = _survey_or_404(pk)
    if current is None:
        if pk is None:
            return render(request, "feedback/survey_none.html", {"nav": "survey"})
        raise Http404
    is_open = survey_is_open(current)
    questions = selectors.survey_questions(current)
    districts = list(selectors.district_list())
    status = 200
    answered = False
    if request.method == "POST":
        if not is_open:
            messages.error(request, _("问卷已截止，答卷不能再修改。"))
            return redirect(request.path)
        identity = resident_identity(request)
        answered = (
            bool(identity)
            and selectors.survey_response_for(key_hash=identity.key_hash, survey=current) is not None
        )
        form = SurveyForm(request.POST, questions=questions, districts=districts)
        done = _survey_post(request, current, form, answered=answered)
        if done is not None:
            return done
        status = 400
    else:
        form = SurveyForm(questions=questions, districts=districts, disabled=not is_open)
    context = {
        "survey": current,
        "form": form,
        "is_open": is_open,
        "answered": answered,
        "results": selectors.survey_results(questions),
        "min_count": settings.AGGREGATE_MIN_COUNT,
        "nav": "survey",
    }
    return render(request, "feedback/survey.html", context, status=status)


@require_GET
@cached_page(schedules=())
def privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "feedback/privacy.html",
        {"min_count": settings.AGGREGATE_MIN_COUNT, "nav": "privacy"},
    )


# --- What is the visitor's own on a shared page ------------------------------------------------


def _id_param(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def _mine(request: HttpRequest, key_hash: str) -> dict:
    mine: dict = {}
    replies = selectors.new_reply_count(key_hash=key_hash)
    if replies:
        mine["badge"] = render_to_string("feedback/_me_badge.html", {"count": replies}, request=request)
    kind, _colon, raw_pk = request.GET.get("item", "").partition(":")
    pk = _id_param(raw_pk)
    target = selectors.target_public_get(kind=kind, pk=pk) if pk is not None else None
    rating = selectors.resident_rating_for_target(key_hash=key_hash, target=target) if target else None
    if rating is not None:
        text = _("您的评分：%(score)s 分。可以重新评分，以最后一次为准。") % {"score": rating.score}
        mine["rating"] = {"score": rating.score, "text": text}
    survey_pk = _id_param(request.GET.get("survey", ""))
    current = selectors.survey_public_get(pk=survey_pk) if survey_pk is not None else None
    row = selectors.survey_response_for(key_hash=key_hash, survey=current) if current else None
    if row is not None:
        mine["survey"] = {
            "notice": _("您已提交过答卷。截止前可以修改，重新提交后以最新答卷为准。")
            if survey_is_open(current)
            else _("问卷已截止，以下是您的答卷（只读）。"),
            "button": _("更新答卷"),
            # Their answers by form field, as the form would show them.
            "fields": SurveyForm(questions=[], districts=[], response=row).initial,
        }
    return mine


@require_GET
def me_fragment(request: HttpRequest) -> JsonResponse:
    """This visitor's own bits of a shared page, as JSON; private, never stored anywhere.

    ``feedback/me.js`` asks for it on every page: ``badge``, the new-reply
    badge (HTML); with ``?item=indicator:17``, ``rating``, their score of that
    item and the sentence saying so; with ``?survey=3``, ``survey``, the notice and
    button label of a survey they answered and their answers by form field.
    A visitor without a resident cookie gets ``{}`` without a query.
    """
    identity = resident_identity(request)
    mine = _mine(request, identity.key_hash) if identity is not None and not identity.is_new else {}
    response = JsonResponse(mine)
    response["Cache-Control"] = "private, no-store"
    return response


def _my_data_page(request: HttpRequest, *, status: int = 200, **forms) -> HttpResponse:
    """ "My data"; opening it marks the answers seen (the badge clears), after noting which were new."""
    identity = resident_identity(request)
    data = selectors.resident_data(key_hash=identity.key_hash) if identity else None
    seen_before = data.resident.replies_seen_at if data and data.resident else None
    if data and data.resident and data.replies:
        replies_seen_mark(resident_key_hash=identity.key_hash)
    context = {
        "data": data,
        "seen_before": seen_before,
        "delete_form": DeleteMyDataForm(),
        "notify_form": NotifyEmailForm(
            initial={"email": data.resident.notify_email if data and data.resident else ""}
        ),
        "rating_form": ReplyRatingForm(),
        "nav": "my_data",
        **forms,
    }
    return render(request, "feedback/my_data.html", context, status=status)


@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    return _my_data_page(request)


@require_POST
@submission(None, back=lambda request, *args, **kwargs: reverse("feedback:my_data"))
def reply_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """The author rates the answer to their feedback (only them: anyone else gets 404)."""
    identity = resident_identity(request)
    form = ReplyRatingForm(request.POST)
    if form.is_valid():
        if identity is None:
            raise Http404
        try:
            reply_rate_service(
                resident_key_hash=identity.key_hash,
                reply_id=pk,
                verdict=form.cleaned_data["verdict"],
                solved=form.cleaned_data["solved"],
            )
        except ObjectDoesNotExist:
            raise Http404 from None
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("感谢您对答复的评价。"))
            return redirect(f"{reverse('feedback:my_data')}#reply-{pk}")
    return _my_data_page(request, status=400, rating_form=form, rating_form_reply=pk)


@require_POST
@submission(None, back=lambda request, *args, **kwargs: reverse("feedback:my_data"))
def my_data_notify(request: HttpRequest) -> HttpResponse:
    """Keep or forget the optional address for reply notices."""
    identity = resident_identity(request)
    form = NotifyEmailForm(request.POST)
    if form.is_valid():
        try:
            if identity is None:
                raise ValidationError({"email": _("本浏览器还没有提交过反馈，无需通知。")})
            resident = resident_notify_email_set(
                resident_key_hash=identity.key_hash, email=form.cleaned_data["email"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if resident.notify_email:
                messages.success(request, _("已保存。您的反馈收到答复时，我们会发邮件通知您。"))
            else:
                messages.success(request, _("已删除通知邮箱。"))
            return redirect(f"{reverse('feedback:my_data')}#notify-title")
    return _my_data_page(request, status=400, notify_form=form)


@require_POST
@submission(None)
def my_data_delete(request: HttpRequest) -> HttpResponse:
    identity = resident_identity(request)
    form = DeleteMyDataForm(request.POST)
    if not form.is_valid():
        return _my_data_page(request, status=400, delete_form=form)
    deleted = identity is not None and resident_data_delete(resident_key_hash=identity.key_hash)
    if deleted:
        messages.success(request, _("已删除本浏览器提交的全部数据。统计结果稍后更新。"))
    else:
        messages.info(request, _("本浏览器没有提交过任何数据。"))
    return resident_cookie_delete(redirect(reverse("feedback:my_data")))


# --- Phone verification (后台实名, optional) --------------------------------------------------


def _verify_url(request: HttpRequest, *args, **kwargs) -> str:
    return reverse("feedback:verify")


def _masked(phone: str) -> str:
    try:
        return mask_phone(phone_normalise(phone))
    except ValidationError:
        return ""


def _verify_page(
    request: HttpRequest,
    *,
    phone_form: PhoneForm | None = None,
    code_form: VerificationCodeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The verification page: the status, step 1 (number) or step 2 (code)."""
    identity = resident_identity(request)
    context = {
        "resident": selectors.resident_get(key_hash=identity.key_hash) if identity else None,
        "phone_form": phone_form or PhoneForm(),
        "code_form": code_form,
        "masked_phone": _masked(code_form["phone"].value() or "") if code_form else "",
        "code_minutes": code_ttl_minutes(),
        "lighter_moderation": (
            settings.COMMENT_MODERATION_VERIFIED == "post" and settings.COMMENT_MODERATION != "post"
        ),
        "nav": "my_data",
    }
    return render(request, "feedback/verify.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@submission("verification", back=_verify_url)
def verify(request: HttpRequest) -> HttpResponse:
    """Step 1: send a code. Step 2 is rendered at once (the number rides in a hidden field,
    so it is never stored in clear nor put in a URL); a reload only asks for another code."""
    if request.method != "POST":
        return _verify_page(request)
    form = PhoneForm(request.POST)
    status = 400
    if form.is_valid():
        if form.is_bot:
            return redirect(_verify_url(request))
        try:
            verification_start(
                resident_key_hash=resident_identity(request).key_hash,
                phone=form.cleaned_data["phone"],
                source_hash=client_address_hash(request),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except SubmissionRefused as refusal:
            # Too many codes (429) or the SMS not sent (503): said on the form.
            form.add_error(None, str(refusal.detail))
            status = refusal.status_code
        else:
            code_form = VerificationCodeForm(initial={"phone": phone_normalise(form.cleaned_data["phone"])})
            return _verify_page(request, code_form=code_form)
    if request.POST.get("resend") and form.data.get("phone"):
        # "Send again" from step 2 failed: stay on step 2, the code already sent may still do.
        code_form = VerificationCodeForm(initial={"phone": form.data["phone"]})
        return _verify_page(request, phone_form=form, code_form=code_form, status=status)
    return _verify_page(request, phone_form=form, status=status)


@require_POST
@submission("verification", back=_verify_url)
def verify_confirm(request: HttpRequest) -> HttpResponse:
    form = VerificationCodeForm(request.POST)
    if form.is_valid():
        try:
            verification_confirm(
                resident_key_hash=resident_identity(request).key_hash,
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("手机号验证成功。我们只保存了号码的加密摘要。"))
            return redirect(_verify_url(request))
    return _verify_page(request, code_form=form, status=400)


@require_POST
@submission(None, back=_verify_url)
def verify_revoke(request: HttpRequest) -> HttpResponse:
    identity = resident_identity(request)
    if identity is not None and verification_revoke(resident_key_hash=identity.key_hash):
        messages.success(request, _("已取消手机号验证，号码摘要已删除。"))
    else:
        messages.info(request, _("本浏览器没有验证过手机号。"))
    return redirect(_verify_url(request))
