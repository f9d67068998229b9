"""The one settings module. Everything that differs between machines comes from the environment
(see `aftercare.env` and `.env.example`); the defaults run the embedded mode: SQLite under
`var/`, one machine, no other server."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from aftercare import env
from aftercare.messaging.channels import config as channel_config

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent  # the checkout, for the embedded default data dir

DATA_DIR = env.path("AFTERCARE_DATA_DIR", default=PROJECT_DIR / "var")
DEBUG = env.boolean("AFTERCARE_DEBUG", default=False)

_DEV_SECRET = "insecure-embedded-default-change-me-" + "0" * 20
SECRET_KEY = env.string("SECRET_KEY", default=_DEV_SECRET)
# Key material for secrets stored at rest (WooCommerce keys, webhook secrets). Falls back to
# SECRET_KEY so the embedded mode needs nothing; set it separately to rotate SECRET_KEY freely.
FIELD_ENCRYPTION_KEY = env.string("AFTERCARE_ENCRYPTION_KEY", default=SECRET_KEY)

ALLOWED_HOSTS = env.str_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.str_list("CSRF_TRUSTED_ORIGINS", default=[])
PUBLIC_URL = env.string("AFTERCARE_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "aftercare.core",
    "aftercare.jobs",
    "aftercare.stores",
    "aftercare.events",
    "aftercare.customers",
    "aftercare.catalog",
    "aftercare.orders",
    "aftercare.ingest",
    "aftercare.analytics",
    "aftercare.messaging",
    "aftercare.flows",
    "aftercare.demo",
    "aftercare.privacy",
    "aftercare.exports",
    "aftercare.api",
    "aftercare.dashboard",
    "aftercare.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "aftercare.dashboard.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "aftercare.urls"
WSGI_APPLICATION = "aftercare.wsgi.application"

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
                "django.template.context_processors.i18n",
                "aftercare.dashboard.shell.shell_context",
            ],
        },
    },
]

_SQLITE_DEFAULT = f"sqlite:///{DATA_DIR / 'aftercare.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL", default=_SQLITE_DEFAULT),
        conn_max_age=env.integer("AFTERCARE_DB_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite cannot create the folder of its file: `aftercare migrate` on a fresh checkout works.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on busy_timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = None  # sqlite connections are cheap to keep open

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "한국어"), ("ja", "日本語")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # serve straight from the apps without a collectstatic step

LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:overview"
AUTHENTICATION_BACKENDS = ["aftercare.stores.auth_backend.UsernameOrEmailBackend"]

# Outgoing mail: one SMTP server for everything, named by EMAIL_URL (smtp://host:25,
# smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465; see messaging/channels/
# config.py). Flows' messages go through messaging.channels; Django's own mails (password
# resets, fresh customer links) through Django's SMTP backend, set from the same URL. Unset:
# flows' mails stay in the local outbox (shown in the dashboard) and Django's go to the log.
EMAIL_URL = env.string("EMAIL_URL", default="")
_MAIL = channel_config.django_mail(channel_config.parse_email_url(EMAIL_URL))  # typo → stop
EMAIL_BACKEND = _MAIL.backend
EMAIL_HOST = _MAIL.host
EMAIL_PORT = _MAIL.port
EMAIL_HOST_USER = _MAIL.username
EMAIL_HOST_PASSWORD = _MAIL.password
EMAIL_USE_TLS = _MAIL.use_tls
EMAIL_USE_SSL = _MAIL.use_ssl
EMAIL_TIMEOUT = _MAIL.timeout
DEFAULT_FROM_EMAIL = env.string("AFTERCARE_EMAIL_FROM", default="Aftercare <aftercare@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# SMS through Twilio; none set: SMS stay in the local outbox. A partial set stops the start.
TWILIO_ACCOUNT_SID = env.string("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.string("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.string("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.string("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE = env.string("TWILIO_API_BASE", default="https://api.twilio.com")
TWILIO_TIMEOUT = env.integer("TWILIO_TIMEOUT", default=15)
channel_config.twilio_from_values(
    account_sid=TWILIO_ACCOUNT_SID,
    auth_token=TWILIO_AUTH_TOKEN,
    from_number=TWILIO_FROM,
    messaging_service_sid=TWILIO_MESSAGING_SERVICE_SID,
    api_base=TWILIO_API_BASE,
)

# Flows' outgoing webhooks. Loopback/private/link-local targets are refused (SSRF) unless allowed.
OUTGOING_WEBHOOKS_ALLOW_PRIVATE = env.boolean("AFTERCARE_WEBHOOKS_ALLOW_PRIVATE", default=False)
OUTGOING_WEBHOOKS_TIMEOUT = env.integer("AFTERCARE_WEBHOOKS_TIMEOUT", default=10)

# The webhook receiver stores raw bodies; WooCommerce order bodies are a few KB, a big order
# with hundreds of lines a few hundred KB. Anything larger is refused with 413.
WEBHOOK_MAX_BODY_BYTES = env.integer("AFTERCARE_WEBHOOK_MAX_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES
# Webhook deliveries applied per transaction by the worker (0 = automatic: 40 on SQLite, so the
# receiver never waits long for the database lock; 500 on PostgreSQL).
INBOX_APPLY_CHUNK = env.integer("AFTERCARE_INBOX_APPLY_CHUNK", default=0)

# Background jobs. EAGER runs handlers inline at commit (tests of single behaviours); the worker
# is the production path.
JOBS_EAGER = env.boolean("AFTERCARE_JOBS_EAGER", default=False)
JOBS_LEASE_SECONDS = env.integer("AFTERCARE_JOBS_LEASE_SECONDS", default=300)
JOBS_MAX_ATTEMPTS = env.integer("AFTERCARE_JOBS_MAX_ATTEMPTS", default=8)
# Periodic reconciliation with WooCommerce (catches deliveries WooCommerce dropped). 0 disables.
WOO_RECONCILE_MINUTES = env.integer("AFTERCARE_WOO_RECONCILE_MINUTES", default=15)
WOO_SYNC_CONCURRENCY = env.integer("AFTERCARE_WOO_SYNC_CONCURRENCY", default=4)
WOO_HTTP_TIMEOUT = env.integer("AFTERCARE_WOO_HTTP_TIMEOUT", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.string("AFTERCARE_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request URL at INFO; outgoing webhook URLs can carry secrets in their
        # path (Slack-style hooks). Our clients log what they need themselves, redacted.
        "httpx": {"level": "WARNING"},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PUBLIC_URL.startswith("https://"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
