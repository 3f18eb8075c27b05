"""The planners' workspace: thin views over ``review.selectors`` and ``review.services``.

Access rule, applied by ``reviewer_required`` on every view: an anonymous
visitor is sent to the login page; a signed-in user who is neither staff nor a
planner gets 404; a planner reaches only the cases of their area, because the
only way a view fetches a case is ``case_get_for_user`` (404 outside it).
"""

import csv
from collections.abc import Callable, Iterator
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from feedback.trust import ratings_hold_decide
from review import exports, services
from review.forms import (
    AssignForm,
    CloseForm,
    HoldDecisionForm,
    ModerateForm,
    NoteForm,
    PlannerLoginForm,
    ReplyForm,
    TemplatePickForm,
    TransitionForm,
)
from review.models import CaseStatus, ReviewCase
from review.selectors import (
    HELD_RATINGS_SHOWN,
    case_answer,
    case_due_counts,
    case_events,
    case_get_for_user,
    case_list_for_user,
    case_status_counts,
    dashboard_for_user,
    held_ratings_for_user,
    ratings_get_for_user,
    reply_templates_for_case,
    user_is_reviewer,
)

PAGE_SIZE = 25


def reviewer_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_is_reviewer(request.user):
            raise Http404("Not a workspace user.")
        return view(request, *args, **kwargs)

    return wrapped


class LoginView(auth_views.LoginView):
    template_name = "review/login.html"
    authentication_form = PlannerLoginForm
    redirect_authenticated_user = True
    next_page = reverse_lazy("review:queue")


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("review:login")


# --- Queue ---------------------------------------------------------------------


@require_GET
@reviewer_required
def queue(request: HttpRequest) -> HttpResponse:
    filterset = case_list_for_user(request.user, request.GET)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # Counts per status under every filter except the status itself.
    others = request.GET.copy()
    others.pop("status", None)
    others.pop("page", None)
    counts = case_status_counts(case_list_for_user(request.user, others).qs)
    query = request.GET.copy()
    query.pop("page", None)
    status_tabs = []
    for status in CaseStatus:
        params = others.copy()
        params["status"] = status.value
        status_tabs.append(
            {
                "value": status.value,
                "label": status.label,
                "count": counts.get(status.value, 0),
                "query": params.urlencode(),
                "active": request.GET.get("status") == status.value,
            }
        )
    return render(
        request,
        "review/queue.html",
        {
            "filter": filterset,
            "page": page,
            "status_tabs": status_tabs,
            "total": sum(counts.values()),
            "due": case_due_counts(case_list_for_user(request.user, others).qs),
            "all_query": others.urlencode(),
            "query": query.urlencode(),
            "review_nav": "queue",
        },
    )


# --- Case ------------------------------------------------------------------------


def _reply_initial(request: HttpRequest, templates, reply) -> tuple[TemplatePickForm, str]:
    """The template picker, and the reply text: a picked template's (``?template=``), else the reply's."""
    picker = TemplatePickForm(request.GET if "template" in request.GET else None, templates=templates)
    if picker.is_bound and picker.is_valid():
        return picker, picker.cleaned_data["template"].body
    return picker, reply.body if reply else ""


def _case_context(request: HttpRequest, case: ReviewCase, **forms) -> dict:
    reply = case_answer(case)
    templates = reply_templates_for_case(case)
    picker, body = _reply_initial(request, templates, reply)
    context = {
        "case": case,
        "reply": reply,
        "events": case_events(case),
        "transition_form": TransitionForm(),
        # Closing has its own form (a resolution, and a reason when unanswered).
        "allowed_transitions": [
            CaseStatus(s) for s in sorted(services.TRANSITIONS[case.status]) if s != CaseStatus.CLOSED
        ],
        "can_close": CaseStatus.CLOSED in services.TRANSITIONS[case.status],
        "can_reply": case.feedback is not None
        and not (case.comment_id and case.comment.moderation_state == "rejected"),
        "close_form": CloseForm(),
        "assign_form": AssignForm(case=case, initial={"assignee": case.assignee_id}),
        "note_form": NoteForm(),
        "template_form": picker,
        "reply_form": ReplyForm(initial={"body": body}),
        "moderate_form": ModerateForm(),
    }
    context.update(forms)
    return context


@require_GET
@reviewer_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_get_for_user(request.user, pk)
    return render(request, "review/case.html", _case_context(request, case))


def _action(form_class: type, form_name: str, perform: Callable[[HttpRequest, ReviewCase, dict], str]):
    """A POST action on a case: validate the form, call one service, report back."""

    @require_POST
    @reviewer_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        case = case_get_for_user(request.user, pk)
        kwargs = {"case": case} if form_class is AssignForm else {}
        form = form_class(request.POST, **kwargs)
        if form.is_valid():
            try:
                message = perform(request, case, form.cleaned_data)
            except ValidationError as error:
                for text in error.messages:
                    form.add_error(None, text)
            else:
                messages.success(request, message)
                return redirect(case)
        messages.error(request, _("操作未完成，请查看下方提示。"))
        case = case_get_for_user(request.user, pk)
        return render(
            request, "review/case.html", _case_context(request, case, **{form_name: form}), status=400
        )

    return view


