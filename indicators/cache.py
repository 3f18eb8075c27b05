"""The shared page cache of the public site and the read API, with exact invalidation.

**What is cached.** The anonymous shape of the public pages (home, editions,
chapters, indicator and story pages, the lists, the survey page, the privacy
notice) and the JSON of the read API (report content, stored aggregates,
approved comments): GETs answered the same to every visitor, kept in the shared
cache (the ``pages`` alias: Redis in production) and answered with HTTP
validators. Nothing personal ever enters an entry:

- the visitor's own rating, survey answers and new-reply badge are not on these
  pages at all: ``/me/fragment/`` (``feedback.views.me_fragment``, private,
  never stored) brings them, and a page works without it;
- a request carrying a pending flash message (the ``messages`` cookie, set by a
  POST before its redirect) is neither answered from the cache nor stored;
- a response is stored only when it set no cookie, read no session, asked for
  no CSRF token and showed no message (``_shareable``), so a slip in a template
  costs a cache miss, never a leak.

**Where.** Views say how they are cached (``cached_page``, ``CachedReadView``);
``portal.middleware.PageCacheMiddleware`` does it (``serve``), below the
middleware that add security headers, the Content-Security-Policy, sessions and
the language's ``Vary``, above those of CSRF, authentication and messages and
the view: a hit runs none of those and no query, and what is stored is the
response as they left it, so whether it set a cookie is known.

**Exact invalidation: tag versions.** A page is built from data guarded by
*tags*; each tag has a version in the cache, and an entry keeps the versions of
its tags as they were when it was built. An entry is served only while every one
of them is unchanged; a write *bumps* the tags of what it changed, and the next
request builds the page afresh. Tags:

- ``report``: all report content (editions, chapters, sections, indicators and
  their values, stories and photos, districts and streets). Pages that span
  editions (home, the survey page) and the report API.
- ``year:<Y>``: the content of edition Y; the pages under ``/<Y>/``.
- ``shared``: what every edition's pages show besides their own content
  (districts and streets in filters, forms and places).
- ``agg:<scope>:<id>`` and ``agg:<scope>``: one stored aggregate, and any of its
  scope (the district list, the survey's questions).
- ``comments:<kind>:<id>``: the approved comments of an item with their replies.
- ``surveys``: the survey definitions (``feedback.caching``).

Who bumps what: a staff edit in the admin, a publish or unpublish, an import
and the report loader call ``report_changed`` with the editions they touched
(before *and* after, when a row moves); an aggregate refresh or reconciliation
calls ``aggregates_changed`` with the aggregates whose figures it wrote; an
approved, rejected or anonymised comment, a comment public at once
(post-moderation) and a reply to a comment call ``comments_changed``. Staff
edits are rare and change pages in ways hard to enumerate (lists, headlines,
related items), so they renew their edition's pages and the cross-edition ones;
the frequent writes — aggregate refreshes several times a minute on launch day,
comments and replies — renew exactly the pages that show that item's figures or
comments. Bumps run after the commit (``transaction.on_commit``): a page built
from the old rows is then always built under the old version.

**Ordering.** A tag's version is read *before* the data it guards: the tags a
URL implies (its edition, ``report``) before the view runs, and the tags found
while rendering (``depend``: the item's aggregate and comments, the chapter's
score) at the moment the data is about to be read. A write that commits
meanwhile bumps a version the entry already holds in its old value, so the entry
is stale at once. The versions read with an entry (its URL's tags, those found
while building it last time, those a stale entry holds) were read before its build
began: data a page reads at the start of its build, before it knows which items it
shows (the chapter page's scores, read in its one round trip), is guarded by them
(``read_before``); a tag not among them (a page with no entry yet, an item new to it)
has its version read then, and that data read again after it.

**Scheduled changes.** Content with a publish date in the future becomes public
without any write, and a survey opens and closes on its dates. A ``Schedule``
keeps the next such time in the cache; the first request after it bumps the
schedule's tags (one process does, under a short lock) and looks up the next
time (one query). A lost schedule (evicted, Redis restarted) is announced at
once, since a change may have passed unseen.

**HTTP.** Versions are times in microseconds, so the newest of an entry's
versions (or the first sight of the running release, below) is its
``Last-Modified``, sent only once a full second has passed since, so that an
``If-Modified-Since`` (whole seconds) can never hide a change made within the
same second. The ``ETag`` is a hash of the entry's key and versions: a
conditional GET is answered 304 from the entry alone, without rendering.
Shareable responses get ``Cache-Control: public, max-age=0, s-maxage=…,
stale-while-revalidate=…``: a CDN keeps them briefly, browsers revalidate each
time (cheap: a 304). Everything else is ``private, no-store``
(``portal.middleware.CacheControlMiddleware``). The language is chosen by a
cookie (``portal.middleware``), and so is the display mode: both are part of
the key, and responses say ``Vary: Cookie``.

**The key** is the scheme, host, path, the query parameters the view reads (a
page ignores the others, such as WeChat's ``?from=timeline``; an API view that
gets one it does not expect is not stored), the language, the display mode (the
``portal_display`` cookie: ``large`` text or the standard one), and the *release*: a
hash of the code, templates, catalogues, static file names and the settings
that shape pages, so a deploy never serves pages of the previous one.

**Limits.** ``PAGE_CACHE=0`` makes every request build its page (nothing read
from or written to the entries); bumps still happen, so a process with the
cache off never leaves another's entries stale. Entries live
``PAGE_CACHE_TIMEOUT`` seconds at most, which also bounds the staleness left by
a bump lost to a Redis outage (reads then degrade to misses). Search results are
not stored (their keys are unbounded); an API list with no rows is not stored
either, so junk filter values cannot fill the cache.
"""

