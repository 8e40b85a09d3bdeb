"""LeadBaton's one settings module. Every value comes from the environment.

See docs/configuration.md for each variable. Defaults run on a laptop: data
under ./var, SQLite, the console email backend. Importing it creates no file.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import jinja2

from leadbaton.core.datadir import data_dir_configured, secret_key_for
from leadbaton.core.env import SettingError, env_bool, env_int, env_list, env_proxy_header, env_str

BASE_DIR = Path(__file__).resolve().parent
# Read from the environment (and .env); created only by the commands that start LeadBaton.
DATA_DIR = data_dir_configured()
SECRET_KEY = secret_key_for(DATA_DIR)
DEBUG = env_bool("LEADBATON_DEBUG", False)
ALLOWED_HOSTS = env_list("LEADBATON_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("LEADBATON_CSRF_TRUSTED_ORIGINS", [])
BASE_URL = env_str("LEADBATON_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "leadbaton.core",
    "leadbaton.accounts",
    "leadbaton.leads",
    "leadbaton.intake",
    "leadbaton.qualification",
    "leadbaton.routing",
    "leadbaton.sla",
    "leadbaton.notify",
    "leadbaton.coaching",
    "leadbaton.web",
    "leadbaton.cli",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise, so static files are cacheable and everything else is not.
    "leadbaton.web.middleware.no_store",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: the refusal is a page like any other.
    "leadbaton.web.middleware.nul_refused",
    "leadbaton.web.middleware.config_read_once",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as its documentation asks: answers a sign-in refused for too many failures (LEADBATON_SIGNIN_*).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadbaton.urls"
WSGI_APPLICATION = "leadbaton.wsgi.application"

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
            ],
        },
    },
    {
        # The rows of the long lists (the inbox, the board), rendered by the view and placed into the page: Django's
        # engine took 5 to 15 ms for a list of 50 (decision 0028). Templates in <app>/jinja2/; a name that is not
        # given is an error, not an empty string.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "rows",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"undefined": jinja2.StrictUndefined},
    },
]


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "leadbaton.core.sqlite",
            "NAME": DATA_DIR / "leadbaton.sqlite3",
            # One connection per thread for its life: opening one costs about 0.7 ms per request.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
            },
        }
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True))
    except ValueError as error:
        raise SettingError(f"DATABASE_URL is not a database URL LeadBaton understands: {error}") from None
    engine = str(config["ENGINE"])
    if engine == "django.db.backends.sqlite3":
        config["ENGINE"] = "leadbaton.core.sqlite"
        config["CONN_MAX_AGE"] = None
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
        }
    elif engine != "django.db.backends.postgresql":
        raise SettingError("DATABASE_URL must be a sqlite:// or postgres:// URL")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# How long the link in a password reset email works (it works once either way).
PASSWORD_RESET_TIMEOUT = 60 * env_int("LEADBATON_PASSWORD_RESET_MINUTES", 60, minimum=5)

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("LEADBATON_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Sign-in throttling (django-axes): after LEADBATON_SIGNIN_FAILURES failed sign-ins for one account, or
# from one address, within LEADBATON_SIGNIN_PAUSE_MINUTES, sign-in for it pauses that long (docs/configuration.md).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LEADBATON_SIGNIN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LEADBATON_SIGNIN_PAUSE_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: an account, and an address
AXES_RESET_ON_SUCCESS = False  # web.signin.failures_forget forgets the account's failures, not the address's
AXES_LOCKOUT_CALLABLE = "leadbaton.web.signin.signin_paused"
AXES_CLIENT_IP_CALLABLE = "leadbaton.web.signin.client_address"
AXES_USERNAME_CALLABLE = "leadbaton.web.signin.signin_account"
AXES_VERBOSE = False
# The header a proxy in front writes the client's address into (e.g. X-Forwarded-For); unset, the socket's.
CLIENT_ADDRESS_HEADER = env_str("LEADBATON_CLIENT_ADDRESS_HEADER", "")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
SESSION_COOKIE_HTTPONLY = True

# Behind HTTPS (docs/configuration.md, "In production"): one switch, each part can be set apart.
HTTPS = env_bool("LEADBATON_HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("LEADBATON_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer's health check may come over plain HTTP
SECURE_PROXY_SSL_HEADER = env_proxy_header("LEADBATON_PROXY_SSL_HEADER")
SECURE_HSTS_SECONDS = env_int("LEADBATON_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LEADBATON_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("LEADBATON_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("LEADBATON_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Preloading commits a whole domain to HTTPS in every browser: its owner decides, not a default
# (docs/decisions/0017). Django's reminder stays quiet unless it is switched on.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Every page works with scripts and styles from LeadBaton's own static files only, no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("LEADBATON_EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env_str("LEADBATON_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("LEADBATON_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("LEADBATON_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("LEADBATON_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("LEADBATON_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("LEADBATON_EMAIL_FROM", "LeadBaton <leadbaton@localhost>")

# Intake
INTAKE_MAX_BODY_BYTES = 64 * 1024
INTAKE_RATE_LIMIT_PER_MINUTE = env_int("LEADBATON_INTAKE_RATE_LIMIT", 600, minimum=1)
# Failed submissions: how often the worker retries, and how long a claim lasts.
WORKER_MAX_ATTEMPTS = env_int("LEADBATON_WORKER_MAX_ATTEMPTS", 8, minimum=1)
WORKER_LEASE_SECONDS = env_int("LEADBATON_WORKER_LEASE_SECONDS", 60, minimum=5)
WORKER_POLL_SECONDS = env_int("LEADBATON_WORKER_POLL_MS", 500, minimum=10) / 1000
# Bench-only endpoints (the framework and ORM floors); never on in production.
BENCH_ENDPOINTS = env_bool("LEADBATON_BENCH_ENDPOINTS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LEADBATON_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
