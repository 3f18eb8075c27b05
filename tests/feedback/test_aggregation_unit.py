"""The arithmetic of score aggregates, without a database.

``statistics`` turns a 1–5 distribution (index 0 = score 1) into count, total,
mean and a 95 % interval ``mean ± 1.96 · s / √n`` (``s`` with ``n − 1``),
clipped to 1–5 and rounded half up to thousandths; ``tallies`` folds the
grouped ``(object, district, score, n)`` rows into one tally per object.
Every expected figure below is worked out by hand in the comment beside it;
the end-to-end tests (test_ratings.py, test_nothing_lost.py) check the same
code against real rows.
"""

from decimal import Decimal

from feedback.aggregation import Tally, statistics, tallies, tally_to_aggregate


def test_no_scores_give_no_mean_and_no_interval():
    empty = {"count": 0, "total": 0, "mean": None, "ci_low": None, "ci_high": None}
    assert statistics([0, 0, 0, 0, 0]) == empty


def test_one_score_gives_its_mean_but_no_interval():
    # One 5: s needs n − 1 ≥ 1, so there is no interval.
    assert statistics([0, 0, 0, 0, 1]) == {
        "count": 1,
        "total": 5,
        "mean": Decimal("5.000"),
        "ci_low": None,
        "ci_high": None,
    }


def test_one_of_each_score():
    # Scores 1..5: total 15, mean 3; squares 55, so s² = (55 − 15²/5) / 4 = 2.5.
    # half = 1.96 · √(2.5 / 5) = 1.96 · 0.7071068 = 1.3859293
    # → 3 − 1.3859293 = 1.6140707 and 3 + 1.3859293 = 4.3859293.
    assert statistics([1, 1, 1, 1, 1]) == {
        "count": 5,
        "total": 15,
        "mean": Decimal("3.000"),
        "ci_low": Decimal("1.614"),
        "ci_high": Decimal("4.386"),
    }


def test_a_spread_distribution():
    # Scores 1, 1, 3, 5, 5: total 15, mean 3; squares 1+1+9+25+25 = 61,
    # s² = (61 − 45) / 4 = 4, s = 2; half = 1.96 · 2 / √5 = 1.7530774
    # → 1.2469226 and 4.7530774.
    stats = statistics([2, 0, 1, 0, 2])
    assert (stats["count"], stats["total"], stats["mean"]) == (5, 15, Decimal("3.000"))
    assert (stats["ci_low"], stats["ci_high"]) == (Decimal("1.247"), Decimal("4.753"))


def test_equal_scores_give_an_interval_of_width_zero():
    # Four 3s: s² = (36 − 12²/4) / 3 = 0.
    stats = statistics([0, 0, 4, 0, 0])
    assert (stats["mean"], stats["ci_low"], stats["ci_high"]) == (Decimal("3.000"),) * 3


def test_the_interval_is_clipped_to_the_scale_at_the_top():
    # One 1 and nine 5s: total 46, mean 4.6; squares 1 + 225 = 226,
    # s² = (226 − 46²/10) / 9 = (226 − 211.6) / 9 = 1.6; half = 1.96 · √0.16 = 0.784
    # → 3.816 and 5.384, which is clipped to 5.
    stats = statistics([1, 0, 0, 0, 9])
    assert (stats["count"], stats["total"], stats["mean"]) == (10, 46, Decimal("4.600"))
    assert (stats["ci_low"], stats["ci_high"]) == (Decimal("3.816"), Decimal("5.000"))


def test_the_interval_is_clipped_to_the_scale_at_the_bottom():
    # Nine 1s and one 5: total 14, mean 1.4; squares 9 + 25 = 34,
    # s² = (34 − 14²/10) / 9 = 1.6; half = 0.784 → 0.616, clipped to 1, and 2.184.
    stats = statistics([9, 0, 0, 0, 1])
    assert (stats["count"], stats["total"], stats["mean"]) == (10, 14, Decimal("1.400"))
    assert (stats["ci_low"], stats["ci_high"]) == (Decimal("1.000"), Decimal("2.184"))


