"""The permission matrix: every workspace URL and action against every role.

Roles: an anonymous visitor; a resident (a browser holding the public site's
signed resident cookie, whose comment is in the queue); a planner of area A
(东城, where the case lives); a planner of area B; staff; and, for
completeness, a signed-in account that is neither staff nor planner.
``EXPECTED`` below is the table; ``test_permission_matrix`` checks each cell.
"""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from review.models import CaseStatus
from tests.factories import StoryFactory, StreetFactory
from tests.review.helpers import login, make_planner, resident_client, submit_comment

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


ROLES = ["anonymous", "resident", "planner_a", "planner_b", "staff", "other_user"]


def _case_url(name):
    return lambda world: reverse(name, args=[world.case_a.pk])


# (label, method, url(world), data(world))
ENDPOINTS = [
    ("GET /review/ (queue)", "get", lambda w: reverse("review:queue"), None),
    ("GET /review/cases/<A>/", "get", _case_url("review:case"), None),
    (
        "POST …/<A>/transition/",
        "post",
        _case_url("review:case_transition"),
        lambda w: {"to_status": CaseStatus.IN_REVIEW},
    ),
    ("POST …/<A>/assign/", "post", _case_url("review:case_assign"), lambda w: {"assignee": w.colleague_a.pk}),
    ("POST …/<A>/note/", "post", _case_url("review:case_note"), lambda w: {"body": "内部备注"}),
    ("POST …/<A>/reply/", "post", _case_url("review:case_reply"), lambda w: {"body": "公开答复"}),
    (
        "POST …/<A>/moderate/",
        "post",
        _case_url("review:case_moderate"),
        lambda w: {"decision": "approve", "reason": ""},
    ),
    ("GET /review/dashboard/", "get", lambda w: reverse("review:dashboard"), None),
    ("GET /review/export.csv", "get", lambda w: reverse("review:export_csv"), None),
    ("GET /review/export.xlsx", "get", lambda w: reverse("review:export_xlsx"), None),
    ("GET /review/login/", "get", lambda w: reverse("review:login"), None),
    ("POST /review/logout/", "post", lambda w: reverse("review:logout"), lambda w: {}),
    ("GET /admin/", "get", lambda w: "/admin/", None),
]

_OUT = {"anonymous": 302, "resident": 302, "other_user": 404}
EXPECTED = {
    "GET /review/ (queue)": {**_OUT, "planner_a": 200, "planner_b": 200, "staff": 200},
    "GET /review/cases/<A>/": {**_OUT, "planner_a": 200, "planner_b": 404, "staff": 200},
    **{
        label: {**_OUT, "planner_a": 302, "planner_b": 404, "staff": 302}
        for label in [
            "POST …/<A>/transition/",
            "POST …/<A>/assign/",
            "POST …/<A>/note/",
            "POST …/<A>/reply/",
            "POST …/<A>/moderate/",
        ]
    },
    "GET /review/dashboard/": {**_OUT, "planner_a": 200, "planner_b": 200, "staff": 200},
    "GET /review/export.csv": {**_OUT, "planner_a": 200, "planner_b": 200, "staff": 200},
    "GET /review/export.xlsx": {**_OUT, "planner_a": 200, "planner_b": 200, "staff": 200},
    "GET /review/login/": {
        "anonymous": 200,
        "resident": 200,
        "other_user": 302,
        "planner_a": 302,
        "planner_b": 302,
        "staff": 302,
    },
    "POST /review/logout/": dict.fromkeys(ROLES, 302),
    "GET /admin/": {
        "anonymous": 302,
        "resident": 302,
        "other_user": 302,
        "planner_a": 302,
        "planner_b": 302,
        "staff": 200,
    },
}


def _client_for(role: str, world) -> Client:
    if role == "anonymous":
        return Client()
    if role == "resident":
        return resident_client()
    if role == "other_user":
        user = get_user_model().objects.create_user("someone", password="x-long-password-9")
        return login(Client(), user)
    return login(Client(), getattr(world, role))


def _request(role: str, endpoint, world):
    label, method, url, data = endpoint
    client = _client_for(role, world)
    target = url(world)
    if method == "get":
        return client.get(target)
    return client.post(target, data(world) if data else {})


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role, endpoint, world):
    label = endpoint[0]
    response = _request(role, endpoint, world)
    assert response.status_code == EXPECTED[label][role], (role, label)
    path = endpoint[2](world)
    redirected_to_login = response.status_code == 302 and role in ("anonymous", "resident")
    if redirected_to_login and path.startswith("/review/") and label != "POST /review/logout/":
        assert response["Location"].startswith(reverse("review:login") + "?next=")
    if role in ("planner_a", "planner_b") and label == "GET /admin/":
        assert response["Location"].startswith("/admin/login/")


def test_nothing_changes_when_planner_b_posts_to_area_a(world):
    for endpoint in ENDPOINTS:
        if endpoint[1] == "post" and "<A>" in endpoint[0]:
            assert _request("planner_b", endpoint, world).status_code == 404
    world.case_a.refresh_from_db()
    assert world.case_a.status == CaseStatus.NEW
    assert world.case_a.assignee is None
    assert world.case_a.events.count() == 1
    assert not hasattr(world.case_a.comment, "official_reply")


def test_planner_b_sees_none_of_area_a_in_queue_or_export(world):
    client = login(Client(), world.planner_b)
    for name in ("review:queue", "review:export_csv"):
        response = client.get(reverse(name))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8-sig")
        assert "口袋公园晚上没有照明" in text  # area B's own case
        assert "共享单车" not in text  # area A's case


def test_staff_see_every_area(world):
    client = login(Client(), world.staff)
    page = client.get(reverse("review:queue")).content.decode()
    assert "共享单车" in page and "口袋公园晚上没有照明" in page
    assert client.get(reverse("review:case", args=[world.case_b.pk])).status_code == 200


def test_a_street_planner_sees_only_cases_on_their_street(world):

    other_street = StreetFactory(district=world.district_a)
    _comment, elsewhere = submit_comment(StoryFactory(chapter=world.chapter, street=other_street))
    street_planner = make_planner("street_planner", streets=[world.street_a])
    client = login(Client(), street_planner)
    assert client.get(reverse("review:case", args=[world.case_a.pk])).status_code == 200
    assert client.get(reverse("review:case", args=[elsewhere.pk])).status_code == 404
    assert client.get(reverse("review:case", args=[world.case_b.pk])).status_code == 404