import functools
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import get_conditional_response, quote_etag
from django.utils.http import http_date

from indicators import redis_link
from indicators.models import (
    Chapter,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    PublishStatus,
    Section,
    Story,
    Street,
)

ALIAS = "pages"

REPORT = "report"
SHARED = "shared"
SURVEYS = "surveys"

_SECOND_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def year_tag(year: int) -> str:
    return f"year:{year}"


def aggregate_tag(scope: str, object_id: int | None = None) -> str:
    """One stored aggregate, or (without ``object_id``) any aggregate of ``scope``."""
    return f"agg:{scope}" if object_id is None else f"agg:{scope}:{object_id}"


def comments_tag(kind: str, object_id: int) -> str:
    return f"comments:{kind}:{object_id}"


def item_tags(kind: str, object_id: int) -> tuple[str, str]:
    """What an item's participation panel shows: its aggregate and its comments."""
    return aggregate_tag(kind, object_id), comments_tag(kind, object_id)


def edition_tags(request: HttpRequest, *, year: int, **kwargs: Any) -> tuple[str, str]:
    """The tags of a page under ``/<year>/``."""
    return year_tag(year), SHARED


def _cache():
    return caches[ALIAS]


def _now_us() -> int:
    return time.time_ns() // 1000


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


# --- Versions ---------------------------------------------------------------------------------


def _vkey(tag: str) -> str:
    return f"v:{tag}"


def _versions_read(tags: Iterable[str]) -> dict[str, int]:
    """The current version of each tag. A tag never bumped (or evicted) starts at now,
    which no older entry can hold."""
    tags = list(dict.fromkeys(tags))
    if not tags:
        return {}
    found = redis_link.get_many(ALIAS, [_vkey(tag) for tag in tags])
    versions = {}
    for tag in tags:
        version = found.get(_vkey(tag))
        if version is None:
            cache = _cache()
            start = _now_us()
            cache.add(_vkey(tag), start, timeout=None)
            # Another process may have started it first: its value is the one that counts.
            version = cache.get(_vkey(tag), start)
        versions[tag] = version
    return versions