def test_two_opposite_scores_span_the_whole_scale():
    # A 1 and a 5: mean 3, s² = (26 − 36/2) / 1 = 8, half = 1.96 · √4 = 3.92 → −0.92 and 6.92.
    stats = statistics([1, 0, 0, 0, 1])
    assert (stats["ci_low"], stats["ci_high"]) == (Decimal("1.000"), Decimal("5.000"))


def test_the_mean_is_rounded_half_up():
    # Fifteen 2s and one 3: 33 / 16 = 2.0625, which rounds half up to 2.063 (half-even would give 2.062).
    assert statistics([0, 15, 1, 0, 0])["mean"] == Decimal("2.063")
    # 1999 2s and one 3: 4001 / 2000 = 2.0005 → 2.001.
    assert statistics([0, 1999, 1, 0, 0])["mean"] == Decimal("2.001")
    # 2, 2, 3 → 7 / 3 = 2.3333… → 2.333 (an ordinary round down).
    assert statistics([0, 2, 1, 0, 0])["mean"] == Decimal("2.333")


def _row(
    oid: int, district: int | None, score: int, n: int, trust: str = "counted", verified: bool = False
) -> dict:
    return {"oid": oid, "d": district, "score": score, "trust_state": trust, "v": verified, "n": n}


def test_tallies_fold_the_rows_of_each_object_with_their_districts():
    rows = [
        _row(7, 1, 2, 3),
        _row(7, 1, 5, 1),
        _row(7, 2, 5, 2),
        _row(7, None, 1, 4),  # residents who gave no district count only in the total
        _row(9, None, 3, 1),
        _row(12, 2, 4, 6),
        _row(12, 16, 4, 1),
    ]

    assert list(tallies(rows)) == [
        Tally(7, distribution=[4, 3, 0, 0, 3], by_district={1: [0, 3, 0, 0, 1], 2: [0, 0, 0, 0, 2]}),
        Tally(9, distribution=[0, 0, 1, 0, 0], by_district={}),
        Tally(12, distribution=[0, 0, 0, 7, 0], by_district={2: [0, 0, 0, 6, 0], 16: [0, 0, 0, 1, 0]}),
    ]


def test_tallies_of_no_rows_are_none():
    assert list(tallies([])) == []


def test_tallies_stream_one_object_at_a_time():
    read: list[dict] = []
    rows = [_row(1, None, 4, 2), _row(1, 3, 5, 1), _row(2, None, 1, 1), _row(3, None, 2, 1)]

    def source():
        for row in rows:
            read.append(row)
            yield row

    stream = tallies(source())
    first = next(stream)

    # The first object is complete as soon as the second one's first row is read, and no later.
    assert first == Tally(object_id=1, distribution=[0, 0, 0, 2, 1], by_district={3: [0, 0, 0, 0, 1]})
    assert read == rows[:3]
    assert [t.object_id for t in stream] == [2, 3]
    assert read == rows


def test_an_aggregate_carries_the_statistics_of_the_whole_and_of_each_district():
    tally = Tally(7, distribution=[4, 3, 0, 0, 3], by_district={2: [0, 0, 0, 0, 2], 1: [0, 3, 0, 0, 1]})

    aggregate = tally_to_aggregate("indicator", tally)

    # 4 × 1 + 3 × 2 + 3 × 5 = 25 over 10 ratings: mean 2.5.
    assert (aggregate.scope, aggregate.object_id) == ("indicator", 7)
    assert (aggregate.count, aggregate.total, aggregate.mean) == (10, 25, Decimal("2.500"))
    assert aggregate.distribution == [4, 3, 0, 0, 3]
    # District 1: 3 × 2 + 5 = 11 over 4 → 2.75; district 2: two 5s. Keys are strings, in order.
    # Without a raters query each row is one resident: raters = count, per district too.
    assert aggregate.by_district == {
        "1": {"count": 4, "raters": 4, "mean": 2.75, "distribution": [0, 3, 0, 0, 1]},
        "2": {"count": 2, "raters": 2, "mean": 5.0, "distribution": [0, 0, 0, 0, 2]},
    }
    assert list(aggregate.by_district) == ["1", "2"]
    assert (aggregate.raters, aggregate.held_count, aggregate.verified_count) == (10, 0, 0)


