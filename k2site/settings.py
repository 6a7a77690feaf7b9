"""K2 Site settings: one module, everything that varies comes from the environment.

The names and defaults are the public contract in shared/CONTRACT.md:
DATABASE_URL, DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS, CACHE_URL,
MEDIA_ROOT.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = [
    host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "taggit",
    "django_filters",
    "simple_history",
    # The JSON API (api/): Django REST framework, its OpenAPI schema, CORS.
    "rest_framework",
    "drf_spectacular",
    "corsheaders",
    # Admin login throttling (see "Security" below).
    "axes",
    # The apps, lowest layer first (README, "Tour"); k2site itself is the
    # project package only. common/ holds no models and is not an app.
    "catalog",
    "editorial",
    "studies",
    "articles",
    "discovery",
    "api",
    "following",
    "sampledata",
]

MIDDLEWARE = [
    # Public pages written as files for nginx (WEB_CACHE_DIR): first, so the
    # file holds the response as it leaves.
    "k2site.middleware.PageFileMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # CORS headers on /api/ only (CORS_URLS_REGEX), before anything that answers.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "k2site.middleware.RejectNulMiddleware",
    # ETag on every page and feed; a matching If-None-Match gets a 304.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Anonymous pages from the cache; a hit skips what follows (one cache
    # round trip, like the scheduled check below costs on a miss).
    "k2site.middleware.PageCacheMiddleware",
    "k2site.middleware.ScheduledVisibilityMiddleware",
    # Last, as django-axes asks: counts failed admin logins, locks out.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "k2site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "k2site.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "k2site.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A page reads a few dozen rows: parallel workers cost more to start than
    # they save, and take cores from other requests (bench/RESULTS.md).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c max_parallel_workers_per_gather=0")


def cache_config(url):
    """CACHE_URL: redis://… for a cache shared by every app server, else local memory."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        # Fails soft: a cache outage slows pages down, never takes them down.
        return {"BACKEND": "k2site.cache_backend.FailSoftRedisCache", "LOCATION": url}
    if url.startswith("dummy://"):
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "k2site"}


CACHES = {"default": cache_config(os.environ.get("CACHE_URL", ""))}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed, content-hashed file names: cache-busted and served by whitenoise.
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# A template naming a file that collectstatic has not seen falls back to the
# plain name instead of failing the page.
WHITENOISE_MANIFEST_STRICT = False

MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Who sends a study's PDF once studies.views.study_pdf allowed it: "django"
# (streams it), "nginx" (X-Accel-Redirect to PRIVATE_MEDIA_INTERNAL_URL, an
# internal location) or "apache" (X-Sendfile). README: "Running in production".
PRIVATE_MEDIA_SERVER = os.environ.get("PRIVATE_MEDIA_SERVER", "django")
if PRIVATE_MEDIA_SERVER not in {"django", "nginx", "apache"}:
    raise ImproperlyConfigured("PRIVATE_MEDIA_SERVER must be django, nginx or apache.")
PRIVATE_MEDIA_INTERNAL_URL = os.environ.get("PRIVATE_MEDIA_INTERNAL_URL", "/protected-media/")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# "bone" and "Bone" are one tag.
TAGGIT_CASE_INSENSITIVE = True

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "k2site@localhost")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS", False)
# A mail server that hangs must not hold a request (notifications are sent
# after the change commits, and a failure is only logged).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# Prefix for links in emails (workflow notifications), e.g. https://k2.example.org
SITE_URL = os.environ.get("SITE_URL", "")

# --- Following a topic by email (following/, README "Following a topic") --------
# Digests go out from FOLLOW_DIGEST_HOUR (UTC) on: daily, or Mondays for weekly
# ones (manage.py send_digests, from cron). Sign-up limits: confirmation mails
# per address per day (any topic), sign-ups per client address per hour.
FOLLOW_DIGEST_HOUR = int(os.environ.get("FOLLOW_DIGEST_HOUR", "6"))
FOLLOW_DIGEST_MAX_ENTRIES = int(os.environ.get("FOLLOW_DIGEST_MAX_ENTRIES", "50"))
FOLLOW_MAILS_PER_ADDRESS_PER_DAY = int(os.environ.get("FOLLOW_MAILS_PER_ADDRESS_PER_DAY", "3"))
FOLLOW_SIGNUPS_PER_IP_PER_HOUR = int(os.environ.get("FOLLOW_SIGNUPS_PER_IP_PER_HOUR", "10"))
# --- end of following -------------------------------------------------------------

# bench/: a trivial /bench/hello view, the baseline for requests per second.
BENCH_HELLO = env_flag("K2_BENCH_HELLO", False)

# The listing index's covering index (include=…) is PostgreSQL's; SQLite
# builds the same index without the extra columns, which is all it can do.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

