"""The edition's page (the home page ``/`` and ``/<year>/``) reads its lists in one round
trip of compiled queries once the edition is known (``indicators.selectors.edition_page``):
the chapters with their public indicator and story counts, the headline indicators with
their chapters and values, and the public editions for the switcher. Those rows are what
the querysets they are compiled from return (``chapter_list_for_edition``,
``indicator_list_headline``): drafts and scheduled items neither counted nor shown, other
editions' rows left out. The page's queries do not grow with the edition; an edition with
no chapters or no headlines, and no public edition at all, show what they showed. On
SQLite, the embedded mode README's command serves, the same pages."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from indicators import selectors
from indicators.cache import SHARED, tags_bump
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, StoryFactory
from tests.test_item_pages_lean import fields, same_rows
from tests.test_settings_guard import EMBEDDED_SETUP, run, serve_environment

pytestmark = pytest.mark.django_db


def build(size: int):
    """A public 2023 with ``size`` chapters, each with ``size`` public indicators (every
    other a headline, with values) and stories, a draft and a scheduled headline and story;
    a public 2022 and a draft 2024 with headlines of their own."""
    editions = {year: EditionFactory(year=year) for year in (2022, 2023)}
    editions[2024] = EditionFactory(year=2024, draft=True)
    for year in (2022, 2024):
        IndicatorFactory(chapter=ChapterFactory(edition=editions[year], number=1), headline=True)
    for number in range(size, 0, -1):  # created out of order: the pages put them in order
        chapter = ChapterFactory(edition=editions[2023], number=number)
        for n in range(size):
            IndicatorFactory(
                chapter=chapter,
                order=size - n,
                headline=n % 2 == 0,
                values=[(2022, n), (2023, n + 1, "约"), {"year": 2023, "month": 6, "value": 3}],
            )
            StoryFactory(edition=editions[2023], chapter=chapter)
        IndicatorFactory(chapter=chapter, headline=True, draft=True)
        IndicatorFactory(chapter=chapter, headline=True, scheduled=True)
        StoryFactory(edition=editions[2023], chapter=chapter, draft=True)
        StoryFactory(edition=editions[2023], chapter=chapter, scheduled=True)
    return editions[2023]


@pytest.mark.parametrize("size", [1, 5])
def test_the_edition_page_reads_in_one_round_trip_what_its_querysets_say(size):
    edition = build(size)

    with CaptureQueriesContext(connection) as captured:
        page = selectors.edition_page(edition=edition)
        # Everything the page shows came with it: reading it runs no query.
        shown = [
            (c.get_absolute_url(), c.display_theme, c.indicator_count, c.story_count) for c in page.chapters
        ]
        figures = [
            (i.get_absolute_url(), i.chapter.display_theme, i.chapter.edition.year, i.current_value)
            for i in page.headlines
        ]
    assert len(captured) == 1
    assert len(shown) == size and len(figures) == size * ((size + 1) // 2)

    expected = list(selectors.chapter_list_for_edition(edition=edition))
    same_rows(page.chapters, expected)
    assert [(c.indicator_count, c.story_count) for c in page.chapters] == [(size, size)] * size
    assert [(c.indicator_count, c.story_count) for c in page.chapters] == [
        (c.indicator_count, c.story_count) for c in expected
    ]
    headlines = list(selectors.indicator_list_headline(edition=edition))
    same_rows(page.headlines, headlines)
    for made, other in zip(page.headlines, headlines, strict=True):
        same_rows([made.edition], [other.edition])
        # The chapter is the page's own (with its counts, which the headline's has not).
        chapter = {name: value for name, value in fields(made.chapter).items() if not name.endswith("_count")}
        assert chapter == fields(other.chapter)
        same_rows(made.series, list(other.series))
    assert [edition.year for edition in page.editions] == [2023, 2022]


@pytest.mark.parametrize("size", [1, 5])
def test_the_pages_queries_do_not_grow_with_the_edition(client, django_assert_num_queries, size):
    build(size)
    # The edition (the latest public one, or the URL's year), then one round trip.
    for url in ("/", "/2023/"):
        with django_assert_num_queries(2):
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["chapters"]) == size
        assert len(response.context["headlines"]) == size * ((size + 1) // 2)


def test_an_edition_without_chapters_or_headlines_and_none_published(client):
    assert "indicators/no_edition.html" in [t.name for t in client.get("/").templates]
    EditionFactory(year=2023)
    EditionFactory(year=2024, scheduled=True)
    html = client.get("/").content.decode()
    assert "本年度的章节尚未发布。" in html
    assert 'class="headlines"' not in html
    assert "edition-switch" not in html
    chapter = ChapterFactory(edition__year=2022)
    IndicatorFactory(chapter=chapter, headline=False)
    IndicatorFactory(chapter=chapter, headline=True, draft=True)
    html = client.get("/2022/").content.decode()
    assert chapter.get_absolute_url() in html
    assert "1 项指标 · 0 个亮点故事" in html
    assert 'class="headlines"' not in html
    assert "edition-switch" in html
    assert client.get("/2024/").status_code == 404
    # A year beyond any integer column's (the compiled query's bigint, then beyond it): a 404.
    for year in (10**14, 10**20):
        assert client.get(f"/{year}/").status_code == 404


def test_embedded_mode_serves_the_home_and_edition_pages(tmp_path):
    # SQLite: one statement per execute, the parameters adapted as its backend adapts them.
    code = (
        EMBEDDED_SETUP + "from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory,"
        " StoryFactory\n"
        "client = Client(HTTP_HOST='127.0.0.1')\n"
        "print(client.get('/', secure=True).status_code)\n"
        "older = IndicatorFactory(chapter=ChapterFactory(edition=EditionFactory(year=2022)), headline=True)\n"
        "item = IndicatorFactory(chapter=ChapterFactory(edition=EditionFactory(year=2023)), headline=True)\n"
        "StoryFactory(edition=item.edition, chapter=item.chapter)\n"
        "hidden = IndicatorFactory(chapter=item.chapter, headline=True, draft=True)\n"
        "page = client.get('/', secure=True).content.decode()\n"
        "print(item.get_absolute_url() in page, hidden.get_absolute_url() in page,"
        " '1 项指标 · 1 个亮点故事' in page)\n"
        "page = client.get('/2022/', secure=True)\n"
        "print(page.status_code, older.get_absolute_url() in page.content.decode())\n"
        # No such year, and one SQLite cannot bind (beyond 64 bits): 404s, as on PostgreSQL.
        "for url in ('/2024/', f'/{10**20}/'):\n"
        "    print(client.get(url, secure=True).status_code)\n"
    )
    started = run(code, **serve_environment(), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["200", "True", "False", "True", "200", "True", "404", "404"]


# The loops the edition page's template had, which ``headline_figures`` and ``chapter_cards``
# (indicators.templatetags.report) write in Python: the same bytes.
FIGURES_LOOP = """{% load i18n report %}{% for indicator in headlines %}
      <li class="figure">
        <a class="figure__link" href="{{ indicator.get_absolute_url }}">
          <span class="figure__value">{{ indicator|quantity|default:_("报告未给出数值") }}</span>
          <span class="figure__name"{% chinese_lang_unless indicator "name" %}>{{ indicator.display_name }}</span>
          <span class="figure__meta">{% blocktranslate with year=indicator.year %}{{ year }} 年{% endblocktranslate %} · {% marked_chinese indicator.chapter "theme" %}</span>
        </a>
      </li>
      {% endfor %}"""  # noqa: E501 - the template's line
CARDS_LOOP = """{% load i18n report %}{% for chapter in chapters %}
      <li class="card chapter-card">
        <p class="card__eyebrow">{% blocktranslate with number=chapter.number %}第 {{ number }} 章{% endblocktranslate %} · <span class="theme"{% chinese_lang_unless chapter "theme" %}>{{ chapter.display_theme }}</span></p>
        <h3 class="card__title"><a href="{{ chapter.get_absolute_url }}"{% chinese_lang_unless chapter "title" %}>{{ chapter.display_title }}</a></h3>
        <p class="card__meta">{% blocktranslate count counter=chapter.indicator_count %}{{ counter }} 项指标{% plural %}{{ counter }} 项指标{% endblocktranslate %} · {% blocktranslate count counter=chapter.story_count %}{{ counter }} 个亮点故事{% plural %}{{ counter }} 个亮点故事{% endblocktranslate %}</p>
      </li>
      {% endfor %}"""  # noqa: E501 - the template's line


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_figures_and_cards_are_the_templates_loops(language):
    edition = EditionFactory(year=2023)
    theme = "<空间> & 布局"  # in both languages (no English theme)
    chapter = ChapterFactory(edition=edition, number=1, theme=theme, theme_en="", title_en="A & <b>")
    ChapterFactory(edition=edition, number=2, title_en="")  # no English title: the Chinese one
    IndicatorFactory(chapter=chapter, headline=True, name="人口 <规模> & “调控”", unit="万人")
    IndicatorFactory(chapter=chapter, headline=True, values=[])  # no figure
    IndicatorFactory(chapter=chapter, headline=True, year=2022, values=[(2022, "1.5", "约"), (2023, 2)])
    StoryFactory(edition=edition, chapter=chapter)
    with translation.override(language):
        page = selectors.edition_page(edition=edition)
        context = Context({"headlines": page.headlines, "chapters": page.chapters})
        figures = Template("{% load report %}{% headline_figures headlines %}").render(context)
        cards = Template("{% load report %}{% chapter_cards chapters %}").render(context)
        assert figures == Template(FIGURES_LOOP).render(context)
        assert cards == Template(CARDS_LOOP).render(context)
    assert "&lt;空间&gt; &amp; 布局" in cards
    assert figures.count('<li class="figure">') == 3


def test_the_stored_home_page_depends_on_the_switchers_editions(
    client, settings, django_capture_on_commit_callbacks
):
    # The switcher's editions are read with the page's lists: the page depends on SHARED,
    # which its own tags (REPORT) do not name, and is built afresh when only SHARED moves.
    settings.PAGE_CACHE = True
    build(1)
    for url in ("/", "/2023/"):
        assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        assert len(captured) == 0, f"{url}: not from the cache"
    with django_capture_on_commit_callbacks(execute=True):
        tags_bump(SHARED)
    for url in ("/", "/2023/"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        assert len(captured) == 2, f"{url}: came from the cache"
