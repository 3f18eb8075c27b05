"""A person decides on held ratings: planners on their dashboard (their area only), staff in
the admin; release makes them count, discard keeps them stored and never counted, and
each decision is written in the rating's case history."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from feedback import submissions
from feedback.aggregates import aggregates_reconcile
from feedback.limits import HOLD_NEW_IDENTITIES, SubmissionSource
from feedback.models import Rating, TrustState
from feedback.trust import ratings_hold_decide
from review.models import CaseAction, CaseEvent
from tests.feedback.conftest import wait_until
from tests.feedback.helpers import aggregate_of
from tests.review.helpers import login, new_resident_key

pytestmark = pytest.mark.django_db

HELD_SOURCE = SubmissionSource(source_hash="f" * 32, hold_reason=HOLD_NEW_IDENTITIES)
DECIDE = reverse("review:held_ratings_decide")


def _held(target, score: int, *, district=None) -> Rating:
    return submissions.rating_submit(
        resident_key_hash=new_resident_key(),
        target=target,
        score=score,
        district=district,
        source=HELD_SOURCE,
    )


def _counted(target, score: int) -> Rating:
    return submissions.rating_submit(
        resident_key_hash=new_resident_key(), target=target, score=score, source=SubmissionSource("e" * 32)
    )


def _trust(rating: Rating) -> str:
    return Rating.objects.get(pk=rating.pk).trust


def _trust_events(rating: Rating) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case__rating=rating, action=CaseAction.TRUST))


@pytest.fixture
def held_a(world):
    """Two held low ratings on a story in district A, five counted ones beside them."""
    for score in (4, 4, 5, 4, 5):
        _counted(world.story_a, score)
    return [_held(world.story_a, 1), _held(world.story_a, 2)]


def test_the_dashboard_lists_the_held_ratings_of_the_planners_area_only(world, held_a):
    in_b = _held(world.story_b, 1)
    # A resident of district B rating a story of district A is B's, as their case is.
    rater_in_b = _held(world.story_a, 2, district=world.district_b)

    page_a = login(Client(), world.planner_a).get(reverse("review:dashboard"))
    page_b = login(Client(), world.planner_b).get(reverse("review:dashboard"))
    page_staff = login(Client(), world.staff).get(reverse("review:dashboard"))

    assert [r.pk for r in page_a.context["held_ratings"]] == [r.pk for r in held_a]
    assert {r.pk for r in page_b.context["held_ratings"]} == {in_b.pk, rater_in_b.pk}
    assert page_staff.context["held_total"] == 4
    html = page_a.content.decode()
    assert "待核实的评分" in html and "同一网络新身份过多" in html and "东城最美街巷" in html
    assert "西城口袋公园" not in html


def test_a_planner_releases_held_ratings_and_they_count_with_the_case_history(world, held_a):
    aggregates_reconcile()
    assert aggregate_of("story", world.story_a.pk).count == 5

    response = login(Client(), world.planner_a).post(
        DECIDE, {"ratings": [r.pk for r in held_a], "decision": "release", "note": "核实为同一小区居民"}
    )

    assert response.status_code == 302
    assert [_trust(r) for r in held_a] == [TrustState.COUNTED] * 2
    aggregates_reconcile()
    assert aggregate_of("story", world.story_a.pk).count == 7
    [event] = _trust_events(held_a[0])
    assert event.actor == world.planner_a
    assert event.before == "待核实：同一网络新身份过多"
    assert event.after == "计入统计：核实为同一小区居民"
    stored = Rating.objects.get(pk=held_a[0].pk)
    assert (stored.trust_decided_by, stored.trust_note) == (world.planner_a, "核实为同一小区居民")
    assert stored.trust_decided_at is not None


def test_a_discarded_rating_stays_stored_and_is_never_counted(world, held_a):
    client = login(Client(), world.planner_a)
    client.post(DECIDE, {"ratings": [held_a[0].pk], "decision": "discard", "note": "刷分"})

    assert _trust(held_a[0]) == TrustState.DISCARDED
    assert Rating.objects.filter(pk=held_a[0].pk).exists()
    aggregates_reconcile()
    assert aggregate_of("story", world.story_a.pk).count == 5
    assert _trust_events(held_a[0])[0].after == "已剔除：刷分"
    # Not held any more: a later release changes nothing.
    client.post(DECIDE, {"ratings": [held_a[0].pk], "decision": "release"})
    assert _trust(held_a[0]) == TrustState.DISCARDED


def test_discarding_needs_a_note(world, held_a):
    response = login(Client(), world.planner_a).post(
        DECIDE, {"ratings": [held_a[0].pk], "decision": "discard"}, follow=True
    )
    assert "剔除时必须填写说明" in response.content.decode()
    assert _trust(held_a[0]) == TrustState.HELD
    assert not _trust_events(held_a[0])


def test_a_planner_cannot_decide_on_another_areas_ratings(world, held_a):
    own = _held(world.story_b, 1)
    client = login(Client(), world.planner_b)

    assert client.post(DECIDE, {"ratings": [held_a[0].pk], "decision": "release"}).status_code == 404
    # Mixed with one of their own: refused as a whole.
    response = client.post(DECIDE, {"ratings": [own.pk, held_a[1].pk], "decision": "release"})
    assert response.status_code == 404
    assert [_trust(r) for r in (*held_a, own)] == [TrustState.HELD] * 3
    assert not CaseEvent.objects.filter(action=CaseAction.TRUST).exists()


def test_residents_and_strangers_cannot_decide(world, held_a):
    anonymous = Client().post(DECIDE, {"ratings": [held_a[0].pk], "decision": "release"})
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    stranger = get_user_model().objects.create_user("stranger", password="pw-long-enough-1")
    assert (
        login(Client(), stranger).post(DECIDE, {"ratings": [held_a[0].pk], "decision": "release"}).status_code
        == 404
    )
    assert _trust(held_a[0]) == TrustState.HELD


def test_the_service_decides_only_held_ratings_once(world, held_a):
    counted = Rating.objects.filter(trust=TrustState.COUNTED).first()
    everything = Rating.objects.filter(story=world.story_a)

    assert ratings_hold_decide(ratings=everything, release=True, actor=world.staff) == 2
    assert ratings_hold_decide(ratings=everything, release=True, actor=world.staff) == 0
    assert Rating.objects.get(pk=counted.pk).trust_decided_at is None
    assert len(_trust_events(held_a[0])) == 1
    with pytest.raises(ValidationError):
        ratings_hold_decide(ratings=everything, release=True, actor=world.staff, note="长" * 301)


@pytest.mark.django_db(transaction=True)
def test_a_release_is_counted_by_the_worker_refresh(world, held_a, celery_worker):
    wait_until(lambda: (a := aggregate_of("story", world.story_a.pk)) and a.count == 5, 30, "first figures")

    ratings_hold_decide(
        ratings=Rating.objects.filter(pk__in=[r.pk for r in held_a]), release=True, actor=world.staff
    )

    wait_until(
        lambda: aggregate_of("story", world.story_a.pk).count == 7, 30, "the released ratings to count"
    )


# --- The admin --------------------------------------------------------------------------


@pytest.fixture
def admin_client(world):
    boss = get_user_model().objects.create_superuser("boss", "b@example.com", "pw-long-enough-1")
    return login(Client(), boss), boss


def test_the_admin_filters_held_ratings_by_state_and_reason(admin_client, held_a):
    client, _boss = admin_client
    listing = client.get("/admin/feedback/rating/", {"trust__exact": "held"})
    assert listing.status_code == 200
    assert len(listing.context["cl"].result_list) == 2
    by_reason = client.get("/admin/feedback/rating/", {"hold_reason": HOLD_NEW_IDENTITIES})
    assert len(by_reason.context["cl"].result_list) == 2
    assert "同一网络新身份过多" in by_reason.content.decode()


def test_the_admin_releases_through_the_service_after_asking_for_a_note(admin_client, world, held_a):
    client, boss = admin_client
    selection = {"action": "release", "_selected_action": [r.pk for r in held_a]}

    confirm = client.post("/admin/feedback/rating/", selection)
    assert confirm.status_code == 200
    assert "说明" in confirm.content.decode()
    assert _trust(held_a[0]) == TrustState.HELD

    done = client.post(
        "/admin/feedback/rating/", {**selection, "confirm": "1", "note": "已核实"}, follow=True
    )
    assert "已处理 2 条待核实评分" in done.content.decode()
    assert [_trust(r) for r in held_a] == [TrustState.COUNTED] * 2
    [event] = _trust_events(held_a[1])
    assert (event.actor, event.after) == (boss, "计入统计：已核实")


def test_the_admin_discard_asks_again_without_a_note(admin_client, held_a):
    client, _boss = admin_client
    selection = {"action": "discard", "_selected_action": [held_a[0].pk], "confirm": "1"}
    again = client.post("/admin/feedback/rating/", selection)
    assert again.status_code == 200
    assert "剔除时必须填写说明" in again.content.decode()
    assert _trust(held_a[0]) == TrustState.HELD
    client.post("/admin/feedback/rating/", {**selection, "note": "机器刷分"})
    assert _trust(held_a[0]) == TrustState.DISCARDED
