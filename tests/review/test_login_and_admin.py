"""Signing in to the workspace, the brute-force lockout, and the admin that creates planners."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from review.models import PlannerProfile
from tests.review.helpers import PASSWORD, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


LOGIN = "/review/login/"


def _try(client, username, password, address="10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_planner_signs_in_and_lands_on_the_queue_then_signs_out(world):
    client = Client()
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert 'for="id_username"' in page.content.decode() and 'for="id_password"' in page.content.decode()
    response = _try(client, "planner_a", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("review:queue")
    assert client.get(reverse("review:queue")).status_code == 200
    assert client.post(reverse("review:logout")).status_code == 302
    assert client.get(reverse("review:queue")).status_code == 302


def test_login_follows_next_to_the_case(world):
    client = Client()
    target = reverse("review:case", args=[world.case_a.pk])
    redirect = client.get(target)
    assert redirect["Location"] == f"{LOGIN}?next={target}"
    response = client.post(
        redirect["Location"], {"username": "planner_a", "password": PASSWORD, "next": target}
    )
    assert response["Location"] == target


def test_wrong_password_re_shows_the_form_with_a_message(world):
    response = _try(Client(), "planner_a", "wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_lockout_after_five_failures(world):
    client = Client()
    for _ in range(4):
        assert _try(client, "planner_a", "wrong").status_code == 200
    locked = _try(client, "planner_a", "wrong")
    assert locked.status_code == 429
    assert "登录已暂时锁定" in locked.content.decode() and "30 分钟" in locked.content.decode()
    # Even the right password is refused from this address while locked.
    assert _try(client, "planner_a", PASSWORD).status_code == 429
    # Lockout is by username and address: the planner at another address still gets in.
    assert _try(Client(), "planner_a", PASSWORD, address="10.0.0.8").status_code == 302
    # axes keeps a keyed hash of the address, not the address (PIPL).
    stored = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert stored and "10.0.0.7" not in stored and all(":" in value for value in stored)


def test_a_planner_cannot_enter_the_admin(world):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "planner_a", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 200  # the admin's login form again, with its error
    assert "_auth_user_id" not in client.session
    assert login(Client(), world.planner_a).get("/admin/").status_code == 302


@pytest.fixture
def admin_client_(world):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    return login(Client(), admin)


def test_staff_create_a_planner_account_with_its_area_in_the_admin(world, admin_client_):
    response = admin_client_.post(
        "/admin/review/plannerprofile/add/",
        {
            "username": "new_planner",
            "first_name": "李规划",
            "email": "li@example.org",
            "password1": "a-Long-passphrase-2023",
            "password2": "a-Long-passphrase-2023",
            "title": "东城区东华门街道责任规划师",
            "districts": [world.district_a.pk],
            "streets": [world.street_a.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = get_user_model().objects.get(username="new_planner")
    assert not user.is_staff and not user.is_superuser
    profile = PlannerProfile.objects.get(user=user)
    assert list(profile.districts.all()) == [world.district_a]
    assert list(profile.streets.all()) == [world.street_a]
    client = Client()
    assert _try(client, "new_planner", "a-Long-passphrase-2023").status_code == 302
    assert "胡同里的共享单车" in client.get(reverse("review:queue")).content.decode()


def test_the_admin_refuses_a_staff_account_as_planner_and_a_planner_without_area(world, admin_client_):
    response = admin_client_.post(
        f"/admin/review/plannerprofile/{world.planner_a.planner_profile.pk}/change/",
        {"user": world.staff.pk, "title": "x", "districts": [world.district_a.pk]},
    )
    assert response.status_code == 200
    assert "规划师账号不能是工作人员账号" in response.content.decode()
    response = admin_client_.post(
        f"/admin/review/plannerprofile/{world.planner_a.planner_profile.pk}/change/",
        {"user": world.planner_a.pk, "title": "x"},
    )
    assert response.status_code == 200
    assert "请至少指定一个行政区或街道" in response.content.decode()


def test_admin_lists_planners_and_read_only_cases(world, admin_client_):
    page = admin_client_.get("/admin/review/plannerprofile/").content.decode()
    assert "东城区责任规划师" in page and "东城区" in page
    assert admin_client_.get("/admin/review/reviewcase/").status_code == 200
    assert admin_client_.get(f"/admin/review/reviewcase/{world.case_a.pk}/change/").status_code == 200
    assert admin_client_.get("/admin/review/reviewcase/add/").status_code == 403