def _bump(tags: Iterable[str]) -> None:
    keys = [_vkey(tag) for tag in dict.fromkeys(tags)]
    if not keys:
        return
    cache = _cache()
    current = redis_link.get_many(ALIAS, keys)
    now = _now_us()
    # Later than any version a tag held, even when clocks of two hosts disagree a little.
    cache.set_many({key: max(now, current.get(key, 0) + 1) for key in keys}, timeout=None)


def tags_bump(*tags: str, schedules: Iterable["Schedule"] = ()) -> None:
    """Make every page built from ``tags`` stale once the current transaction commits,
    and look up the next time of each of ``schedules`` again (the write may have moved it)."""
    schedules = tuple(schedules)

    def bump() -> None:
        _bump(tags)
        for schedule in schedules:
            _schedule_refresh(schedule)

    transaction.on_commit(bump, robust=True)


# --- What the writes call --------------------------------------------------------------------

# How a row of the report reaches its edition's year; None: shown by every edition.
_YEAR_PATHS: dict[type[models.Model], str | None] = {
    # Every edition's pages list the published editions (the header's switcher), so a
    # change to an edition (its year, title, publication) renews them all.
    Edition: None,
    Chapter: "edition__year",
    Section: "chapter__edition__year",
    Indicator: "edition__year",
    IndicatorValue: "indicator__edition__year",
    Story: "edition__year",
    Photo: "story__edition__year",
    District: None,
    Street: None,
}


def content_years(*objs: models.Model | None) -> set[int] | None:
    """The editions whose pages show these rows (``None``: every edition's).

    Pass a row as it was *and* as it is when it may have moved (another
    chapter, another edition, a new year): both editions' pages change.
    """
    years: set[int] = set()
    for obj in objs:
        if obj is None:
            continue
        path = _YEAR_PATHS[type(obj)]
        if path is None:
            return None
        years.add(functools.reduce(getattr, path.split("__"), obj))
    return years


def content_years_of(queryset: models.QuerySet) -> set[int] | None:
    """``content_years`` of every row of ``queryset``, in one query."""
    path = _YEAR_PATHS[queryset.model]
    if path is None:
        return None
    return set(queryset.order_by().values_list(path, flat=True).distinct())


def years_union(*groups: set[int] | None) -> set[int] | None:
    if any(group is None for group in groups):
        return None
    return set().union(*groups)


def report_changed(*, years: Iterable[int] | None) -> None:
    """Report content of these editions changed (``None``: possibly all of them, or
    what all of them show, such as districts)."""
    tags = [REPORT, SHARED] if years is None else [REPORT, *(year_tag(year) for year in years)]
    tags_bump(*tags, schedules=(REPORT_SCHEDULE,))


def aggregates_changed(*, keys: Iterable[tuple[str, int]]) -> None:
    """These stored aggregates (``(scope, object_id)``) were rewritten or removed."""
    tags: list[str] = []
    for scope, object_id in keys:
        tags += [aggregate_tag(scope, object_id), aggregate_tag(scope)]
    if tags:
        tags_bump(*tags)


def comments_changed(*, indicator_id: int | None = None, story_id: int | None = None) -> None:
    """The public comments (or a reply beneath one) of this item changed."""
    if indicator_id:
        tags_bump(comments_tag("indicator", indicator_id))
    if story_id:
        tags_bump(comments_tag("story", story_id))


# --- Scheduled changes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """Moments at which pages change without a write (a publish date comes, a survey opens)."""

    name: str
    # The first such moment after ``now``, or None.
    next_change: Callable[[datetime], datetime | None]
    # The tags of what changes then.
    tags: tuple[str, ...]


def _report_next_publication(now: datetime) -> datetime | None:
    """The next publish date still to come among editions, indicators and stories (one query)."""
    upcoming = {"status": PublishStatus.PUBLISHED, "published_at__gt": now}
    # order_by(): without the models' default ordering, which SQLite refuses inside a UNION.
    dates = (
        Edition.objects.filter(**upcoming)
        .order_by()
        .values_list("published_at", flat=True)
        .union(
            Indicator.objects.filter(**upcoming).order_by().values_list("published_at", flat=True),
            Story.objects.filter(**upcoming).order_by().values_list("published_at", flat=True),
        )
    )
    return min(dates, default=None)


