"""Settings for the health-check participation portal.

One module, read from the environment. The embedded defaults (SQLite, tasks
run in-process, local-memory cache) exist for a first look on one machine and are
only taken with ``DEBUG`` on or ``EMBEDDED`` on; any other process (``DEBUG`` off)
refuses to start without ``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL`` and
``REDIS_URL``.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from feedback.addresses import parse_trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The one-machine first look (scripts/serve): DEBUG off, so residents never see a debug
# page, yet SQLite, in-process tasks and a per-process cache are allowed, on plain http
# on loopback. Never in production: `manage.py check --deploy` flags it (portal.W001),
# and one process's cache cannot hold the rate limits of several.
EMBEDDED = env.bool("EMBEDDED", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-used-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin with the portal's own site, and django-axes under a Chinese name (portal/admin.py).
    "portal.admin.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "portal.admin.AxesConfig",
    # Wiring only (portal/apps.py): the deploy check that refuses the embedded mode.
    "portal",
    "indicators",
    "feedback",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files need no policy of their own; every page gets one.
    # django-csp's, with the settings' policy built once (portal/middleware.py).
    "portal.middleware.ContentSecurityPolicyMiddleware",
    # Outside every middleware that sets a cookie, so it sees them: what no view declared
    # shareable, and whatever sets a cookie, is "private, no-store".
    "portal.middleware.CacheControlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.ChineseFirstLocaleMiddleware",
    # Before anything reads the body (CSRF, views): short, chunked, oversized or
    # mis-encoded bodies get a clear 400/411/413 in the visitor's language.
    "portal.request_guards.RequestBodyGuardMiddleware",
    # Answers cached public pages before CSRF, authentication, messages and the views run,
    # and stores what they made of a page (indicators/cache.py).
    "portal.middleware.PageCacheMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that a locked-out login is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data stores -----------------------------------------------------------

# With DEBUG off a missing DATABASE_URL or REDIS_URL is a mistake, not a wish for the
# embedded stores: SQLite and per-process caches would silently break the shared rate
# limits and lose tasks. Only the explicit embedded mode may go without them.
if not (DEBUG or EMBEDDED):
    _missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.str(name, default="")]
    if _missing:
        raise ImproperlyConfigured(
            f"{' and '.join(_missing)} must be set when DEBUG is off "
            "(or EMBEDDED=1 for the one-machine first look, never in production)."
        )

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, health-checking a reused connection only after it has been idle
    # for CONN_HEALTH_CHECK_DELAY seconds (portal/db/postgresql/base.py): under load a
    # connection that answered a request a moment ago needs no SELECT 1 before the next.
    # 0: a check before every request that reuses a connection, as Django does.
    DATABASES["default"]["ENGINE"] = "portal.db.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECK_DELAY"] = env.float("CONN_HEALTH_CHECK_DELAY", default=1.0)
# The compiled reads (indicators/compiled.py) are prepared statements on PostgreSQL, once per
# connection: off (0) behind a pooler in transaction mode (PgBouncer), which would run them
# on a connection that never prepared them.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the Celery broker and the shared cache (rate limits, login lockout).
# Without it (the embedded default) tasks run in-process and the cache is local.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # A Redis outage must not turn a resident's submission into a 500:
                # the cache degrades to misses and the data lands in PostgreSQL.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The page cache of the public pages and the read API (indicators/cache.py): whole
# responses with versioned tags, so every write makes exactly the pages it changes fresh.
# On wherever the cache is shared (Redis); without REDIS_URL it is off unless PAGE_CACHE=1,
# since a per-process cache would not hear what another process (a manage.py command)
# wrote. PAGE_CACHE=0 builds every page afresh (bench/http measures both).
PAGE_CACHE = env.bool("PAGE_CACHE", default=bool(REDIS_URL))
# Seconds an entry lives at most: memory, and the staleness a bump lost to a Redis
# outage could leave (a write always bumps, so entries are never staler otherwise).
PAGE_CACHE_TIMEOUT = env.int("PAGE_CACHE_TIMEOUT", default=600)
# What shared caches in front (a CDN, a proxy) may do with public pages: keep them this
# many seconds, then serve them this many more while fetching a fresh copy. Browsers
# revalidate every time (max-age=0), which costs a 304.
PAGE_CACHE_S_MAXAGE = env.int("PAGE_CACHE_S_MAXAGE", default=60)
PAGE_CACHE_STALE_WHILE_REVALIDATE = env.int("PAGE_CACHE_STALE_WHILE_REVALIDATE", default=60)
CACHES["pages"] = {
    **CACHES["default"],
    "KEY_PREFIX": "pages",
    "TIMEOUT": PAGE_CACHE_TIMEOUT,
    # Its own local-memory store when there is no Redis.
    **({} if REDIS_URL else {"LOCATION": "pages"}),
}

# --- Celery ----------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "Asia/Shanghai"
# Publishing must fail fast when Redis is down: the submission is already
# committed and the periodic reconciliation will catch up.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # A Redis host that vanishes without closing its sockets is noticed, not waited on forever.
    "socket_keepalive": True,
    "visibility_timeout": 600,
}
CELERY_TASK_PUBLISH_RETRY = False
# A worker outlives a Redis outage: it retries the connection for as long as the
# outage lasts (the default gives up after 100 attempts, about 50 minutes, and
# exits), also when it starts before Redis does. Tasks running when the
# connection drops run to the end: they are idempotent recomputations, and
# cancelling one kills its pool process mid-transaction for nothing.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# kombu's Redis transport with a guard that keeps the worker alive when the
# connection is lost while it holds unacknowledged messages (portal/celery.py).
CELERY_BROKER_TRANSPORT = "portal.celery:RedisTransport" if REDIS_URL.startswith("redis://") else None
CELERY_BEAT_SCHEDULE = {
    "reconcile-aggregates": {
        "task": "feedback.tasks.aggregates_reconcile",
        "schedule": timedelta(minutes=env.int("RECONCILE_EVERY_MINUTES", default=10)),
    },
    "planner-daily-digest": {
        "task": "review.tasks.planner_digest_send",
        "schedule": crontab(hour=8, minute=0),
    },
    "photo-files-prune": {
        "task": "indicators.tasks.photo_files_prune",
        "schedule": crontab(minute=17),
    },
}

# --- Auth ------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "review:login"

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Uploaded photos are the only files the site writes. On one host they sit in MEDIA_ROOT
# (nginx serves MEDIA_URL from it); with S3_BUCKET set they go to an S3-compatible store
# (AWS, MinIO, OSS, COS ...) and pages link to the store's URLs, so no web host keeps state
# and web processes scale across hosts.
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            # Empty keys leave boto3 its own chain (instance role, AWS_* variables).
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "custom_domain": env.str("S3_CUSTOM_DOMAIN", default="") or None,
            # "virtual" (bucket.host/key) for stores that refuse host/bucket/key, as Aliyun OSS
            # and Tencent COS do; empty lets boto3 choose (path style on a custom endpoint).
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="") or None,
            # Photos are public: plain URLs a CDN and browsers can cache, not signed ones
            # that expire inside cached pages. The bucket must allow public reads.
            "querystring_auth": env.bool("S3_QUERYSTRING_AUTH", default=False),
            # Two uploads named "IMG_0001.jpg" must not replace each other, as they don't on disk.
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# collectstatic keeps only the fingerprinted files ({% static %} links to nothing else)
# and compresses those alone: half the CPU of a deploy (brotli is slow) and of the disk.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True

# --- API -------------------------------------------------------------------

REST_FRAMEWORK = {
    # drf-spectacular's, documenting the 400/404/415 every view can answer (portal/api_schema.py).
    "DEFAULT_SCHEMA_CLASS": "portal.api_schema.PortalAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        # DRF's, with <html lang> (portal/api_renderers.py).
        "portal.api_renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "portal.api_errors.api_exception_handler",
    # JSON with depth, size and text limits (portal/api_parsers.py); forms as DRF parses them.
    "DEFAULT_PARSER_CLASSES": [
        "portal.api_parsers.GuardedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "北京城市总体规划实施体检 · 公众参与 API",
    "DESCRIPTION": "Public read API of the health-check report, and the submission API for residents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI would otherwise send the schema's address to validator.swagger.io for a
    # badge: nothing on the docs pages leaves this site (connect-src and img-src 'self').
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
}

# Request bodies larger than this are refused with 413 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Import/export -----------------------------------------------------------

IMPORT_EXPORT_USE_TRANSACTIONS = True
# The uploaded file waits between preview and confirm in the shared cache, not in
# this host's /tmp: the confirm may reach another web process or host.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- E-mail ------------------------------------------------------------------

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG or EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- SMS (verified tier) ------------------------------------------------------------

# Chosen like EMAIL_BACKEND (feedback/sms/__init__.py lists the backends). The console backend
# prints the codes, so it is only the development default. The provider protocol is described in
# feedback/sms/backends/http.py. Missing provider settings raise ImproperlyConfigured when a message
# is sent, not here, so that `manage.py check` and the test suite run without a provider.
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="feedback.sms.backends.console.SmsBackend"
    if DEBUG or EMBEDDED
    else "feedback.sms.backends.http.SmsBackend",
)
SMS_API_URL = env.str("SMS_API_URL", default="")
SMS_API_KEY = env.str("SMS_API_KEY", default="")
SMS_API_SECRET = env.str("SMS_API_SECRET", default="")
SMS_APP_ID = env.str("SMS_APP_ID", default="")
# The signature (签名) and template the provider approved; the template takes its parameters by position.
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="")
SMS_TEMPLATE_ID = env.str("SMS_TEMPLATE_ID", default="")
# Seconds per connect or read, so a hung provider cannot hold a resident's request for long.
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=5.0)
# Where the file backend writes (SMS_BACKEND=feedback.sms.backends.filebased.SmsBackend).
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default=str(BASE_DIR / "sent-sms"))

# --- Security ------------------------------------------------------------------

# The reverse proxies in front of gunicorn (comma-separated addresses/CIDRs, e.g.
# "172.18.0.0/16"): X-Forwarded-For is read only when the direct peer is one of them,
# and then only the hops they appended (feedback/addresses.py). Empty: no header is
# trusted and the peer is the client. Parsed here, once; a bad entry stops the start.
TRUSTED_PROXIES = parse_trusted_proxies(env.str("TRUSTED_PROXIES", default=""))
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from anyone who
# reaches gunicorn. gunicorn believes it only from TRUSTED_PROXIES (gunicorn.conf.py,
# forwarded_allow_ips) and sets the request's scheme from it; Django reads that scheme.
# The embedded mode serves plain http on loopback: https-only settings would lock it out.
_HTTPS = not (DEBUG or EMBEDDED)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=_HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _HTTPS
SECURE_HSTS_PRELOAD = _HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django-csp): scripts, styles, fonts and
# connections from this site only; no inline script or style, no eval; templates carry
# none (tests/test_security_headers.py scans them). The one nonce is ReDoc's: its bundle
# injects <style> elements at run time and stamps them with the nonce it is given
# (static/js/redoc-init.js); django-csp adds 'nonce-…' to style-src only on a response
# whose request read ``request.csp_nonce``, so every other page has plain 'self'.
# Uploaded photos may come from elsewhere: an absolute MEDIA_URL (a CDN), or the
# object store of the default storage (its endpoint, custom domain, or AWS's own host).
# Those origins are allowed for images, and for nothing else.


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


_store = STORAGES["default"].get("OPTIONS", {})
_bucket, _region = _store.get("bucket_name"), _store.get("region_name")
_MEDIA_ORIGINS = [
    origin
    for origin in (
        _origin(MEDIA_URL),
        _origin(_store.get("endpoint_url")),
        _origin(f"https://{_store['custom_domain']}") if _store.get("custom_domain") else None,
        # No endpoint: boto3 links to the bucket's virtual host on AWS.
        f"https://{_bucket}.s3.amazonaws.com" if _bucket and not _store.get("endpoint_url") else None,
        f"https://{_bucket}.s3.{_region}.amazonaws.com"
        if _bucket and _region and not _store.get("endpoint_url")
        else None,
    )
    if origin
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", *_MEDIA_ORIGINS],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Participation (feedback app) -------------------------------------------------

# "pre": a comment is public only once approved (the norm on government sites);
# "post": public at once unless a sensitive word or a link holds it for review.
COMMENT_MODERATION = env.str("COMMENT_MODERATION", default="pre")
# Rate limits, django-ratelimit syntax ("count/period").
RATE_LIMIT_RATINGS = env.str("RATE_LIMIT_RATINGS", default="60/h")
RATE_LIMIT_COMMENTS = env.str("RATE_LIMIT_COMMENTS", default="10/h")
RATE_LIMIT_SURVEY = env.str("RATE_LIMIT_SURVEY", default="20/h")
RATE_LIMIT_PER_IP_FACTOR = env.int("RATE_LIMIT_PER_IP_FACTOR", default=20)
# Below this many ratings the mean is withheld (评价人数不足).
AGGREGATE_MIN_COUNT = env.int("AGGREGATE_MIN_COUNT", default=5)
RATELIMIT_USE_CACHE = "default"

# --- Trustworthy scores: held ratings (README "Trustworthy scores") --------------------

# New anonymous identities (a submission without a resident cookie) per client address.
# Beyond it submissions are stored and acknowledged as usual but *held* (not counted until
# a person decides), never refused: carrier-grade NAT puts hundreds of phones, a school or
# an office its whole network, behind one address. 20 an hour is more than a household or
# a café makes, and caps a cookie-dropping script at 20 counted voices an hour.
RATE_LIMIT_NEW_RESIDENTS = env.str("RATE_LIMIT_NEW_RESIDENTS", default="20/h")
# The anomaly rules (feedback/anomaly.py) run before every aggregate refresh over the
# ratings changed in the last ANOMALY_WINDOW_MINUTES; each holds what exceeds its threshold.
ANOMALY_WINDOW_MINUTES = env.int("ANOMALY_WINDOW_MINUTES", default=60)
# After this many hours a submission's keyed address hash is cleared (the reconciliation
# does it): the rules need only the window above. Held rows keep it until decided.
SOURCE_HASH_RETENTION_HOURS = env.int("SOURCE_HASH_RETENTION_HOURS", default=24)
# (a) More ratings of one item from one address than this: the rest are held. Same figure
# as the identity limit, so one address adds at most 20 counted voices to an item an hour.
ANOMALY_SOURCE_ITEM_MAX = env.int("ANOMALY_SOURCE_ITEM_MAX", default=20)
# (b) An item with more ratings than ANOMALY_FEW_SOURCES_MIN_RATINGS, at least
# ANOMALY_FEW_SOURCES_SHARE % of them from at most ANOMALY_FEW_SOURCES_MAX addresses:
# those addresses keep one counted rating each. Many honest raters come from many addresses.
ANOMALY_FEW_SOURCES_MIN_RATINGS = env.int("ANOMALY_FEW_SOURCES_MIN_RATINGS", default=30)
ANOMALY_FEW_SOURCES_SHARE = env.int("ANOMALY_FEW_SOURCES_SHARE", default=80)
ANOMALY_FEW_SOURCES_MAX = env.int("ANOMALY_FEW_SOURCES_MAX", default=3)
# (c) At least ANOMALY_RUN_MIN ratings with one score from residents created within the
# window, making up at least ANOMALY_RUN_SHARE % of the item's ratings: the run is held
# from its ANOMALY_RUN_MIN-th rating. An item rarely gets 15 new raters an hour, and honest
# ones disagree.
ANOMALY_RUN_MIN = env.int("ANOMALY_RUN_MIN", default=15)
ANOMALY_RUN_SHARE = env.int("ANOMALY_RUN_SHARE", default=90)
# (d) More residents created within the window behind one address than this: the ratings
# of the later ones are held (the identity limit above, enforced again from the database).
ANOMALY_NEW_RESIDENTS_PER_SOURCE = env.int("ANOMALY_NEW_RESIDENTS_PER_SOURCE", default=20)
# (e) Between these local hours (TIME_ZONE; start inclusive, end exclusive, may wrap midnight;
# equal hours switch the rule off), more ratings of one item in the window than
# ANOMALY_NIGHT_MAX: the rest are held.
ANOMALY_NIGHT_START_HOUR = env.int("ANOMALY_NIGHT_START_HOUR", default=1)
ANOMALY_NIGHT_END_HOUR = env.int("ANOMALY_NIGHT_END_HOUR", default=6)
ANOMALY_NIGHT_MAX = env.int("ANOMALY_NIGHT_MAX", default=10)

# --- Verified tier (后台实名, feedback/verification.py) ---------------------------------

# Moderation of comments by residents who verified a mobile number: "pre" or "post", as
# COMMENT_MODERATION, which it follows unless set. Words, links or personal data still hold a comment.
COMMENT_MODERATION_VERIFIED = env.str("COMMENT_MODERATION_VERIFIED", default=COMMENT_MODERATION)
# Seconds an SMS code stays valid, and wrong attempts after which it is dead.
VERIFICATION_CODE_TTL = env.int("VERIFICATION_CODE_TTL", default=300)
VERIFICATION_MAX_ATTEMPTS = env.int("VERIFICATION_MAX_ATTEMPTS", default=5)
# Seconds before the same number may get another code, and codes per number and per client
# address ("count/period"): the form must not become a way to flood a phone or to guess codes.
VERIFICATION_RESEND_INTERVAL = env.int("VERIFICATION_RESEND_INTERVAL", default=60)
VERIFICATION_PHONE_RATE = env.str("VERIFICATION_PHONE_RATE", default="5/h")
VERIFICATION_ADDRESS_RATE = env.str("VERIFICATION_ADDRESS_RATE", default="20/h")
# Verification requests (send, confirm) per resident, like RATE_LIMIT_RATINGS
# (× RATE_LIMIT_PER_IP_FACTOR per address).
RATE_LIMIT_VERIFICATION = env.str("RATE_LIMIT_VERIFICATION", default="20/h")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Feedback app: submissions and aggregation (issue 3) ---------------------------------

# A Redis outage must not refuse residents' submissions: the limiter lets them through.
RATELIMIT_FAIL_OPEN = True
# Seconds a refresh waits so that a burst of ratings on one item costs one recomputation.
AGGREGATE_REFRESH_DELAY = env.float("AGGREGATE_REFRESH_DELAY", default=2.0)
# A web worker marks its requests' refreshes together every so many seconds, in one round
# trip to Redis (feedback/tasks.py; 0: each request marks its own after its commit).
AGGREGATE_REFRESH_BATCH_SECONDS = env.float("AGGREGATE_REFRESH_BATCH_SECONDS", default=0.05)
# How long an aggregate stays marked "refresh queued" if its task never runs.
AGGREGATE_REFRESH_PENDING_TTL = env.int("AGGREGATE_REFRESH_PENDING_TTL", default=60)
# How long an unacknowledged task waits before Redis hands it to another worker
# (a worker killed mid-task), and how often workers look for such tasks
# (every interval × throttle seconds). Tests shorten them to see the redelivery.
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    unacked_restore_interval=env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    unacked_restore_throttle=env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
)

# --- Review workspace (planners) ------------------------------------------------

# A locked-out login gets a page that says so (HTTP 429), in the workspace's look.
AXES_LOCKOUT_TEMPLATE = "review/lockout.html"
# axes records a keyed hash of the address, never the address (review/security.py).
AXES_CLIENT_IP_CALLABLE = "review.security.client_ip_pseudonym"
# Where the file e-mail backend writes (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "sent-mail"))

# --- Every voice gets an answer (issue 8) ------------------------------------------

# A case's time limit: this many working days from receipt (weekends off; the holiday
# calendar staff edit in the admin adds days off and working weekends). 响应率 on
# /accountability/ is the share of cases first answered within it.
CASE_REPLY_WORKING_DAYS = env.int("CASE_REPLY_WORKING_DAYS", default=5)
# The public accountability figures are recomputed from the cases this many seconds after
# an answer (a burst costs one run), and every ACCOUNTABILITY_REFRESH_MINUTES regardless.
ACCOUNTABILITY_REFRESH_DELAY = env.int("ACCOUNTABILITY_REFRESH_DELAY", default=30)
CELERY_BEAT_SCHEDULE["accountability-refresh"] = {
    "task": "review.tasks.accountability_refresh",
    "schedule": timedelta(minutes=env.int("ACCOUNTABILITY_REFRESH_MINUTES", default=30)),
}
