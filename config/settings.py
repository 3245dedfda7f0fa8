"""Kindred settings. Machine-specific values come from the environment via config.env."""

from __future__ import annotations

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env_bool, env_float, env_int, env_list, env_str

# "development" (default) or "production". Production turns on every transport-security setting.
KINDRED_ENV = env_str("DJANGO_ENV", "development").lower()
PRODUCTION = KINDRED_ENV == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "accounts",
    "chat",
    "moderation",
    "moderation.practice",  # app label "practice": moderator training (issue 19)
    "moderation.checkins",
    "chat.notifications",  # app label "notifications": Web Push with her consent (issue 21)
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ActiveAccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.NoStoreWhenSignedInMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "frontend.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
]

# --- Database -------------------------------------------------------------------------------
(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'kindred.sqlite3'}")
# Connections are kept per thread (CONN_MAX_AGE) with a health check before reuse: opening and
# closing an SQLite connection (PRAGMAs, WAL checkpoint on close) cost more than a message send.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend with one writer at a time per process queued on a lock rather than
    # SQLite's sleeping busy handler (config/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    # IMMEDIATE transactions take the write lock up front, so two writers queue politely
    # instead of failing with "database is locked" half-way through allocating a sequence number.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
_test_db_name = env_str("TEST_DATABASE_NAME") or None
if _test_db_name is None and DATABASES["default"]["ENGINE"] == "config.sqlite":
    # A file, not the in-memory default: in-memory SQLite uses shared-cache locking, which makes
    # concurrent writers fail instead of queueing as they do on the real file.
    # Per process, so two test runs on one machine never share (and corrupt) one file.
    _test_db_name = str(BASE_DIR / "var" / f"test-kindred-{os.getpid()}.sqlite3")
elif _test_db_name is None:
    _test_db_name = f"test_{DATABASES['default'].get('NAME') or 'kindred'}_{os.getpid()}"