SITE_NAME = "K2 Site"
# Entries per page in every public listing.
LISTING_PAGE_SIZE = 50
# Tags one intersection, its feed and export, or /studies/?tag= may name.
MAX_TAGS_PER_LISTING = int(os.environ.get("MAX_TAGS_PER_LISTING", "6"))
# How long the web server in front may keep a public page (k2site.middleware,
# deploy/nginx-page-cache.conf): a publish or unpublish shows within this.
WEB_CACHE_SECONDS = int(os.environ.get("WEB_CACHE_SECONDS", "5"))
# Where the app writes public pages as files nginx on the same machine sends
# itself (k2site.page_files, deploy/nginx-page-files.conf); empty: off.
WEB_CACHE_DIR = os.environ.get("WEB_CACHE_DIR", "")
# The evidence timeline on tag and intersection pages (issue 14); off, the
# pages skip the chart and the query only it needs (bench/measure.py compares).
EVIDENCE_TIMELINE = env_flag("EVIDENCE_TIMELINE", True)
# The sitemap lists the two-tag intersections with at least this many
# published entries (small, so a small site's intersections are listed too).
SITEMAP_MIN_INTERSECTION_ENTRIES = int(os.environ.get("SITEMAP_MIN_INTERSECTION_ENTRIES", "3"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# --- Security (README: "Running in production") -------------------------------
# The headers that give the Mozilla Observatory's A+: HSTS (with HTTPS), a
# Content-Security-Policy without unsafe-inline/eval, X-Frame-Options and
# frame-ancestors, nosniff, Referrer-Policy, Permissions-Policy, secure cookies.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# DJANGO_HTTPS=1 when the site is reached over HTTPS (always, in production):
# redirect plain HTTP, secure cookies, and HSTS for DJANGO_HSTS_SECONDS
# (default six months; include subdomains and preload unless turned off).
HTTPS = env_flag("DJANGO_HTTPS", False)
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(180 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy (nginx) that sets X-Forwarded-Proto: trust it
# only then, and only when the proxy overwrites the header from clients.
BEHIND_PROXY = env_flag("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# django-csp: everything from this site only; images also from https (articles
# may show figures from journals). The admin needs nothing more: Django's
# admin has no inline script or style. A PDF download carries its own
# sandboxing policy (studies.pdf), which the middleware leaves alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# django-permissions-policy: no page uses these browser features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "browsing-topics",
    )
}

# django-axes: five failed admin logins from one address for one username
# lock that pair out for an hour (the lockout page says so). A superuser
# unlocks in the admin (Axes → Access attempts: delete the row) or with
# `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
AXES_RESET_ON_SUCCESS = True
# The client's address: behind the proxy, the X-Real-IP it sets (and
# overwrites, so clients cannot choose their address), else REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "k2site.middleware.client_ip"

# --- Read replicas (k2site/db_router.py) --------------------------------------
# DATABASE_REPLICA_URLS: comma-separated URLs of streaming replicas of
# DATABASE_URL. Each becomes DATABASES["replica_<n>"], and the router sends a
# request's reads there (the admin, writes and what follows a write: the
# primary). Unset: one database, no router. (Lower-case names: not settings,
# so the URLs never show on a debug page.)
_replica_urls = [url.strip() for url in os.environ.get("DATABASE_REPLICA_URLS", "").split(",") if url.strip()]
for _index, _url in enumerate(_replica_urls):
    _replica = dj_database_url.parse(
        _url,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=DATABASES["default"].get("CONN_HEALTH_CHECKS", False),
    )
    # Tests: the replicas are the test database under another name.
    _replica["TEST"] = {"MIRROR": "default"}
    if _replica["ENGINE"].endswith("postgresql"):
        _options = _replica.setdefault("OPTIONS", {})
        if "options" in DATABASES["default"].get("OPTIONS", {}):
            _options.setdefault("options", DATABASES["default"]["OPTIONS"]["options"])
        # Seconds before an unreachable replica counts as down (libpq's minimum
        # is 2); its reads then go to the primary. A refused one fails at once.
        _options.setdefault("connect_timeout", 2)
    DATABASES[f"replica_{_index}"] = _replica
if _replica_urls:
    DATABASE_ROUTERS = ["k2site.db_router.PrimaryReplicaRouter"]
# --- end of read replicas ------------------------------------------------------

# --- The JSON API (api/, README "JSON API") -------------------------------------
# Anonymous and read-only: no authentication (so no session is read and the
# page cache applies), JSON only, errors as {"detail": …}. API_THROTTLE_RATE:
# requests per client address (django-axes' notion of it), counted in the
# site's cache; past it, 429 with Retry-After.
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "120/minute")
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientAddressThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_THROTTLE_RATE},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.handler",
    "DEFAULT_METADATA_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "K2 Site API",
    "DESCRIPTION": "Published studies, articles and categories as JSON: the same data as the pages.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}
# Public data: any site may read it from a browser, GET only, no cookies.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False
# --- end of the JSON API ---------------------------------------------------------

# --- Fill from DOI or PMID (studies/lookup.py) ----------------------------------
# The study admin's "Fill from DOI or PMID" asks Crossref (DOIs) and PubMed
# E-utilities (PMIDs) from the server, with SITE_NAME and DEFAULT_FROM_EMAIL
# in its User-Agent. LOOKUP_TIMEOUT: seconds before a silent service counts
# as not answering (the editor is told so and types the fields by hand).
CROSSREF_API_URL = os.environ.get("CROSSREF_API_URL", "https://api.crossref.org").rstrip("/")
PUBMED_EUTILS_URL = os.environ.get("PUBMED_EUTILS_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils").rstrip("/")
LOOKUP_TIMEOUT = float(os.environ.get("LOOKUP_TIMEOUT", "5"))
# --- end of fill from DOI or PMID ------------------------------------------------