def _transition(request: HttpRequest, case: ReviewCase, data: dict) -> str:
    case = services.case_transition(user=request.user, case=case, to_status=data["to_status"])
    return _("状态已改为“%(status)s”。") % {"status": case.get_status_display()}


def _assign(request: HttpRequest, case: ReviewCase, data: dict) -> str:
    case = services.case_assign(user=request.user, case=case, assignee=data["assignee"])
    return _("已指派给 %(name)s，并将发送邮件通知。") % {"name": case.assignee.get_username()}


def _note(request: HttpRequest, case: ReviewCase, data: dict) -> str:
    services.case_note_add(user=request.user, case=case, body=data["body"])
    return _("内部备注已保存。")


def _reply(request: HttpRequest, case: ReviewCase, data: dict) -> str:
    services.case_reply(user=request.user, case=case, body=data["body"])
    return _("公开答复已保存。")


def _close(request: HttpRequest, case: ReviewCase, data: dict) -> str:
    case = services.case_close(user=request.user, case=case, resolution=data["resolution"], note=data["note"])
    return _("已办结：%(resolution)s。") % {"resolution": case.get_resolution_display()}


def _moderate(request: HttpRequest, case: ReviewCase, data: dict) -> str:
    comment = services.comment_moderate(
        user=request.user, case=case, approve=data["decision"] == "approve", reason=data["reason"]
    )
    return _("留言已审核：%(state)s。") % {"state": comment.get_moderation_state_display()}


case_transition = _action(TransitionForm, "transition_form", _transition)
case_assign = _action(AssignForm, "assign_form", _assign)
case_note = _action(NoteForm, "note_form", _note)
case_reply = _action(ReplyForm, "reply_form", _reply)
case_moderate = _action(ModerateForm, "moderate_form", _moderate)
case_close = _action(CloseForm, "close_form", _close)


# --- Dashboard and export ----------------------------------------------------------


@require_GET
@reviewer_required
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = dashboard_for_user(request.user)

    def mean(value: float | None) -> float | None:
        return round(value, 2) if value is not None else None

    charts = {
        "chart-chapters": {
            "type": "bar",
            "label": _("平均满意度"),
            "labels": [row["label"] for row in figures["by_chapter"]],
            "values": [mean(row["mean"]) for row in figures["by_chapter"]],
        },
        "chart-lowest": {
            "type": "bar",
            "label": _("平均满意度"),
            "labels": [row["label"] for row in figures["lowest"]],
            "values": [mean(row["mean"]) for row in figures["lowest"]],
        },
        "chart-backlog": {
            "type": "bar",
            "label": _("反馈数"),
            "labels": [str(row["label"]) for row in figures["backlog"]],
            "values": [row["count"] for row in figures["backlog"]],
            "counts": True,
        },
        "chart-weekly": {
            "type": "line",
            "label": _("新反馈数"),
            "labels": [row["week"].isoformat() for row in figures["weekly"]],
            "values": [row["count"] for row in figures["weekly"]],
            "counts": True,
        },
    }
    context = {**figures, **_held_ratings_context(request.user), "charts": charts, "review_nav": "dashboard"}
    return render(request, "review/dashboard.html", context)


def _export_filename(extension: str) -> str:
    return f"review-cases-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@reviewer_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    queryset = case_list_for_user(request.user, request.GET).qs
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield "\ufeff"  # so that Excel opens the UTF-8 file with the right encoding
        yield writer.writerow(exports.header())
        for row in exports.rows(queryset):
            yield writer.writerow(row)

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_filename("csv")}"'
    return response


@require_GET
@reviewer_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    queryset = case_list_for_user(request.user, request.GET).qs
    response = HttpResponse(
        exports.xlsx_bytes(queryset),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_filename("xlsx")}"'
    return response


# --- Held ratings (a person decides) ----------------------------------------------------


def _held_ratings_context(user) -> dict:
    held = held_ratings_for_user(user)
    return {
        "held_ratings": held[:HELD_RATINGS_SHOWN],
        "held_total": held.count(),
        "held_form": HoldDecisionForm(),
    }


@require_POST
@reviewer_required
def held_ratings_decide(request: HttpRequest) -> HttpResponse:
    """Release or discard the chosen held ratings of the user's area (404 outside it)."""
    back = f"{reverse('review:dashboard')}#held-h"
    form = HoldDecisionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, text)
        return redirect(back)
    ratings = ratings_get_for_user(request.user, form.cleaned_data["ratings"])
    release = form.cleaned_data["decision"] == "release"
    try:
        decided = ratings_hold_decide(
            ratings=ratings, release=release, actor=request.user, note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        return redirect(back)
    if release:
        message = ngettext(
            "已释放 %(n)d 条评分，统计稍后更新。", "已释放 %(n)d 条评分，统计稍后更新。", decided
        )
    else:
        message = ngettext("已剔除 %(n)d 条评分。", "已剔除 %(n)d 条评分。", decided)
    messages.success(request, message % {"n": decided})
    return redirect(back)