REPORT_SCHEDULE = Schedule("report", _report_next_publication, (REPORT, SHARED))


def _skey(name: str) -> str:
    return f"s:{name}"


def _schedule_refresh(schedule: Schedule) -> int:
    moment = schedule.next_change(timezone.now())
    value = _us(moment) if moment else 0  # 0: nothing scheduled
    _cache().set(_skey(schedule.name), value, timeout=None)
    return value


def _schedules_announce(schedules: Iterable[Schedule], found: dict, now: int) -> bool:
    """Bump the tags of every schedule whose moment has come; True if any had."""
    came = False
    for schedule in schedules:
        # Lost (never looked up, evicted, Redis restarted): a moment may have passed unseen.
        moment = found.get(_skey(schedule.name), 1)
        if not moment or moment > now:
            continue
        came = True
        lock = f"sl:{schedule.name}"
        if _cache().add(lock, 1, timeout=30):
            try:
                _bump(schedule.tags)
                _schedule_refresh(schedule)
            finally:
                _cache().delete(lock)
        # Otherwise another process is announcing it: this request builds its page afresh.
    return came


# --- The release ----------------------------------------------------------------------------------

# Settings that shape pages; a change of any is a new release. (Never a secret.)
_RELEASE_SETTINGS = (
    "AGGREGATE_MIN_COUNT",
    "COMMENT_MODERATION",
    "COMMENT_MODERATION_VERIFIED",
    "LANGUAGE_CODE",
    "LANGUAGES",
    "TIME_ZONE",
    "STATIC_URL",
    "MEDIA_URL",
    "REST_FRAMEWORK",
    "VERIFICATION_CODE_TTL",
)


@functools.cache
def release() -> str:
    """What pages are built from besides the data: code, templates, catalogues, static names, settings."""
    base = Path(settings.BASE_DIR)
    files = {*base.glob("templates/**/*.html"), *base.glob("locale/**/*.mo")}
    for app in ("portal", "indicators", "feedback", "review"):
        files |= {*base.glob(f"{app}/**/*.py"), *base.glob(f"{app}/templates/**/*.html")}
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        files.add(manifest)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(base) if path.is_relative_to(base) else path.name).encode())
        digest.update(path.read_bytes())
    for name in _RELEASE_SETTINGS:
        digest.update(repr(getattr(settings, name, None)).encode())
    storage = settings.STORAGES["default"]
    digest.update(storage["BACKEND"].encode())
    for name in ("bucket_name", "endpoint_url", "custom_domain", "querystring_auth"):
        digest.update(repr(storage.get("OPTIONS", {}).get(name)).encode())
    return digest.hexdigest()[:16]


def _rkey() -> str:
    return f"r:{release()}"


def _release_seen(found: dict) -> int:
    """When this release served its first page (the floor of every Last-Modified)."""
    seen = found.get(_rkey())
    if seen is None:
        seen = _now_us()
        _cache().add(_rkey(), seen, timeout=None)
        seen = _cache().get(_rkey(), seen)
    return seen


# --- Serving ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How a view is cached."""

    # (request, *args, **kwargs) -> the tags its URL implies, read before the view runs.
    tags: Callable[..., Iterable[str]]
    # The query parameters the view reads (part of the key).
    params: frozenset[str] = frozenset()
    schedules: tuple[Schedule, ...] = (REPORT_SCHEDULE,)
    api: bool = False
    # False: HTTP headers only, never an entry (pages with unbounded keys).
    store: bool = True
    # An API list without rows is stored only when its parameters are bounded by the
    # data itself (a 404 answers an unknown item); free filters would let junk fill the cache.
    store_empty: bool = False


@dataclass
class _Entry:
    versions: dict[str, int]
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    etag: str