def test_held_rows_are_counted_apart_and_move_no_figure():
    rows = [
        _row(7, 1, 5, 2),
        _row(7, 1, 1, 30, trust="held"),
        _row(7, None, 1, 4, trust="held", verified=True),
        _row(8, 2, 1, 3, trust="held"),  # an item with held ratings only
    ]

    seven, eight = list(tallies(rows))

    assert seven == Tally(7, distribution=[0, 0, 0, 0, 2], by_district={1: [0, 0, 0, 0, 2]}, held=34)
    assert eight == Tally(8, held=3)
    aggregate = tally_to_aggregate("indicator", eight)
    assert (aggregate.count, aggregate.raters, aggregate.mean, aggregate.held_count) == (0, 0, None, 3)
    assert aggregate.by_district == {}


def test_the_verified_tier_is_the_counted_rows_of_verified_residents():
    rows = [
        _row(7, 1, 2, 3),
        _row(7, 1, 2, 1, verified=True),
        _row(7, 1, 5, 1, trust="held", verified=True),  # held: in no tier
        _row(7, None, 4, 2, verified=True),
    ]

    [tally] = list(tallies(rows))
    aggregate = tally_to_aggregate("indicator", tally)

    # Counted: four 2s and two 4s; of them, one 2 and two 4s from verified residents.
    assert aggregate.distribution == [0, 4, 0, 2, 0]
    assert aggregate.verified_distribution == [0, 1, 0, 2, 0]
    assert (aggregate.count, aggregate.verified_count, aggregate.verified_raters) == (6, 3, 3)
    assert aggregate.held_count == 1


def _raters(oid: int, raters: int, verified: int, district: int | None = None) -> dict:
    return {"oid": oid, "d": district, "raters": raters, "verified_raters": verified}


def test_distinct_raters_per_object_are_merged_in_while_streaming():
    # Chapter 3: one resident's five ratings (district 1) and two other residents' ratings;
    # chapter 4 has held ratings only, so no raters row; chapter 5 has a raters row and no
    # score rows (committed between the two statements): it is skipped.
    rows = [_row(3, 1, s, 1) for s in (1, 2, 3, 4, 5)] + [_row(3, 2, 4, 2, verified=True)]
    rows += [_row(4, None, 1, 9, trust="held"), _row(6, None, 3, 1)]
    per_object = [_raters(3, 3, 2), _raters(5, 4, 0), _raters(6, 1, 0)]
    per_district = [_raters(3, 1, 0, 1), _raters(3, 2, 2, 2), _raters(5, 4, 0, 1), _raters(6, 1, 0)]

    three, four, six = list(tallies(rows, raters=per_object, district_raters=per_district))

    assert (three.raters, three.verified_raters, three.district_raters) == (3, 2, {1: 1, 2: 2})
    assert (four.raters, four.verified_raters, four.district_raters) == (0, 0, {})
    assert (six.raters, six.district_raters) == (1, {})
    aggregate = tally_to_aggregate("chapter", three)
    assert (aggregate.count, aggregate.raters, aggregate.verified_count, aggregate.verified_raters) == (
        7,
        3,
        2,
        2,
    )
    assert {key: entry["raters"] for key, entry in aggregate.by_district.items()} == {"1": 1, "2": 2}


def test_without_a_per_object_query_the_raters_are_the_sum_of_the_district_groups():
    # A survey: each resident's response has one district (or none), so the groups do not overlap.
    rows = [_row(9, 1, 3, 4), _row(9, None, 5, 6, verified=True)]
    per_district = [_raters(9, 2, 0, 1), _raters(9, 3, 3, None)]

    [tally] = list(tallies(rows, district_raters=per_district))

    assert (tally.raters, tally.verified_raters, tally.district_raters) == (5, 3, {1: 2})


def test_raters_are_clamped_to_the_rows():
    # A raters statement that saw a rating the score statement did not: never more people than rows.
    tally = Tally(3, distribution=[0, 0, 2, 0, 0], by_district={1: [0, 0, 2, 0, 0]}, raters=4)
    tally.verified_raters, tally.district_raters = 1, {1: 3}

    aggregate = tally_to_aggregate("chapter", tally)

    assert (aggregate.raters, aggregate.verified_raters, aggregate.by_district["1"]["raters"]) == (2, 0, 2)
