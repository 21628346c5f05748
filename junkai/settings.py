"""Settings, all from the environment.

DATABASE_URL      default: SQLite file var/junkai.sqlite3 (WAL)
SECRET_KEY        or SECRET_KEY_FILE; a development key is generated into var/ otherwise
JUNKAI_ENV        "production" switches on the production settings below
JUNKAI_REQUIRE_MFA  TOTP required for everyone (default: on in production, off otherwise)
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext

# Lets generic classes (ModelAdmin[Officer], QuerySet[Post]) be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JUNKAI_VAR_DIR", BASE_DIR / "var"))

PRODUCTION = os.environ.get("JUNKAI_ENV", "development") == "production"


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if path := os.environ.get("SECRET_KEY_FILE"):
        return Path(path).read_text().strip()
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY または SECRET_KEY_FILE を設定してください")
    # Development: one random key per checkout, kept so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _audit_key() -> str:
    """The key of the audit chain's HMAC. Keep it outside the database (and apart from the
    DBA): whoever holds only the database cannot rewrite the chain and recompute it."""
    if key := os.environ.get("JUNKAI_AUDIT_KEY"):
        return key
    if path := os.environ.get("JUNKAI_AUDIT_KEY_FILE"):
        return Path(path).read_text().strip()
    return f"junkai-audit|{SECRET_KEY}"


JUNKAI_AUDIT_KEY = _audit_key()
DEBUG = _flag("JUNKAI_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    # django-ninja's own static files (Swagger UI, pinned with it): without the app it would
    # load them from a CDN, which a closed police network cannot reach.
    "ninja",
    "junkai.audit",
    "junkai.org",
    "junkai.households",
    "junkai.visits",
    "junkai.registers",
    "junkai.disclosures",
    "junkai.devices",
    "junkai.documents",
    "junkai.planning",
    "junkai.dashboards",
    "junkai.demo",
    "junkai.accounts",
    "junkai.web",
    "junkai.ops",
]

MIDDLEWARE = [
    # First: every log line of a request, redirects included, carries its id.
    "junkai.serving.middleware.RequestIdMiddleware",
    # A connection lost mid-request is closed, and a read tried once more (junkai/serving/retry.py).
    "junkai.serving.retry.LostConnectionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: it asks whether an officer is signed in.
    "junkai.serving.privacy.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "junkai.accounts.middleware.SessionLimitsMiddleware",
    "junkai.accounts.middleware.RequireSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "junkai.urls"
WSGI_APPLICATION = "junkai.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "junkai" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "junkai.web.context_processors.junkai",
            ],
        },
    }
]

_default_db = f"sqlite:///{VAR_DIR / 'junkai.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_db))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so the audit chain's read-then-append
        # cannot interleave; WAL lets readers go on meanwhile.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": None}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if _flag("JUNKAI_PGBOUNCER", False):
        # Behind PgBouncer in transaction pooling (docs/scale.md): no named cursors held across
        # transactions, no server-side prepared statements tied to one server connection.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"]["OPTIONS"] = {"prepare_threshold": None}

# A streaming replica for read-heavy work (junkai/lib/replica.py; docs/deploy.md "Replica").
# Without one the alias is the primary again (a second connection, never used for routing);
# tests point it at the primary's test database (MIRROR).
_replica_url = os.environ.get("DATABASE_REPLICA_URL", "")
JUNKAI_READ_REPLICA = bool(_replica_url)
DATABASES["replica"] = (
    dj_database_url.parse(_replica_url) if _replica_url else DATABASES["default"].copy()
)
for _key in ("OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
    if _key in DATABASES["default"]:
        DATABASES["replica"][_key] = DATABASES["default"][_key]
DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["junkai.lib.replica.ReplicaRouter"]

# One cache shared by every app server: Django's database cache on the primary (no new
# service). Its table is made by `junkai migrate` (dashboards migration 0003), so no separate
# createcachetable step anywhere; the test runner makes it too.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "junkai_cache",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "org.Officer"

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before any password check.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend whose get_user also loads the assignments valid today (one query).
    "junkai.accounts.backends.OfficerBackend",
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "junkai.accounts.passwords.BreachedPasswordValidator"},
]
#: A larger breached-password list than the bundled one (junkai/accounts/passwords.py).
JUNKAI_BREACHED_PASSWORDS_FILE = os.environ.get("JUNKAI_BREACHED_PASSWORDS_FILE", "")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# Sign-in lockout (django-axes): 5 failures per username lock it for 10 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=10)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
# axes.W006 asks to lock by IP address too. The requirement is per username: police terminals
# share addresses behind NAT, and an IP lock would shut a whole 交番 out after one officer's typos.
# models.W040: SQLite builds household_address_search without its INCLUDE (id) column, which
# only lets PostgreSQL answer the address search from the index alone; SQLite needs no such help.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_LOCKOUT_CALLABLE = "junkai.accounts.lockout.lockout_response"
# The lockout table keeps a keyed digest of each typed ID, not the text (often a password typed
# into the ID field).
AXES_USERNAME_CALLABLE = "junkai.accounts.lockout.lockout_key"
#: The proxy allowed to name the client's address (X-Forwarded-For), as gunicorn trusts it.
JUNKAI_FORWARDED_ALLOW_IPS = [
    a.strip()
    for a in os.environ.get("JUNKAI_FORWARDED_ALLOW_IPS", "127.0.0.1,::1").split(",")
    if a.strip()
]
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# Sessions in the database (stateless app servers). Idle timeout 30 minutes, absolute 12 hours
# (the absolute limit is enforced by junkai.accounts.middleware).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 30 * 60
# The idle limit moves with use: SessionLimitsMiddleware writes the session at most once a minute.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

JUNKAI_REQUIRE_MFA = _flag("JUNKAI_REQUIRE_MFA", PRODUCTION)
OTP_TOTP_ISSUER = "Junkai"
API_TOKEN_TTL = timedelta(hours=int(os.environ.get("JUNKAI_API_TOKEN_HOURS", "12")))

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# Uploaded documents (照会文書) are kept in the database (disclosures.AgencyDocument); this is
# only where older versions kept them, read once by migration disclosures 0003.
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

#: This prefecture: a 利用確認簿 request from any other is a provision to another prefecture.
JUNKAI_PREFECTURE = os.environ.get("JUNKAI_PREFECTURE", "大分県")
JUNKAI_AGENCY_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
#: `junkai backup` removes its backups older than this after a new one succeeds (the newest 7
#: always stay); 0 keeps everything. The point-in-time archive (pgBackRest) has its own.
JUNKAI_BACKUP_KEEP_DAYS = int(os.environ.get("JUNKAI_BACKUP_KEEP_DAYS", "35"))
# A binder taken out must be back (return confirmed) by this local time the same day.
JUNKAI_CHECKOUT_RETURN_BY = os.environ.get("JUNKAI_CHECKOUT_RETURN_BY", "22:00")
# Misuse signals (`junkai misuse-scan`, every 5 minutes): a read outside the officer's beats
# with no work on that household (a list showing it from the context hours before it to the
# settle minutes after it; a task on it within the task hours either side), bulk reads, reads
# outside duty hours.
JUNKAI_MISUSE_CONTEXT_HOURS = 2
# A task on the household (a visit, an approval, a data use…) this long before or after a read
# explains it: a shift.
JUNKAI_MISUSE_TASK_HOURS = 12
JUNKAI_MISUSE_SETTLE_MINUTES = 3
JUNKAI_MISUSE_UNEXPLAINED_MIN_READS = 1
JUNKAI_MISUSE_GROUP_MINUTES = 60
JUNKAI_MISUSE_BULK_READS = 30
JUNKAI_MISUSE_BULK_MINUTES = 10
JUNKAI_MISUSE_DUTY_START = "06:00"
JUNKAI_MISUSE_DUTY_END = "22:00"
# Each run (every 5 minutes) judges what committed since the last run, however late (a missed
# run is caught up; the 定期処理 panel shows a late job); the first run takes the last hours.
# Flags are never raised twice for the same reads.
JUNKAI_MISUSE_SCAN_HOURS = 2
# The audit log's seals (junkai/audit/seal.py): an event still unsealed after this long makes
# `junkai audit-verify` fail — the sealer has stopped or a transaction has stayed open.
JUNKAI_AUDIT_UNSEALED_ALARM = timedelta(
    minutes=int(os.environ.get("JUNKAI_AUDIT_UNSEALED_ALARM_MINUTES", "5"))
)

# Beat maps (受持区地図): the tile server, {z}/{x}/{y} as Leaflet takes it. Default: 国土地理院
# 標準地図. Empty: no tiles (closed police networks); the map then draws the beat outline and
# the households on a plain background, as it also does when tiles fail to load.
JUNKAI_MAP_TILES = os.environ.get(
    "JUNKAI_MAP_TILES", "https://cyberjapandata.gsi.go.jp/xyz/std/{z}/{x}/{y}.png"
)
JUNKAI_MAP_ATTRIBUTION = os.environ.get("JUNKAI_MAP_ATTRIBUTION", "国土地理院")


def _origin(url_template: str) -> list[str]:
    """The tile server's origin, for the Content-Security-Policy's img-src."""
    parts = urlsplit(url_template)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.scheme and parts.netloc else []


# Content-Security-Policy (django-csp): scripts and everything else from this server only, no
# inline script (pages carry none: behaviour lives in static files, data in json_script). Styles
# may be inline (Leaflet and htmx set element styles). Images also from the tile server.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *_origin(JUNKAI_MAP_TILES)],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Route planning (巡回経路, junkai/planning/routing.py): straight-line distance times a detour
# factor (no road network is held), a speed per mode, a service time at each door, the
# solver's time limit and the most stops one route may take.
JUNKAI_ROUTE_DETOUR = float(os.environ.get("JUNKAI_ROUTE_DETOUR", "1.3"))
JUNKAI_ROUTE_WALK_KMH = float(os.environ.get("JUNKAI_ROUTE_WALK_KMH", "4.5"))
JUNKAI_ROUTE_DRIVE_KMH = float(os.environ.get("JUNKAI_ROUTE_DRIVE_KMH", "25"))
JUNKAI_ROUTE_MODE = os.environ.get("JUNKAI_ROUTE_MODE", "walk")
JUNKAI_ROUTE_SERVICE_MINUTES = int(os.environ.get("JUNKAI_ROUTE_SERVICE_MINUTES", "10"))
JUNKAI_ROUTE_TIME_LIMIT_S = float(os.environ.get("JUNKAI_ROUTE_TIME_LIMIT_S", "1.0"))
JUNKAI_ROUTE_MAX_STOPS = 100

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "junkai" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # JSON lines (junkai/serving/logs.py): time, level, logger, message, request id, officer.
    "formatters": {"json": {"()": "junkai.serving.logs.JsonFormatter"}},
    # The level sits on the handler: records propagated from Django's own loggers are
    # filtered by handlers, not by the root logger's level.
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "level": os.environ.get("JUNKAI_LOG_LEVEL", "WARNING"),
            "formatter": "json",
        }
    },
    "root": {"handlers": ["console"], "level": "INFO"},
    # Django's default config gives "django" a console handler of its own (when DEBUG) and
    # mails admins (when not); with the root handler too, every warning was printed twice.
    # Here its records only propagate to the root handler.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

# The load balancer's probes may use plain HTTP (junkai/serving/health.py); set here, outside
# the production block, so the tests see the production value.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz)$"]

if PRODUCTION:
    SECURE_SSL_REDIRECT = _flag("JUNKAI_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    CSRF_COOKIE_HTTPONLY = True
    # __Host- cookies: Secure, for this host only, path / — no subdomain can set or read them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
