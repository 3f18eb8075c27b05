"""Anomaly rules under a long storm (issue 9, point 4): screened as the worker screens it,
a little at a time, the storm is held exactly as one screen of all of it would hold it.

(What a screen costs as the storm grows is bench/anomaly's to measure: on tables of a
test's size PostgreSQL reads a table whole rather than use the indexes a screen relies on
at scale, so rows read here would say nothing about a storm.)
"""

from datetime import timedelta

import pytest

from feedback import anomaly
from feedback.models import Rating, TrustState
from feedback.residents import resident_key_hash
from tests.factories import IndicatorFactory
from tests.feedback.test_anomaly import _day, _source, _store_in_bulk

END = _day(15)  # the storm ends at 15:00 yesterday; the window is the hour before


def _storm(item, address: str, n: int, *, tag: str) -> list[tuple]:
    """``n`` ratings of ``item`` from ``address``, each by a new resident (created when it
    rates, as a POST without a cookie creates one), all
    scoring 4 as bench/http's storm does, evenly over the window's last 50 minutes; and every
    30th moment an honest rating from a
    resident of long standing, at its own address, with its own score."""
    rows = []
    for i in range(n):
        at = END - timedelta(seconds=3000 * (n - i) / n)
        rows.append((at, resident_key_hash(f"{tag}-storm-{i}"), address, item, 4))
        if i % 30 == 15:
            rows.append((at, resident_key_hash(f"{tag}-honest-{i}"), _source(5000 + i), item, 1 + i % 5))
    return rows


def _first_seen(rows: list[tuple], *, storm_fresh: bool = True) -> dict[str, object]:
    """When each rating's resident was created: the storm's when it rated (or three days
    before, ``storm_fresh`` false), the honest ones three days before."""
    return {
        key: (at if storm_fresh and "storm" in key else at - timedelta(days=3))
        for at, key, _address, _item, _score in rows
    }


def _outcome(item) -> list[tuple[str, str]]:
    """Each rating's state and reason, in the order the ratings came."""
    ratings = Rating.objects.filter(indicator=item).order_by("updated_at", "id")
    return list(ratings.values_list("trust", "hold_reason"))


@pytest.mark.django_db
def test_a_long_storm_screened_as_it_arrives_is_held_as_one_screen_of_it_all():
    in_rounds, at_once = IndicatorFactory(), IndicatorFactory()
    rows = _storm(in_rounds, _source(1), 300, tag="rounds")
    first_seen = _first_seen(rows)
    # As the worker does: a screen of the item after each 50 arrivals, at the last one's time
    # (fewer than ANOMALY_FEW_SOURCES_MIN_RATINGS at first would hold the run as rule c's).
    for start in range(0, len(rows), 50):
        arrived = rows[start : start + 50]
        _store_in_bulk(arrived, {key: first_seen[key] for _at, key, *_rest in arrived})
        anomaly.ratings_screen(keys=[f"indicator:{in_rounds.pk}"], now=arrived[-1][0])
    whole = _storm(at_once, _source(2), 300, tag="once")
    _store_in_bulk(whole, _first_seen(whole))
    anomaly.ratings_screen(keys=[f"indicator:{at_once.pk}"], now=END)

    assert _outcome(in_rounds) == _outcome(at_once)
    # The address's first rating counts, its next 19 are held as a few addresses' and the
    # rest as one address's burst; the honest ratings count.
    storm = Rating.objects.filter(indicator=in_rounds, source_hash=_source(1)).order_by("updated_at", "id")
    states = list(storm.values_list("trust", "hold_reason"))
    assert states == (
        [(TrustState.COUNTED, "")]
        + [(TrustState.HELD, anomaly.REASON_FEW_SOURCES)] * 19
        + [(TrustState.HELD, anomaly.REASON_SOURCE_BURST)] * 280
    )
    honest = Rating.objects.filter(indicator=in_rounds).exclude(source_hash=_source(1))
    assert honest.count() == 10
    assert set(honest.values_list("trust", flat=True)) == {TrustState.COUNTED}