@dataclass
class _Recording:
    """The versions a page being built has read, and whether it may be stored."""

    versions: dict[str, int]
    store: bool = True
    # The versions read before the build began: its URL's tags, those found while building
    # it last time (asked with its entry) and those its stale entry holds. Data read at any
    # moment of the build is guarded by them (``read_before``), and ``depend`` takes them
    # instead of reading again.
    before: dict[str, int] = field(default_factory=dict)


_RECORDING = "_page_cache_recording"
# Headers the cache writes itself, or that must not be replayed.
_NOT_KEPT = {"content-length", "etag", "last-modified", "cache-control", "expires", "date", "set-cookie"}


def _django_request(request) -> HttpRequest:
    # DRF's Request wraps Django's.
    return getattr(request, "_request", request)


def _storing(request) -> _Recording | None:
    """The recording of a page being built to be stored (the page cache on, an entry to
    fill, not ``dont_store``'d), or None: the versions of a page not stored are never used."""
    recording: _Recording | None = getattr(_django_request(request), _RECORDING, None)
    return recording if recording is not None and recording.store else None


def depend(request, *tags: str) -> None:
    """The page being built is about to show data guarded by ``tags``: read their versions
    now, before the data (or take those read before the build began). A no-op outside a
    page being stored."""
    recording = _storing(request)
    if recording is None:
        return
    missing = [tag for tag in tags if tag not in recording.versions]
    before = recording.before
    recording.versions.update({tag: before[tag] for tag in missing if tag in before})
    recording.versions.update(_versions_read(tag for tag in missing if tag not in before))


def read_before(request, *tags: str) -> bool:
    """Whether data the page read at the start of its build (before it knew these tags) is
    guarded by ``tags``: always for a page not being stored; for one being stored, when the
    version of each was read before the build began, which is then what the page depends on
    (a version read earlier is never newer). False otherwise: the caller ``depend``s on them
    and reads the data again, after their versions."""
    recording = _storing(request)
    if recording is None:
        return True
    before = recording.before
    if not all(tag in before for tag in tags):
        return False
    recording.versions.update({tag: before[tag] for tag in tags})
    return True


def records(request) -> bool:
    """Whether ``depend`` records anything for this request (a page being built to be
    stored). A caller with many tags to build may skip building them when not."""
    return _storing(request) is not None


def dont_store(request) -> None:
    """This response must not be stored (a form with an invalid filter, an out-of-range page)."""
    recording: _Recording | None = getattr(_django_request(request), _RECORDING, None)
    if recording is not None:
        recording.store = False


def _api_variant(request: HttpRequest) -> str | None:
    """Only the JSON of an API view is stored; the browsable API is built each time."""
    wanted = request.GET.get("format")
    if wanted is not None:
        return "json" if wanted == "json" else None
    return None if "text/html" in request.META.get("HTTP_ACCEPT", "") else "json"


# The display mode (the large-text mode for older readers) a visitor chose, remembered in
# this cookie: ``large``, anything else the standard one. Pages differ by it, so does the key.
DISPLAY_COOKIE = "portal_display"


def _display(request: HttpRequest) -> str:
    return "large" if request.COOKIES.get(DISPLAY_COOKIE) == "large" else "standard"


def _entry_key(request: HttpRequest, policy: Policy, language: str) -> str | None:
    """The entry of this request, or None when it must not have one."""
    if request.COOKIES.get(CookieStorage.cookie_name):
        return None  # a flash message is waiting for this visitor
    variant = _api_variant(request) if policy.api else "html"
    if variant is None:
        return None
    query = []
    for name, values in request.GET.lists():
        if name not in policy.params:
            if policy.api:
                return None  # an API view may read any parameter
            continue  # a page reads only its own
        if len(values) > 1 or len(values[0]) > 100:
            return None
        query.append((name, values[0]))
    raw = "\n".join(
        [
            release(),
            request.scheme,
            request.get_host(),
            request.path,
            urlencode(sorted(query)),
            language,
            _display(request),
            variant,
        ]
    )
    return "e:" + hashlib.sha256(raw.encode()).hexdigest()