DATABASES["default"]["TEST"] = {"NAME": _test_db_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels / Redis -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's layer over a pool that waits for a free connection (chat/layers.py).
            "BACKEND": "chat.layers.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same as the channel
                # layer's blocking-pop timeout: an idle receive then raises TimeoutError and the
                # socket dies with 1011. Reads must outlast the 5 s pop.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        "socket_connect_timeout": 5,
                        "max_connections": env_int("REDIS_POOL_MAX_CONNECTIONS", 100),
                        "pool_wait_seconds": env_float("REDIS_POOL_WAIT_SECONDS", 10.0),
                    }
                ],
                # Messages waiting for one web process (all its channels share one Redis key): its
                # fan-out hub (chat.fanout) reads every room event for all its sockets there.
                "capacity": 10000,
                "expiry": 30,
                "group_expiry": 86400,
                "prefix": env_str("CHANNEL_PREFIX", "kindred"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNEL_PREFIX", "kindred"),
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.layers.InMemoryChannelLayer",
            # The process's fan-out hub (chat.fanout) reads every room event for all its sockets
            # from one channel: it needs far more room than the default 100.
            "CONFIG": {"capacity": 10000},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "rooms"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# Login throttling (accounts/ratelimit.py): LOGIN_FAILURE_LIMIT wrong passwords per username from
# one address are free, then that pair waits BASE seconds, doubling up to MAX; an address trying
# many usernames gets the same after LOGIN_ADDRESS_FAILURE_LIMIT; after LOGIN_USERNAME_FAILURE_LIMIT
# from anywhere, a username accepts attempts only from addresses and browsers it logged in from.
LOGIN_BACKOFF_BASE_SECONDS = env_int("LOGIN_BACKOFF_BASE_SECONDS", 5)
LOGIN_BACKOFF_MAX_SECONDS = env_int("LOGIN_BACKOFF_MAX_SECONDS", 300)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_USERNAME_FAILURE_LIMIT = env_int("LOGIN_USERNAME_FAILURE_LIMIT", 30)
# How many reverse proxies append to X-Forwarded-For in front of Kindred: the client's address is
# the Nth entry from the right (the rest is whatever the client sent). 0: use the socket's peer.
# Production runs behind one TLS-terminating proxy (README, "Production"), so 1 there by default.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT must be 0 or more; got {TRUSTED_PROXY_COUNT}")

# --- I18N / static --------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
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

# --- Chat -----------------------------------------------------------------------------------
CHAT_HISTORY_ON_JOIN = 50
# Each web process marks its sockets' presence as seen and re-adds its channel-layer groups this
# often (chat.fanout); presence older than 75 s counts as gone.
CHAT_HUB_HEARTBEAT_SECONDS = env_float("CHAT_HUB_HEARTBEAT_SECONDS", 20.0)
# How long a web process reuses a room's recent history for joins (chat.fanout.RecentHistory); 0: never.
CHAT_HISTORY_CACHE_SECONDS = env_float("CHAT_HISTORY_CACHE_SECONDS", 10.0)
# How long a web process holds a room message that arrived before an earlier one (two sends
# committed a moment apart can be pushed in the opposite order) before sending it anyway.
CHAT_ORDER_WAIT_SECONDS = env_float("CHAT_ORDER_WAIT_SECONDS", 0.25)
CHAT_MAX_BODY_CHARS = 2000
# Content notes (chat.content_notes): topics a mother may not want to read without warning, and
# their labels. Here rather than in chat because a member's reading preference (which topics stay
# collapsed, accounts.User.collapse_topics) is kept in accounts, below chat.
CONTENT_NOTE_TOPICS: dict[str, str] = {
    "birth_trauma": "Birth trauma",
    "baby_loss": "Baby loss",
    "self_harm": "Self-harm",
    "suicidal_thoughts": "Suicidal thoughts",
    "medical": "Medical details",
    "abuse": "Abuse",
}
CHAT_MAX_FRAME_BYTES = env_int("CHAT_MAX_FRAME_BYTES", 16384)
CHAT_RATE_LIMIT_COUNT = env_int("CHAT_RATE_LIMIT_COUNT", 10)
CHAT_RATE_LIMIT_SECONDS = env_float("CHAT_RATE_LIMIT_SECONDS", 10.0)
# Edits, deletes, reactions, reports and shared resources: a budget of their own in the same window.
CHAT_ACTION_RATE_LIMIT_COUNT = env_int("CHAT_ACTION_RATE_LIMIT_COUNT", 30)
# Resume requests (history after a seq), per member in the same window.
CHAT_READ_RATE_LIMIT_COUNT = env_int("CHAT_READ_RATE_LIMIT_COUNT", 20)
# A socket whose client stops reading is dropped once this much is waiting to be sent to it.
CHAT_MAX_SOCKET_BACKLOG_BYTES = env_int("CHAT_MAX_SOCKET_BACKLOG_BYTES", 4 * 1024 * 1024)
# Open room sockets per member (all rooms, devices and web processes); her oldest close beyond it.
CHAT_MAX_SOCKETS_PER_USER = env_int("CHAT_MAX_SOCKETS_PER_USER", 5)
# "Typing…" from one member in one room goes to the room at most this often, however many sockets.
CHAT_TYPING_INTERVAL_SECONDS = env_float("CHAT_TYPING_INTERVAL_SECONDS", 3.0)

# --- Moderation -----------------------------------------------------------------------------
MODERATION_CLASSIFIER = env_str(
    "MODERATION_CLASSIFIER", "detoxify"
)  # detoxify | profanity-check | none
MODERATION_FALLBACK_CLASSIFIER = env_str(
    "MODERATION_FALLBACK_CLASSIFIER", ""
)  # e.g. profanity-check
DETOXIFY_MODEL = env_str("DETOXIFY_MODEL", "original")
DETOXIFY_DEVICE = env_str("DETOXIFY_DEVICE", "cpu")
DETOXIFY_CHECKPOINT = env_str("DETOXIFY_CHECKPOINT")  # explicit path overrides MODELS_DIR lookup
MODELS_DIR = env_str("MODELS_DIR", str(BASE_DIR / "var" / "models"))
TORCH_THREADS = env_int("TORCH_THREADS", 1)
MODERATION_BATCH_SIZE = env_int("MODERATION_BATCH_SIZE", 32)
# int8 dynamic quantization of the classifier on CPU (≈3× faster than fp32, docs/moderation.md).
# auto: int8 only when `manage.py fetch_models` measured int8 vs fp32 decision agreement ≥ 98.5 %
# for this checkpoint (recorded in its manifest.json), fp32 with a warning otherwise;
# on / 1: always int8 (unverified is logged); off / 0: always fp32.
MODERATION_QUANTIZE = env_str("MODERATION_QUANTIZE", "auto")
MODERATION_POLL_SECONDS = env_float("MODERATION_POLL_SECONDS", 0.1)
# How long one batch should take. The worker sizes each batch (up to MODERATION_BATCH_SIZE) from
# its measured time per message, so a message waits about two batch times before its flag is on
# the moderators' feed, instead of behind a full batch of 32 on a slow CPU. 0: always full batches.
MODERATION_BATCH_SECONDS = env_float("MODERATION_BATCH_SECONDS", 0.3)
# Classification runs at a lower CPU priority than chat (Linux nice value; 0 = same priority): on
# a busy shared machine the model never slows delivery, it falls behind and catches up instead.
MODERATION_WORKER_NICE = env_int("MODERATION_WORKER_NICE", 10)

# --- Long-running processes -----------------------------------------------------------------
# Python's cyclic garbage collector thresholds for the web server and the worker (config/gcpolicy.py).
_gc = env_list("GC_THRESHOLDS", ["50000", "20", "100"])
if len(_gc) != 3 or not all(x.isdigit() and int(x) > 0 for x in _gc):
    raise ImproperlyConfigured(
        f"GC_THRESHOLDS must be three positive integers, e.g. 50000,20,100; got {_gc}"
    )
GC_THRESHOLDS = [int(x) for x in _gc]
# The embedded default runs the moderation worker inside the web process (make run).
MODERATION_EMBEDDED_WORKER = env_bool("MODERATION_EMBEDDED_WORKER", default=not REDIS_URL)
HELPLINES_FILE = env_str(
    "HELPLINES_FILE", str(BASE_DIR / "moderation" / "data" / "helplines-uk.json")
)

# --- Email (on-call escalations) ------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kindred@localhost")

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

AUTHENTICATION_BACKENDS = ["accounts.backends.KindredBackend"]
MODERATION_LEASE_SECONDS = env_float("MODERATION_LEASE_SECONDS", 20.0)
# A moderator who goes off duty or closes the console keeps her claimed items this long (a
# reload, a dropped connection, an off-duty tap undone), then they go back to the queue.
MODERATION_CLAIM_GRACE_SECONDS = env_float("MODERATION_CLAIM_GRACE_SECONDS", 60.0)
# Escalations are emailed here when nobody is on duty (and every supervisor escalation).
ONCALL_EMAILS = env_list("ONCALL_EMAILS", [])
# Kindred's trained safety model (moderation/safety_model.py; artefacts in moderation/safety_models/).
# The live version is the one a supervisor promoted (moderation.SafetyModelRelease); before any
# promotion, this one. "off" runs moderation on the rules and Detoxify alone.
# The committed model a fresh clone starts with; the tests read its name from here.
MODERATION_SAFETY_MODEL_DEFAULT = "kindred-safety-v8"
MODERATION_SAFETY_MODEL = env_str("MODERATION_SAFETY_MODEL", MODERATION_SAFETY_MODEL_DEFAULT)
CHAT_EDIT_WINDOW_SECONDS = env_int("CHAT_EDIT_WINDOW_SECONDS", 15 * 60)
# --- Data protection (docs/data-protection.md) ------------------------------------------------
# Message text older than this is removed by `manage.py purge_expired` (anonymous counts are
# kept, and so is anything still under review). Audit entries are kept: they hold no member text.
MESSAGE_RETENTION_DAYS = env_int("MESSAGE_RETENTION_DAYS", 365)

# Web Push notifications (chat/notifications; README "Notifications"). VAPID keys from the
# environment: `python manage.py generate_vapid_keys` prints a pair. Without them the feature says
# it is not configured and sends nothing.
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_PUBLIC_KEY = env_str("WEBPUSH_VAPID_PUBLIC_KEY", "")
# Who runs this server, for push services that need to reach the sender (RFC 8292 "sub").
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "mailto:kindred@localhost")
# The server POSTs to a subscription's endpoint, so only the browsers' push services are allowed
# (host suffixes): never a URL a visitor chose inside our network.
WEBPUSH_ALLOWED_HOSTS = env_list(
    "WEBPUSH_ALLOWED_HOSTS",
    [
        "fcm.googleapis.com",
        "push.services.mozilla.com",
        "push.apple.com",
        "notify.windows.com",
    ],
)
# Plain-http push endpoints accepted only for these hosts (tests run a local push service).
WEBPUSH_INSECURE_TEST_HOSTS = env_list("WEBPUSH_INSECURE_TEST_HOSTS", [])
# "thread": delivered in a small background pool after commit; "inline": at commit (tests).
WEBPUSH_DELIVERY = env_str("WEBPUSH_DELIVERY", "thread")
