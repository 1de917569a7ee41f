"""Settings for mesh-ui, read only from environment variables (see ``.env.example``).

With nothing set, mesh-ui runs on its embedded default: SQLite in WAL mode under ``var/``, a Celery broker on the
file system that needs no server, and whatever clusters ``MESH_UI_CLUSTERS`` names (the demo launcher points it
at the Bookinfo simulator).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from mesh_ui.env import (
    DEBUG_SECRET_KEY,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    parse_cache_url,
    parse_clusters,
    parse_database_url,
    parse_proxy_ssl_header,
)
from sso.config import OIDC_VARIABLES, build_oidc_config
from topology.health import build_health_config
from topology.retention import parse_duration, parse_retention


def _seconds(name: str, text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MESH_UI_VAR_DIR", str(BASE_DIR / "var")))

# --- Security -------------------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
# A deployment sets this so that even a DEBUG=1 slip cannot fall back to the public debug key.
MESH_UI_REQUIRE_SECRET_KEY = env_bool("MESH_UI_REQUIRE_SECRET_KEY", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG or MESH_UI_REQUIRE_SECRET_KEY:
        # Sessions and CSRF tokens are signed with it: a fixed, public key would let anyone forge a login.
        why = "MESH_UI_REQUIRE_SECRET_KEY is on" if DEBUG else "DEBUG is off"
        raise ImproperlyConfigured(
            f"SECRET_KEY: not set ({why}); set SECRET_KEY (or SECRET_KEY_FILE) to a long random value, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))' (make demo makes one for itself)"
        )
    # DEBUG only: development on loopback. Django's "django-insecure-" prefix makes `check --deploy` reject it.
    SECRET_KEY = DEBUG_SECRET_KEY
elif SECRET_KEY == DEBUG_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured("SECRET_KEY: the public DEBUG key cannot sign a deployment's sessions; make a new one")
# Older keys, still accepted for sessions and for decrypting stored secrets while they are rotated out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")
# Keys of the secrets stored encrypted in the database (mesh_ui.field_encryption): comma-separated, the first
# encrypts, all decrypt; empty: keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS.
MESH_UI_FIELD_ENCRYPTION_KEY = env_str("MESH_UI_FIELD_ENCRYPTION_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Cookies: HttpOnly always (no script reads them: forms carry their CSRF token); Secure when served over TLS.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# HTTPS: redirect plain HTTP (except the probe, which kubelets call over HTTP), HSTS, and the header a TLS-ending
# proxy sets, e.g. SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto=https (only behind a proxy that always sets it).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = parse_proxy_ssl_header("SECURE_PROXY_SSL_HEADER", env_str("SECURE_PROXY_SSL_HEADER", ""))
# Headers on every answer (Django's SecurityMiddleware and XFrameOptionsMiddleware).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles, images and fetches from this origin only; no inline
# script or style, no eval. Data for scripts travels in json_script blocks (not executed) and data-* attributes.
# The one exception: CodeMirror (the YAML editor) writes its styles in a <style> element carrying the request's
# nonce; django-csp adds the nonce to the header only on pages that read it (the editor's), others keep 'self'.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

INSTALLED_APPS = [
    "mesh_ui.apps.MeshAdminConfig",  # django.contrib.admin with access by role grants
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "axes",
    "django_celery_beat",
    "inventory",
    "topology",
    "istio_config",
    "accounts",
    "audit",
    "sso",
    "api",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Static files (pre-compressed by collectstatic) and gzip for pages and API answers: the graph JSON shrinks ~5x.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # Under /api/: ETag and 304 on reads; JSON error bodies for whatever no view answered (unknown paths, 500s).
    "mesh_ui.api_http.ApiConditionalGetMiddleware",
    "mesh_ui.api_errors.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before CommonMiddleware (Django's documented place): the cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A logged-in user's stored language (accounts.language) wins over the cookie and the browser.
    "accounts.language.UserLanguageMiddleware",
    # Every page and API endpoint needs a logged-in user; views marked login_not_required (login, /healthz) are
    # open. Static files never get here: WhiteNoise answers them above. DRF views are left to DRF, which answers
    # 401 instead of redirecting a script to a form (see mesh_ui.auth).
    "mesh_ui.auth.PageLoginRequiredMiddleware",
    # Keeps the request at hand for audit records made deep inside a call (actor, client address, user agent).
    "audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login (mesh_ui.throttling) into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mesh_ui.urls"
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
                "dashboard.context_processors.mesh_header",
                "django.template.context_processors.i18n",
            ],
        },
    },
]
WSGI_APPLICATION = "mesh_ui.wsgi.application"

DATABASES = {
    "default": parse_database_url(
        "DATABASE_URL", env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mesh-ui.sqlite3'}"), BASE_DIR
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every server process (and machine): the counts of refused API tokens live there (mesh_ui.throttling).
# Default: the database's cache table, which every process already shares; MESH_UI_CACHE_URL=redis://... for Redis.
CACHES = {"default": parse_cache_url("MESH_UI_CACHE_URL", env_str("MESH_UI_CACHE_URL", ""))}

# Axes first: a locked-out username+address is refused before ModelBackend hashes the password (mesh_ui.throttling).
# The SSO backend answers only SSO callbacks, and nothing while single sign-on is off.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "sso.backend.SsoBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# English and Simplified Chinese (docs/dashboard.md, "Language"): the user's stored choice, else the language cookie,
# else the browser's Accept-Language. Catalogues live in locale/ (.po in git; `make` compiles the .mo files).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Browser libraries come from npm (make installs them); only their distribution folders are served.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS: list[object] = [
    BASE_DIR / "static",
    ("vendor/cytoscape", NODE_MODULES / "cytoscape" / "dist"),
    ("vendor/cytoscape-dagre", NODE_MODULES / "cytoscape-dagre"),
    ("vendor/cytoscape-fcose", NODE_MODULES / "cytoscape-fcose"),
    ("vendor/cose-base", NODE_MODULES / "cose-base"),
    ("vendor/layout-base", NODE_MODULES / "layout-base"),
    ("vendor/cytoscape-svg", NODE_MODULES / "cytoscape-svg"),
    ("vendor/dagre", NODE_MODULES / "dagre" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    ("vendor/swagger-ui", NODE_MODULES / "swagger-ui-dist"),
    ("vendor/redoc/bundles", NODE_MODULES / "redoc" / "bundles"),
    # Pages' modules that import npm packages (CodeMirror), bundled by `make install` (`npm run build`).
    ("bundle", BASE_DIR / "build" / "bundle"),
]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic writes a .gz next to each file; WhiteNoise serves it to clients that accept gzip.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# After `manage.py collectstatic` (make demo, deployments) set MESH_UI_STATIC_COLLECTED=1 so WhiteNoise serves the
# collected, pre-compressed files; otherwise (tests, development) it serves straight from the finders.
MESH_UI_STATIC_COLLECTED = env_bool("MESH_UI_STATIC_COLLECTED", False)
WHITENOISE_USE_FINDERS = not MESH_UI_STATIC_COLLECTED
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Passwords in URLs, token parameters and Authorization headers never reach a log line (clients.redaction).
    "filters": {"redact_credentials": {"()": "clients.redaction.RedactingFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_credentials"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "kubernetes": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # its start-up banner, once per process
        # Django's own handlers (its defaults) would print django.* records past the filter: one handler for all.
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Throttling of guessed credentials (mesh_ui.throttling) -----------------------------------------------------
MESH_UI_LOGIN_FAILURE_LIMIT = env_int("MESH_UI_LOGIN_FAILURE_LIMIT", 5, minimum=1)
MESH_UI_LOGIN_LOCKOUT = _seconds("MESH_UI_LOGIN_LOCKOUT", env_str("MESH_UI_LOGIN_LOCKOUT", "15m"))
MESH_UI_TOKEN_FAILURE_LIMIT = env_int("MESH_UI_TOKEN_FAILURE_LIMIT", 10, minimum=1)
# Reverse proxies in front of mesh-ui that each append the address they saw to X-Forwarded-For (0: none, the
# client is REMOTE_ADDR). Addresses further left were sent by the client and are never trusted.
MESH_UI_PROXY_COUNT = env_int("MESH_UI_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = MESH_UI_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=MESH_UI_LOGIN_LOCKOUT)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mesh_ui.throttling.login_lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # logins are audited elsewhere; axes keeps only the failure counts
AXES_VERBOSE = False  # no INFO line per successful login (the audit log records logins)
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if MESH_UI_PROXY_COUNT else ("REMOTE_ADDR",)
AXES_IPWARE_PROXY_COUNT = MESH_UI_PROXY_COUNT - 1 if MESH_UI_PROXY_COUNT else None
# Take the address the last trusted proxy appended even when the client sent an X-Forwarded-For of its own (strict
# mode would then fall back to the proxy's address, one key shared by every client behind it).
IPWARE_STRICT = False

REST_FRAMEWORK = {
    # Tokens and sessions only: no HTTP Basic, which made the server hash any password a stranger sent. DRF answers
    # 401 rather than 403 only when the FIRST authentication class gives a WWW-Authenticate header: Bearer does,
    # session does not. Session stays for the pages' same-origin calls (CSRF on unsafe methods).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # accounts' Bearer tokens, refusing (429) a client with too many refused tokens (mesh_ui.throttling).
        "mesh_ui.throttling.ThrottledBearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A user without any role grant has nothing of the mesh to read: 403 (the root and the schema only need a login).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "accounts.permissions.HasAnyGrant",
    ],
    "DEFAULT_SCHEMA_CLASS": "mesh_ui.api_schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "mesh_ui.api_errors.handle_api_exception",
    "DEFAULT_PAGINATION_CLASS": "mesh_ui.api_http.BoundedLimitOffsetPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "mesh_ui.api_http.ValidatedOrderingFilter",
    ],
    "ORDERING_PARAM": "ordering",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "mesh-ui API",
    "DESCRIPTION": "Service graph, health and inventory of an Istio mesh, read from stored snapshots.",
    "VERSION": "1",
    # The schema describes the API: it needs a login like every endpoint.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and ReDoc from npm (served as static files, no CDN); Swagger UI's start-up script is a separate
    # request of the split view, so a Content-Security-Policy without inline script lets it run.
    "SWAGGER_UI_DIST": f"/{STATIC_URL}vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": f"/{STATIC_URL}vendor/swagger-ui/favicon-32x32.png",
    "REDOC_DIST": f"/{STATIC_URL}vendor/redoc",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Clusters and polling -------------------------------------------------------------------------------------
MESH_UI_CLUSTERS = parse_clusters("MESH_UI_CLUSTERS", env_str("MESH_UI_CLUSTERS", ""))
PROMETHEUS_URL = env_str("PROMETHEUS_URL", "")
# How often beat asks for each cluster's sync; a sync already running keeps its lease and the ask is a no-op.
MESH_UI_SYNC_INTERVAL = env_float("MESH_UI_SYNC_INTERVAL", 10.0, minimum=1.0)
# How long one sync follows watches before it ends and the next one relists everything (the safety relist).
MESH_UI_RELIST_INTERVAL = env_float("MESH_UI_RELIST_INTERVAL", 300.0, minimum=5.0)
# Timeout on each Kubernetes API request (seconds).
MESH_UI_KUBE_TIMEOUT = env_float("MESH_UI_KUBE_TIMEOUT", 10.0, minimum=0.5)
# Page size of list calls.
MESH_UI_KUBE_PAGE_SIZE = env_int("MESH_UI_KUBE_PAGE_SIZE", 500, minimum=1)

# --- Graph snapshots ---------------------------------------------------------------------------------------------
# How often a graph + health snapshot is taken per cluster (seconds).
MESH_UI_SNAPSHOT_INTERVAL = env_float("MESH_UI_SNAPSHOT_INTERVAL", 15.0, minimum=1.0)
# Metric windows each snapshot stores graphs for, and the one health is computed over.
MESH_UI_GRAPH_WINDOWS = sorted(
    {_seconds("MESH_UI_GRAPH_WINDOWS", w) for w in env_list("MESH_UI_GRAPH_WINDOWS", "1m,5m,10m")}
)
MESH_UI_HEALTH_WINDOW = _seconds("MESH_UI_HEALTH_WINDOW", env_str("MESH_UI_HEALTH_WINDOW", "5m"))
if MESH_UI_HEALTH_WINDOW not in MESH_UI_GRAPH_WINDOWS:
    raise ImproperlyConfigured("MESH_UI_HEALTH_WINDOW: must be one of MESH_UI_GRAPH_WINDOWS")
# Derived graph answers (no injected service nodes, node graphs, rate options) are cached this long (seconds).
MESH_UI_DERIVED_CACHE_SECONDS = env_int("MESH_UI_DERIVED_CACHE_SECONDS", 300, minimum=0)
# A graph for a window or moment no snapshot holds is built on demand; it fails after this many seconds.
MESH_UI_ON_DEMAND_TIMEOUT = env_float("MESH_UI_ON_DEMAND_TIMEOUT", 120.0, minimum=5.0)
# The window the graph page opens with (Kiali's default, 1m: a routing change shows within a minute).
MESH_UI_GRAPH_DEFAULT_WINDOW = _seconds("MESH_UI_GRAPH_DEFAULT_WINDOW", env_str("MESH_UI_GRAPH_DEFAULT_WINDOW", "1m"))
if MESH_UI_GRAPH_DEFAULT_WINDOW not in MESH_UI_GRAPH_WINDOWS:
    raise ImproperlyConfigured("MESH_UI_GRAPH_DEFAULT_WINDOW: must be one of MESH_UI_GRAPH_WINDOWS")
# Thinning of old snapshots: RESOLUTION:AGE tiers; nothing older than the last tier is kept.
MESH_UI_SNAPSHOT_RETENTION = env_str("MESH_UI_SNAPSHOT_RETENTION", "15s:1h,1m:1d,1h:7d")
try:
    parse_retention(MESH_UI_SNAPSHOT_RETENTION)
except ValueError as _exc:
    raise ImproperlyConfigured(f"MESH_UI_SNAPSHOT_RETENTION: {_exc}") from _exc
# Snapshots older than this drop their graphs without service nodes (exact injectServiceNodes=false and node graphs
# where a service has several callers and several backends); they then collapse their graphs with service nodes,
# proportionally there. Default: the first retention tier's age (when thinning starts).
_EXACT_GRAPHS_MAX_AGE = env_str("MESH_UI_EXACT_GRAPHS_MAX_AGE", "")
MESH_UI_EXACT_GRAPHS_MAX_AGE = (
    _seconds("MESH_UI_EXACT_GRAPHS_MAX_AGE", _EXACT_GRAPHS_MAX_AGE)
    if _EXACT_GRAPHS_MAX_AGE
    else parse_retention(MESH_UI_SNAPSHOT_RETENTION)[0].max_age
)
# Without Prometheus, a snapshot can read the mesh's counters straight from a metrics endpoint (the simulator's).
MESH_UI_METRICS_URL = env_str("MESH_UI_METRICS_URL", "")
PROMETHEUS_TOKEN = env_str("PROMETHEUS_TOKEN", "")
PROMETHEUS_VERIFY_TLS = env_bool("PROMETHEUS_VERIFY_TLS", True)
PROMETHEUS_CA_FILE = env_str("PROMETHEUS_CA_FILE", "")
PROMETHEUS_TIMEOUT = env_float("PROMETHEUS_TIMEOUT", 10.0, minimum=0.5)
# The scrape jobs of the mesh's own metrics (label matchers of `up`, without braces): when every target they match
# is down, snapshots stop and the last graph with traffic is served, marked stale (topology/telemetry/targets.py).
# Istio's usual jobs by default (the addon's pod annotations, a plain envoy-stats job, the Prometheus Operator's
# PodMonitor); empty: no check.
_ISTIO_SCRAPE_JOBS = 'job=~"kubernetes-pods|kubernetes-pods-slow|envoy-stats|.*envoy-stats-monitor"'
MESH_UI_PROMETHEUS_TARGET_SELECTOR = env_str("MESH_UI_PROMETHEUS_TARGET_SELECTOR", _ISTIO_SCRAPE_JOBS).strip()
if "{" in MESH_UI_PROMETHEUS_TARGET_SELECTOR or "}" in MESH_UI_PROMETHEUS_TARGET_SELECTOR:
    raise ImproperlyConfigured(
        'MESH_UI_PROMETHEUS_TARGET_SELECTOR: give the label matchers without braces, e.g. job=~"envoy-stats"'
    )
# Ask Prometheus to gzip query answers (worth it only over slow links: gzip costs Prometheus CPU).
PROMETHEUS_GZIP = env_bool("PROMETHEUS_GZIP", False)
# Health thresholds (Kiali's defaults): CLASS:DEGRADED:FAILURE percentages, e.g. "5xx:0:10;4xx:10:20;grpc:0:10".
MESH_UI_HEALTH_RATE = env_str("MESH_UI_HEALTH_RATE", "")
try:
    MESH_UI_HEALTH_CONFIG = build_health_config({"rate": MESH_UI_HEALTH_RATE} if MESH_UI_HEALTH_RATE else None)
except ValueError as _exc:
    raise ImproperlyConfigured(f"MESH_UI_HEALTH_RATE: {_exc}") from _exc

# --- Single sign-on (OpenID Connect) ----------------------------------------------------------------------------
# Off unless MESH_UI_OIDC_CLIENT_ID is set; see sso/config.py and the README for the variables and the role map.
try:
    MESH_UI_OIDC = build_oidc_config({name: env_str(name) for name in OIDC_VARIABLES})
except ValueError as _exc:
    raise ImproperlyConfigured(str(_exc)) from _exc

# --- Audit log --------------------------------------------------------------------------------------------------
# Audit events older than this many days are deleted by an hourly beat task.
MESH_UI_AUDIT_RETENTION_DAYS = env_int("MESH_UI_AUDIT_RETENTION_DAYS", 90, minimum=1)
# Istio objects' change history: older changes are deleted hourly, but never an object's last applied version.
MESH_UI_CONFIG_HISTORY_DAYS = env_int("MESH_UI_CONFIG_HISTORY_DAYS", 90, minimum=1)

# --- Celery ----------------------------------------------------------------------------------------------------
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's file-system transport: the broker needs no server. One folder serves as both queue directions; the
    # exchange tables (control) live beside it, under the var folder, never in the working directory.
    for _sub in ("queue", "processed", "control"):
        (_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's transport, writing each message whole before it appears in the queue (see mesh_ui/broker.py).
    CELERY_BROKER_TRANSPORT = "mesh_ui.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
        # The worker lists the queue folder this often when it is idle: a snapshot takes three hops (beat,
        # start, windows), so a long interval would add up; listing a folder of a few files costs next to nothing.
        "polling_interval": 0.1,
    }
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(MESH_UI_RELIST_INTERVAL) + 60
CELERY_TASK_TIME_LIMIT = int(MESH_UI_RELIST_INTERVAL) + 120
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Tasks outside the apps' tasks.py (which autodiscovery finds).
CELERY_IMPORTS = ["mesh_ui.tasks"]
# The one place periodic work is declared.
CELERY_BEAT_SCHEDULE = {
    "inventory-sync-all-clusters": {
        "task": "inventory.tasks.dispatch_cluster_syncs",
        "schedule": MESH_UI_SYNC_INTERVAL,
        "options": {"expires": MESH_UI_SYNC_INTERVAL},
    },
    "topology-snapshot-all-clusters": {
        "task": "topology.tasks.dispatch_graph_snapshots",
        "schedule": MESH_UI_SNAPSHOT_INTERVAL,
        "options": {"expires": MESH_UI_SNAPSHOT_INTERVAL},
    },
    "audit-purge-expired-events": {
        "task": "audit.tasks.purge_audit_events",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "istio-config-purge-history": {
        "task": "istio_config.tasks.purge_config_history",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "topology-thin-snapshots": {
        "task": "topology.tasks.thin_snapshots",
        "schedule": 300.0,
        "options": {"expires": 300.0},
    },
    "sessions-clear-expired": {
        "task": "mesh_ui.tasks.clear_expired_sessions",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}
