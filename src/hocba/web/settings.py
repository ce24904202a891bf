"""Django settings for hocba.

Configuration comes from the environment so that the same code serves one school on SQLite and a city
on PostgreSQL:

- ``HOCBA_DATABASE_URL``: ``sqlite:///path/to/db.sqlite3`` (default: ``var/hocba.sqlite3`` in the working
  directory) or ``postgres://user:password@host:port/name``.
- ``HOCBA_SECRET_KEY``: required when ``HOCBA_DEBUG`` is off; the demo generates one into ``var/``.
- ``HOCBA_DEBUG``: "1" for development.
- ``HOCBA_VAR_DIR``: where databases, generated keys and stored documents live (never committed).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("HOCBA_VAR_DIR", Path.cwd() / "var")).resolve()
HOCBA_DOCUMENTS_DIR = Path(os.environ.get("HOCBA_DOCUMENTS_DIR", VAR_DIR / "documents")).resolve()  # backed up
DOCS_DIR = Path(os.environ.get("HOCBA_DOCS_DIR", BASE_DIR.parents[2] / "docs")).resolve()

DEBUG = os.environ.get("HOCBA_DEBUG", "") == "1"


def _secret_key() -> str:
    key = os.environ.get("HOCBA_SECRET_KEY")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    # Tests and first runs: a per-process key is safe (sessions simply do not survive a restart).
    import secrets

    return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("HOCBA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "hocba.web",
    "hocba.audit",
    "hocba.school",
    "hocba.gradebook",
    "hocba.identities",
    "hocba.api",
    "hocba.verify",
    "hocba.records",
    "hocba.ops",
    "hocba.interop",
    "hocba.digitise",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hocba.web.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hocba.audit.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "hocba.web.urls"
WSGI_APPLICATION = "hocba.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hocba.web.context.navigation",
            ],
        },
    },
]


def _database_from_url(url: str) -> dict:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        name = unquote(parsed.path) if parsed.path not in ("", "/") else str(VAR_DIR / "hocba.sqlite3")
        if name.startswith("//"):
            name = name[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # WAL lets readers proceed during a write; IMMEDIATE avoids lock upgrades that deadlock writers.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
            },
            "TEST": {"NAME": None},
            # Reusing the connection saves about a third of a cell save's cost (bench_gradebook).
            "CONN_MAX_AGE": 60,
        }
    if parsed.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "hocba",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
        }
    raise ValueError(f"HOCBA_DATABASE_URL: unsupported scheme {parsed.scheme!r}")


DATABASES = {"default": _database_from_url(os.environ.get("HOCBA_DATABASE_URL", "sqlite:///"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if os.environ.get("HOCBA_FAST_PASSWORD_HASHER") == "1":  # tests only: PBKDF2 at full cost is slow
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions: an idle session expires after two hours; a session never outlives a working day.
SESSION_COOKIE_AGE = int(os.environ.get("HOCBA_SESSION_SECONDS") or 2 * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = os.environ.get("HOCBA_HTTPS") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Every HTML page (hocba.web.middleware): same-origin scripts, styles, images, fetches and form targets; no
# plugins, no <base> rewriting, no framing. The templates still hold two inline scripts, a few inline event
# handlers (confirm dialogs, print) and style attributes, and htmx adds its indicator style, hence
# 'unsafe-inline' for scripts and styles; moving those into static files would allow dropping it.
HOCBA_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")

# The sector platform (CSDL ngành and the data-integration platform): its base URL and the bearer token it
# issued to this deployment. Empty: no sync and no exchange (the .xlsx import serves offline schools).
HOCBA_SECTOR_URL = os.environ.get("HOCBA_SECTOR_URL", "")
HOCBA_SECTOR_TOKEN = os.environ.get("HOCBA_SECTOR_TOKEN", "")

# Per-process cache (rate limits of the public verification portal, its reused reports). Several processes
# behind one address count separately; point this at a shared cache (database, Redis) to make limits exact.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hocba"}}

# Lockout after repeated failed logins (per user name).
HOCBA_LOGIN_MAX_FAILURES = 5
HOCBA_LOGIN_LOCK_SECONDS = 15 * 60

# Uploads: a roster file of a 1,500-student school is well under 2 MB.
HOCBA_UPLOAD_MAX_BYTES = int(os.environ.get("HOCBA_UPLOAD_MAX_BYTES") or 5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False
FORMAT_MODULE_PATH = ["hocba.web.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HOCBA_LOG_LEVEL", "WARNING")},
}
