"""One env-driven settings module.

Defaults run RVU Edge locally on SQLite with no configuration at all.  Set
``DATABASE_URL`` for PostgreSQL and ``RVUEDGE_PRODUCTION=1`` for a deployment;
production mode refuses the development secret key and insecure settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: bool = False) -> bool:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


PRODUCTION = envbool("RVUEDGE_PRODUCTION")
DATA_DIR = Path(os.getenv("RVUEDGE_DATA_DIR", Path.cwd() / "var")).resolve()

DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.getenv("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = envbool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

if PRODUCTION:
    _problems = []
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        _problems.append("RVUEDGE_PRODUCTION=1 needs a SECRET_KEY of at least 50 random characters "
                         "(the development key is refused).")
    if DEBUG:
        _problems.append("RVUEDGE_PRODUCTION=1 refuses DEBUG=1.")
    if not envlist("ALLOWED_HOSTS"):
        _problems.append("RVUEDGE_PRODUCTION=1 needs ALLOWED_HOSTS: the host names this site answers to, "
                         "comma-separated (e.g. ALLOWED_HOSTS=rvu.example.org).")
    if _problems:
        raise ImproperlyConfigured(" ".join(_problems))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # django-ninja's own static files: /api/docs serves Swagger UI from here, not from a CDN.
    "ninja",
    "rvuedge.fees",
    "rvuedge.codes",
    "rvuedge.accounts",
    "rvuedge.logbook",
    "rvuedge.benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, so static files keep their long-lived public caching.
    "rvuedge.middleware.SecurityHeadersMiddleware",
    # gzip for public pages only: none with a CSRF token or a signed-in user's data (BREACH); static files are
    # compressed ahead of time by WhiteNoise (gzip + Brotli).
    "rvuedge.middleware.PublicGZipMiddleware",
    # A NUL character in the address is a 400; a bad ?page= or ?ytd= (rvuedge.params.ParamError) too.
    "rvuedge.params.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "rvuedge.urls"
WSGI_APPLICATION = "rvuedge.wsgi.application"

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
                "rvuedge.context.site",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'rvuedge.sqlite3'}"
if not os.getenv("DATABASE_URL"):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": dj_database_url.parse(os.getenv("DATABASE_URL", _default_db), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
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
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Login rate limiting (rvuedge.accounts.throttle) must be shared by every gunicorn worker: a file cache under
# DATA_DIR does that on one host with no extra service.
CACHES["ratelimit"] = {
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
    "LOCATION": str(DATA_DIR / "cache" / "ratelimit"),
}
# A contract that credits differently from the log re-credits its year per day (rvuedge.logbook.credit.
# recredited_days); the days are kept in files so every worker and a restart reuse them.
CACHES["recredit"] = {
    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
    "LOCATION": str(DATA_DIR / "cache" / "recredit"),
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Where EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend writes password-reset mails.
EMAIL_FILE_PATH = os.getenv("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.getenv("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "RVU Edge <noreply@localhost>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.getenv("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response (rvuedge.middleware): scripts only from our own static files
# (no inline script, no eval); inline style attributes are allowed (bar widths, Chart.js, Swagger UI).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    # issue 17: the service worker (/sw.js) and the web app manifest come from this origin only.
    "worker-src 'self'",
    "manifest-src 'self'",
])
# Path prefixes whose responses are never cached (Cache-Control: private, no-store), signed in or not; any
# response to a signed-in request (session or API token) is treated the same way.
RVUEDGE_PRIVATE_PATHS = ("/log/", "/accounts/", "/benchmarks/contracts/", "/api/log/", "/admin/")

# Behind a reverse proxy: how many proxies in front of the app append to X-Forwarded-For. 0 (default) uses
# REMOTE_ADDR as the client address; 1 takes the right-most X-Forwarded-For entry (the address the one
# proxy saw), N the N-th from the right. Only the rate limits read it.
_proxies = os.getenv("RVUEDGE_TRUSTED_PROXIES", "").strip() or "0"
if not _proxies.isdigit():
    raise ImproperlyConfigured(f"RVUEDGE_TRUSTED_PROXIES must be a whole number of proxies (0, 1, 2 …), "
                               f"not {_proxies!r}.")
RVUEDGE_TRUSTED_PROXIES = int(_proxies)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Where CMS release files are looked for when a release name is given offline.
RVUEDGE_CMS_DATA = os.getenv("RVUEDGE_CMS_DATA", "")

# The largest JSON backup a restore reads, in bytes (default 50 MB); a bigger upload is refused as it arrives.
_restore_max = os.getenv("RVUEDGE_RESTORE_MAX_BYTES", "").strip() or str(50 * 1024 * 1024)
if not _restore_max.isdigit():
    raise ImproperlyConfigured(f"RVUEDGE_RESTORE_MAX_BYTES must be a number of bytes, not {_restore_max!r}.")
RVUEDGE_RESTORE_MAX_BYTES = int(_restore_max)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
}
