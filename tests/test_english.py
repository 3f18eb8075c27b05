"""The English interface: a complete catalogue, shown only after the visitor chooses English.

The source language is Chinese (the msgids are Chinese); ``locale/en`` holds the
English catalogue. These tests check that the pages a resident or a planner opens
speak English once the language switch says so, stay Chinese otherwise (whatever
the browser's Accept-Language), and that the catalogue has a real translation
for every UI string in the code, so a string added without one fails CI by name.
"""

import ast
import gettext
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django.utils.translation.template import templatize

from feedback.models import Survey, SurveyQuestion
from indicators.models import PublishStatus, StoryKind
from tests.factories import (
    ChapterFactory,
    DistrictFactory,
    EditionFactory,
    IndicatorFactory,
    StoryFactory,
)

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LOCALE / "django.po"
MO_PATH = LOCALE / "django.mo"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%%|\{[a-z_]+\}")
# Help texts for staff that quote the report's own Chinese wording, which the data keeps.
QUOTES_CHINESE = {"如：万人、%、亿元。", "照原文，如“霍文武 / 摄”“北京市交通委 / 供”。"}


# --- The catalogue -------------------------------------------------------------------


def _unquote(line: str) -> str:
    return ast.literal_eval(line)


def parse_po(path: Path) -> list[dict]:  # noqa: C901 - one branch per kind of .po line
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr(s), flags, references."""
    entries: list[dict] = []
    entry: dict | None = None
    field: tuple | None = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "refs": [], "msgstr": {}, "obsolete": False}
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#:"):
            entry["refs"].extend(line[2:].split())
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if match:
            key, index, text = match.group(1), match.group(2), _unquote(match.group(3))
            if key == "msgstr":
                field = ("msgstr", int(index) if index is not None else 0)
                entry["msgstr"][field[1]] = text
            else:
                field = (key,)
                entry[key] = text
            continue
        assert line.startswith('"'), f"unexpected line in {path.name}: {raw!r}"
        if field[0] == "msgstr":
            entry["msgstr"][field[1]] += _unquote(line)
        else:
            entry[field[0]] += _unquote(line)
    return [e for e in entries if not e["obsolete"]]


@pytest.fixture(scope="module")
def catalogue() -> list[dict]:
    entries = parse_po(PO_PATH)
    assert entries[0]["msgid"] == "", "the catalogue starts with its header"
    return entries[1:]


def _describe(entry: dict) -> str:
    return f"{entry['msgid']!r} ({' '.join(entry['refs'][:2])})"


def test_every_catalogue_entry_has_a_reviewed_english_translation(catalogue):
    untranslated = [_describe(e) for e in catalogue if not all(e["msgstr"].values())]
    fuzzy = [_describe(e) for e in catalogue if "fuzzy" in e["flags"]]
    still_chinese = [
        _describe(e)
        for e in catalogue
        if e["msgid"] not in QUOTES_CHINESE and any(CJK.search(s) for s in e["msgstr"].values())
    ]
    assert not untranslated, "Untranslated entries in locale/en/LC_MESSAGES/django.po:\n" + "\n".join(
        untranslated
    )
    assert not fuzzy, "Fuzzy (unchecked) entries in django.po:\n" + "\n".join(fuzzy)
    assert not still_chinese, "Entries whose English is still Chinese:\n" + "\n".join(still_chinese)
    assert len(catalogue) > 500


def test_plural_entries_have_both_english_forms(catalogue):
    plurals = [e for e in catalogue if "msgid_plural" in e]
    assert plurals
    for entry in plurals:
        assert set(entry["msgstr"]) == {0, 1}, _describe(entry)
        assert entry["msgstr"][0] and entry["msgstr"][1], _describe(entry)
        # English says one thing and several differently ("1 more item has", "28 more items have").
        assert entry["msgstr"][0] != entry["msgstr"][1], f"one form for 1 and for many: {_describe(entry)}"


def test_translations_keep_every_placeholder(catalogue):
    broken = []
    for entry in catalogue:
        wanted = sorted(PLACEHOLDER.findall(entry["msgid"]))
        broken.extend(
            f"{_describe(entry)} → {text!r}"
            for text in entry["msgstr"].values()
            if sorted(PLACEHOLDER.findall(text)) != wanted
        )
    assert not broken, "Placeholders lost or added:\n" + "\n".join(broken)


def test_compiled_catalogue_matches_the_po_file(catalogue):
    """django.mo is what Django reads: it must hold exactly what django.po says."""
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in catalogue:
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if "msgid_plural" in entry:
            got = [compiled.ngettext(msgid, entry["msgid_plural"], n) for n in (1, 2)]
            want = [entry["msgstr"][0], entry["msgstr"][1]]
        else:
            got, want = compiled.gettext(msgid), entry["msgstr"][0]
        if got != want:
            stale.append(_describe(entry))
    assert not stale, "django.mo is out of date (run manage.py compilemessages):\n" + "\n".join(stale)


# What makemessages reads: .py, .html and .txt files (templates through templatize).
SKIP_DIRS = {".venv", "venv", "node_modules", "staticfiles", "media", ".git", "__pycache__", "locale"}
GETTEXT_CALLS = {
    "_": ("msgid",),
    "gettext": ("msgid",),
    "gettext_lazy": ("msgid",),
    "gettext_noop": ("msgid",),
    "ngettext": ("msgid", "msgid_plural"),
    "ngettext_lazy": ("msgid", "msgid_plural"),
    "pgettext": ("msgctxt", "msgid"),
    "pgettext_lazy": ("msgctxt", "msgid"),
    "npgettext": ("msgctxt", "msgid", "msgid_plural"),
    "npgettext_lazy": ("msgctxt", "msgid", "msgid_plural"),
}


def _source_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        if path.suffix not in {".py", ".html", ".txt"} or not path.is_file():
            continue
        if SKIP_DIRS.intersection(path.relative_to(ROOT).parts):
            continue
        files.append(path)
    return files


def _strings_in_python(code: str) -> set[tuple]:
    found = set()
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        roles = GETTEXT_CALLS.get(name)
        if not roles or len(node.args) < len(roles):
            continue
        args = node.args[: len(roles)]
        if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            continue
        values = dict(zip(roles, (a.value for a in args), strict=True))
        if values["msgid"]:
            found.add((values.get("msgctxt"), values["msgid"]))
    return found


def _strings_in_template(path: Path) -> set[tuple]:
    # templatize turns translate/blocktranslate tags into gettext calls, as makemessages does.
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    calls = re.findall(r"\b(?:_|n?p?gettext)\((?:[^()'\"]|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\")*\)", code)
    return set().union(*(_strings_in_python(call) for call in calls)) if calls else set()


def test_every_string_marked_in_the_code_is_in_the_catalogue(catalogue):
    """A string marked for translation but missing from django.po fails here, by name.

    Fix: ``DEBUG=1 .venv/bin/python manage.py makemessages -l en --ignore=.venv
    --ignore=staticfiles --ignore=node_modules``, translate the new entries, then
    ``compilemessages --ignore=.venv``.
    """
    known = {(e.get("msgctxt"), e["msgid"]) for e in catalogue}
    marked: dict[tuple, str] = {}
    for path in _source_files():
        if path.suffix == ".py":
            strings = _strings_in_python(path.read_text(encoding="utf-8"))
        else:
            strings = _strings_in_template(path)
        for key in strings:
            marked.setdefault(key, str(path.relative_to(ROOT)))
    assert len(marked) > 500, "the scan should see the project's marked strings"
    missing = sorted(
        f"{msgid!r} ({where})" for (ctxt, msgid), where in marked.items() if (ctxt, msgid) not in known
    )
    assert not missing, "Marked strings missing from locale/en/LC_MESSAGES/django.po:\n" + "\n".join(missing)


# --- The pages ---------------------------------------------------------------------------


@pytest.fixture
def report(db) -> dict:
    edition = EditionFactory(year=2023)
    chapter = ChapterFactory(
        edition=edition, number=1, slug="capital", theme="首都功能", theme_en="Capital functions"
    )
    district = DistrictFactory(name="东城区", name_en="Dongcheng")
    indicator = IndicatorFactory(
        chapter=chapter,
        code="green-space",
        headline=True,
        name="人均公园绿地面积",
        name_en="Park and green space per person",
        unit="平方米",
        values=[(2022, "16.89"), (2023, "16.9")],
    )
    story = StoryFactory(
        chapter=chapter,
        kind=StoryKind.BEST_ALLEY,
        rank=1,
        title="史家胡同",
        title_en="Shijia Hutong",
        district=district,
    )
    now = timezone.now()
    survey = Survey.objects.create(
        edition=edition,
        slug="satisfaction-2023",
        title="2023 年度市民满意度调查",
        title_en="2023 residents' satisfaction survey",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        status=PublishStatus.PUBLISHED,
        published_at=now - timedelta(days=1),
    )
    SurveyQuestion.objects.create(
        survey=survey,
        order=1,
        dimension="公共交通",
        dimension_en="Public transport",
        text="您对公共交通是否满意？",
        text_en="How satisfied are you with public transport?",
    )
    return {"edition": edition, "indicator": indicator, "story": story, "survey": survey}


# Each page, with English a resident would read there and the Chinese it replaces.
PAGES = {
    "home": (
        "/",
        ["Key figures", "Seven areas", "All highlights", "Chapter 1"],
        ["要点数字", "全部亮点故事"],
    ),
    "indicator": (
        "/2023/indicators/green-space/",
        [
            "In the report’s words",
            "Values over the years",
            "Higher is better",
            "Residents’ ratings",
            "Park and green space per person (unit: m²)",
        ],
        ["报告原文", "历年数值"],
    ),
    "stories": ("/2023/stories/", ["Filter", "1 story", "All types", "Best alley"], ["筛选", "全部类型"]),
    "survey": (
        "/survey/",
        ["Submit response", "Results so far", "Not enough ratings yet", "5 · Very satisfied"],
        ["提交答卷", "目前的调查结果"],
    ),
    "survey_results": (
        "/survey/results/",
        ["<h1>Survey results: 2023 residents&#x27; satisfaction survey</h1>"],
        ["问卷结果", "："],
    ),
    "privacy": (
        "/privacy/",
        ["What we keep", "What we do not keep", "How long we keep it"],
        ["我们保存什么"],
    ),
    "review_login": (
        "/review/login/",
        ["Responsibility planner login", "Username", "Password", "Log in"],
        ["责任规划师登录", "用户名"],
    ),
}
NAV_ENGLISH = ["Home", "Seven areas", "Highlights", "Search", "Satisfaction survey", "My data"]
NAV_CHINESE = ["首页", "七大领域", "亮点故事", "搜索", "满意度调查", "我的数据"]


def _between(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def _chrome(html: str) -> dict[str, str]:
    """The parts of every page that are pure interface: navigation, skip link, footer."""
    return {
        "nav": _between(html, '<nav class="site-nav"', "</nav>"),
        "site name": _between(html, '<a class="site-name"', "</a>"),
        "skip link": _between(html, '<a class="skip-link"', "</a>"),
        "footer": _between(html, '<footer class="site-footer"', "</footer>"),
    }


@pytest.fixture
def english_client(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("page", list(PAGES))
def test_a_visitor_who_chose_english_gets_english_pages(english_client, report, page):
    url, english, chinese = PAGES[page]
    response = english_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    chrome = _chrome(html)
    for label in NAV_ENGLISH:
        assert f">{label}</a>" in chrome["nav"], (page, label)
    for part, text in chrome.items():
        assert not CJK.search(text), f"Chinese left in the {part} of {url}: {CJK.findall(text)}"
    assert "Privacy notice" in chrome["footer"]
    assert "Skip to main content" in chrome["skip link"]
    for text in english:
        assert text in html, (page, text)
    for text in chinese:
        assert text not in html, (page, text)


def test_english_pages_show_chinese_only_where_content_has_no_english(english_client, report):
    """Apart from report content without an English version, no Chinese is left in English pages."""
    allowed = {
        "中文",  # the switch back to Chinese names itself in Chinese
        "简体中文",
    }
    leftovers = {}
    for url, _english, _chinese in PAGES.values():
        html = english_client.get(url).content.decode()
        # Report text (source sentence, preface) in the description and the Open Graph tags.
        html = re.sub(r'<meta (name="description"|property="og:[a-z_:]+").*?>', "", html)
        body = re.sub(r"<script.*?</script>", "", html, flags=re.S)
        # The report's source sentence.
        body = re.sub(r"<blockquote[^>]*>.*?</blockquote>", "", body, flags=re.S)
        leftover = set(CJK.findall(body)) - allowed
        # Factory content without an English field (summaries, bodies) is content, not interface.
        leftover = {
            text for text in leftover if not text.endswith(("摘要。", "正文第一段。", "正文第二段。"))
        }
        if leftover:
            leftovers[url] = sorted(leftover)
    assert not leftovers, f"Untranslated interface text: {leftovers}"


@pytest.mark.parametrize("page", list(PAGES))
def test_without_the_switch_pages_stay_chinese_even_for_an_english_browser(client, report, page):
    url, english, chinese = PAGES[page]
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans"' in html
    nav = _chrome(html)["nav"]
    for label in NAV_CHINESE:
        assert f">{label}</a>" in nav, (page, label)
    for label in NAV_ENGLISH:
        assert f">{label}</a>" not in nav, (page, label)
    for text in chinese:
        assert text in html, (page, text)
    assert "Skip to main content" not in html


def test_switching_back_to_chinese_restores_the_chinese_interface(english_client, report):
    assert ">Home</a>" in english_client.get("/").content.decode()
    english_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = english_client.get("/").content.decode()
    assert ">首页</a>" in html
    assert ">Home</a>" not in html


def test_english_messages_and_form_errors(english_client, report):
    """Messages from Python code (forms, services) follow the switch too."""
    indicator = report["indicator"]
    response = english_client.post(
        f"/participate/indicator/{indicator.pk}/comment/", {"body": ""}, HTTP_ACCEPT_LANGUAGE="zh-CN"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Please write your comment." in html
    assert "请填写留言内容" not in html