def _shareable(request: HttpRequest, response: HttpResponse) -> bool:
    """The response is the same for every visitor: it may go to a shared cache."""
    if response.cookies or response.streaming or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    session = getattr(request, "session", None)
    if session is not None and session.accessed:
        return False
    messages = getattr(request, "_messages", None)
    # ``_queued_messages``: added during this request (BaseStorage has no public name for it).
    if messages is not None and (messages.used or getattr(messages, "_queued_messages", None)):
        return False
    control = response.get("Cache-Control", "")
    return "private" not in control and "no-store" not in control


def _no_rows(response: HttpResponse) -> bool:
    data = getattr(response, "data", None)
    if isinstance(data, dict) and "results" in data:
        return not data["results"]
    return isinstance(data, list) and not data


def _public(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = (
        f"public, max-age=0, s-maxage={settings.PAGE_CACHE_S_MAXAGE}, "
        f"stale-while-revalidate={settings.PAGE_CACHE_STALE_WHILE_REVALIDATE}"
    )
    return response


def _headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Headers of a response that has no entry: public when shareable, else private."""
    if response.status_code == 200 and _shareable(request, response):
        return _public(response)
    if response.status_code == 200:
        response["Cache-Control"] = "private, no-store"
    return response


def _validated(request: HttpRequest, response: HttpResponse, entry: _Entry, modified: int) -> HttpResponse:
    """ETag and Last-Modified on a shareable response, and a 304 when the client has it."""
    _public(response)
    response["ETag"] = entry.etag
    last_modified = None
    if _now_us() - modified >= _SECOND_US:
        last_modified = modified // _SECOND_US
        response["Last-Modified"] = http_date(last_modified)
    if "HTTP_IF_NONE_MATCH" not in request.META and "HTTP_IF_MODIFIED_SINCE" not in request.META:
        return response
    return get_conditional_response(request, etag=entry.etag, last_modified=last_modified, response=response)


def _replay(entry: _Entry) -> HttpResponse:
    response = HttpResponse(entry.body, status=entry.status)
    for name, value in entry.headers:
        response[name] = value
    response["Content-Length"] = str(len(entry.body))
    return response


# Per process: the tags each entry's page found while being built (an item's aggregate and
# comments...), so the next request asks for their versions with the rest, in one round trip.
# Only a hint: an entry is still compared on every one of its tags.
_found_while_building: dict[str, tuple[str, ...]] = {}
_FOUND_WHILE_BUILDING_MAX = 20_000


def _remember_found(key: str, versions: dict[str, int], static: list[str]) -> None:
    if len(_found_while_building) >= _FOUND_WHILE_BUILDING_MAX:
        _found_while_building.clear()
    _found_while_building[key] = tuple(tag for tag in versions if tag not in static)


def serve(
    request: HttpRequest,
    build: Callable[[HttpRequest], HttpResponse],
    policy: Policy,
    args: tuple,
    kwargs: dict,
    *,
    language: str,
) -> HttpResponse:
    """Answer a GET of a cached view from its entry, or ``build`` it and store it.

    Called by ``portal.middleware.PageCacheMiddleware`` above the middleware that
    deal with sessions, CSRF and messages: a hit skips them and the view, and a
    stored response is the one they made (cookies, ``Vary``, headers included).
    """
    key = _entry_key(request, policy, language) if settings.PAGE_CACHE and policy.store else None
    if key is None:
        return _headers(request, build(request))

    static = list(dict.fromkeys(policy.tags(request, *args, **kwargs)))
    # The versions of the tags found while building it last time come in the same round trip.
    asked = list(dict.fromkeys([*static, *_found_while_building.get(key, ())]))
    found = redis_link.get_many(
        ALIAS, [key, _rkey(), *(_vkey(tag) for tag in asked), *(_skey(s.name) for s in policy.schedules)]
    )
    seen = _release_seen(found)
    came = _schedules_announce(policy.schedules, found, _now_us())
    entry: _Entry | None = found.get(key)
    current = {tag: found.get(_vkey(tag)) for tag in asked}
    if entry is not None and not came and set(static) <= entry.versions.keys():
        unasked = [tag for tag in entry.versions if tag not in current]
        if unasked:
            later = redis_link.get_many(ALIAS, [_vkey(tag) for tag in unasked])
            current.update({tag: later.get(_vkey(tag)) for tag in unasked})
            _remember_found(key, entry.versions, static)
        if all(current[tag] == version for tag, version in entry.versions.items()):
            return _validated(request, _replay(entry), entry, max([seen, *entry.versions.values()]))

    # Read again: a schedule that came may have bumped them, and a tag never seen starts now.
    versions = _versions_read(static)
    before = {tag: version for tag, version in current.items() if version is not None}
    recording = _Recording(versions=versions, before={**before, **versions})
    setattr(request, _RECORDING, recording)
    try:
        response = build(request)
    finally:
        delattr(request, _RECORDING)
    if (
        response.status_code != 200
        or not recording.store
        or not _shareable(request, response)
        or (policy.api and not policy.store_empty and _no_rows(response))
    ):
        return _headers(request, response)
    versions = recording.versions
    etag = quote_etag(hashlib.sha256(f"{key}{sorted(versions.items())}".encode()).hexdigest()[:32])
    entry = _Entry(
        versions=versions,
        status=response.status_code,
        headers=[(name, value) for name, value in response.items() if name.lower() not in _NOT_KEPT],
        body=response.content,
        etag=etag,
    )
    _cache().set(key, entry, timeout=settings.PAGE_CACHE_TIMEOUT)
    _remember_found(key, versions, static)
    return _validated(request, response, entry, max([seen, *versions.values()]))


# Per process: the policy (and arguments) of each path, as the URL resolver found it.
_resolved: dict[tuple[str, str], tuple[Policy, tuple, dict] | None] = {}
_RESOLVED_MAX = 20_000


def policy_for(request: HttpRequest) -> tuple[Policy, tuple, dict] | None:
    """The cache policy of the view ``request`` goes to, with its URL arguments, or None."""
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    memo = (str(urlconf), request.path_info)
    if memo in _resolved:
        return _resolved[memo]
    try:
        match = resolve(request.path_info, urlconf)
    except Resolver404:
        found = None
    else:
        policy = getattr(match.func, "page_cache_policy", None)
        found = (policy, match.args, match.kwargs) if policy is not None else None
    if len(_resolved) >= _RESOLVED_MAX:
        _resolved.clear()  # paths nobody links to (404s) must not grow it without bound
    _resolved[memo] = found
    return found


def cached_page(
    *,
    tags: Callable[..., Iterable[str]] | Iterable[str] = (),
    params: Iterable[str] = (),
    schedules: Iterable[Schedule] = (REPORT_SCHEDULE,),
    store: bool = True,
):
    """Mark a public page view as served from the page cache (``serve``).

    ``tags``: the tags the URL implies, or a function of the view's arguments
    returning them; ``params``: the query parameters the view reads;
    ``store=False``: shareable HTTP headers only, no entry.
    """
    fixed = tuple(() if callable(tags) else tags)
    policy = Policy(
        tags=tags if callable(tags) else (lambda request, *args, **kwargs: fixed),
        params=frozenset(params),
        schedules=tuple(schedules),
        store=store,
    )

    def decorator(view):
        # Read by ``policy_for``; decorators applied later copy it (functools.wraps).
        view.page_cache_policy = policy
        return view

    return decorator


class CachedReadView:
    """Mixin (first among the bases) of a read API view: its GETs go through the page cache."""

    page_params: tuple[str, ...] = ()
    page_schedules: tuple[Schedule, ...] = (REPORT_SCHEDULE,)
    page_store_empty = False

    @classmethod
    def page_tags(cls, request: HttpRequest, *args, **kwargs) -> Iterable[str]:
        return (REPORT,)

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        view.page_cache_policy = Policy(
            tags=cls.page_tags,
            params=frozenset((*cls.page_params, "format")),
            schedules=cls.page_schedules,
            api=True,
            store_empty=cls.page_store_empty,
        )
        return view
