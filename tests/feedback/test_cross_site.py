"""A page on another site cannot act for a resident, whatever it posts.

Each attack is made as a browser would make it for a third-party page: the
resident's cookie goes along (as if SameSite were not there), the Origin is
the attacker's, and there is no CSRF token. Every one is refused with 403 and
a message, and nothing stored changes. Requests from the site itself (same
Origin, no token needed), non-browser clients with the token, and new
residents without a cookie keep working.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import Comment, Rating, Resident
from tests.feedback.helpers import API_COMMENTS, API_ME, API_RATINGS, kind_of

pytestmark = pytest.mark.django_db

EVIL = {"HTTP_ORIGIN": "https://evil.example"}
OWN = {"HTTP_ORIGIN": "http://testserver"}


@pytest.fixture
def resident(indicator) -> Client:
    """A resident who rated the indicator 5 (so there is something to change or erase).

    The client enforces CSRF checks as a real server does (Django's test client skips them by default).
    """
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.9.9.9")
    assert api_rate(browser, indicator, 5).status_code == 201
    return browser


def api_rate(client: Client, target, score: int, **headers):
    body = {"target_type": kind_of(target), "target_id": target.pk, "score": score}
    return client.post(API_RATINGS, json.dumps(body), "application/json", **headers)


def rate(client: Client, target, score: int, **headers):
    return client.post(
        reverse("feedback:rate", args=[kind_of(target), target.pk]), {"score": score}, **headers
    )


def comment(client: Client, target, body: str, **headers):
    return client.post(
        reverse("feedback:comment", args=[kind_of(target), target.pk]), {"body": body}, **headers
    )


def _rating_body(indicator, score: int) -> dict:
    return {"target_type": kind_of(indicator), "target_id": indicator.pk, "score": score}


def _stored_scores() -> list[int]:
    return list(Rating.objects.values_list("score", flat=True))


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_cross_site_rating_with_the_cookie_is_refused(resident, indicator, encoding):
    body = _rating_body(indicator, 1)
    if encoding == "json":
        response = resident.post(API_RATINGS, json.dumps(body), "application/json", **EVIL)
    else:
        response = resident.post(API_RATINGS, body, **EVIL)
    assert response.status_code == 403
    assert "跨站请求被拒绝" in response.json()["detail"]
    assert _stored_scores() == [5]


def test_a_cross_site_comment_with_the_cookie_is_refused(resident, indicator):
    body = {"target_type": "indicator", "target_id": indicator.pk, "body": "替你说的话"}
    response = resident.post(API_COMMENTS, json.dumps(body), "application/json", **EVIL)
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_a_cross_site_erasure_of_my_data_is_refused(resident):
    response = resident.delete(API_ME, **EVIL)
    assert response.status_code == 403
    assert Resident.objects.count() == 1 and _stored_scores() == [5]


def test_the_html_forms_refuse_a_cross_site_post_too(resident, indicator):
    assert rate(resident, indicator, 1, **EVIL).status_code == 403
    assert comment(resident, indicator, "替你说的话", **EVIL).status_code == 403
    assert resident.post("/my-data/delete/", {"confirm": "on"}, **EVIL).status_code == 403
    assert _stored_scores() == [5] and not Comment.objects.exists()


def test_a_cross_site_referer_without_origin_is_refused(resident, indicator):
    response = api_rate(resident, indicator, 1, HTTP_REFERER="https://evil.example/page")
    assert response.status_code == 403
    assert _stored_scores() == [5]


def test_origin_null_is_refused(resident, indicator):
    assert api_rate(resident, indicator, 1, HTTP_ORIGIN="null").status_code == 403
    assert _stored_scores() == [5]


def test_without_origin_a_client_must_echo_the_csrf_token(resident, indicator):
    """Outside a browser nothing says where a request comes from: the token does."""
    assert api_rate(resident, indicator, 1).status_code == 403
    resident.get("/my-data/")  # a private page with a form sets the csrftoken cookie (public pages do not)
    token = resident.cookies["csrftoken"].value
    assert api_rate(resident, indicator, 2, HTTP_X_CSRFTOKEN=token).status_code == 201
    assert _stored_scores() == [2]


def test_the_sites_own_pages_need_no_token(resident, indicator):
    assert api_rate(resident, indicator, 3, **OWN).status_code == 201
    assert rate(resident, indicator, 4, **OWN).status_code == 302
    assert _stored_scores() == [4]


def test_a_new_resident_without_cookie_is_not_a_cross_site_risk(indicator):
    """An integrator's first submission (no cookie, any Origin) is accepted and gets its cookie."""
    integrator = Client(enforce_csrf_checks=True)
    response = api_rate(integrator, indicator, 4, **EVIL)
    assert response.status_code == 201
    assert "resident" in response.cookies
