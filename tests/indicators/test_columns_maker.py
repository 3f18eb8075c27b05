"""``Columns.maker()``'s functions, kept per database once made, still follow the model's
``__init__`` signals (a receiver connected later is called for the next rows), give each
instance its own state and related objects, and the editions of the header's switcher are
what ``from_db`` makes of their id and year."""

import pytest
from django.db.models.signals import post_init
from django.utils import timezone

from indicators import selectors
from indicators.compiled import Columns
from indicators.models import Chapter, Edition
from tests.factories import ChapterFactory, EditionFactory

pytestmark = pytest.mark.django_db


def test_a_receiver_connected_later_is_called_for_the_next_rows():
    chapter = ChapterFactory()
    columns = Columns(Chapter)
    row = Chapter.objects.filter(pk=chapter.pk).values_list(*columns.lookups()).get()
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    columns.maker()(row, {})
    post_init.connect(receiver, sender=Chapter)
    try:
        made = columns.maker()(row, {})
    finally:
        post_init.disconnect(receiver, sender=Chapter)
    assert seen == [made]
    columns.maker()(row, {})
    assert seen == [made]


def test_each_instance_has_its_own_state_and_related_objects():
    chapter = ChapterFactory()
    columns = Columns(Chapter)
    row = Chapter.objects.filter(pk=chapter.pk).values_list(*columns.lookups()).get()
    make = columns.maker()
    first, second = make(row, {"edition": chapter.edition}), make(row, {})
    assert first.edition is chapter.edition
    assert first._state is not second._state
    assert (second._state.adding, second._state.db, second._state.fields_cache) == (False, "default", {})
    assert second.edition == chapter.edition  # not cached: read from the database, as the ORM's
    assert first._state.fields_cache is not second._state.fields_cache


def test_the_switchers_editions_are_from_dbs():
    EditionFactory(year=2022)
    EditionFactory(year=2023)
    rows = selectors._edition_years_query.rows(now=timezone.now())
    made = selectors.edition_list_published_years()
    orm = [Edition.from_db("default", ("id", "year"), row) for row in rows]
    assert [(e.pk, e.year) for e in made] == [(e.pk, e.year) for e in orm]
    assert [e.__dict__.keys() for e in made] == [e.__dict__.keys() for e in orm]
    assert [e.get_deferred_fields() for e in made] == [e.get_deferred_fields() for e in orm]
    assert [(e._state.adding, e._state.db) for e in made] == [(False, "default")] * len(orm)
