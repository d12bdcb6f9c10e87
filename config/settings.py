"""LabelHub settings, read from the environment.

Everything that differs between a laptop, CI and production comes from environment
variables: ``DATABASE_URL`` (SQLite file by default), ``SECRET_KEY``, ``DEBUG``,
``ALLOWED_HOSTS``, ``MEDIA_ROOT``, ``MEDIA_STORAGE`` (``s3`` with ``S3_*``, or a storage
backend path) and ``TASKS_BACKEND``.
Outside debug the safe choices are on: secure cookies, HSTS, and a strict Content-Security-Policy
(which is on in debug too, so that an inline script breaks in development, not in production).
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no variable; anything unexpected is an error rather than a silent default."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn DATABASE_URL into Django's DATABASES entry, with the options each engine needs.

    SQLite takes its write lock at the start of every transaction (IMMEDIATE), runs in WAL mode and
    waits for a busy database instead of failing, so that the queue stays exact on a laptop too.
    """
    config = dj_database_url.parse(url, conn_max_age=0)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
        # Not Django's SELECT 1 before each request (a round trip every time): a dropped
        # connection is noticed from its socket instead (labelhub/dropped_connections.py).
        config["CONN_HEALTH_CHECKS"] = False
        if env_bool("DB_PREPARED_STATEMENTS", default=True):
            # Parameters travel apart from the SQL, so a statement's text is the same on every
            # call and psycopg prepares it on its fifth use on a connection: PostgreSQL then
            # skips parsing and planning, which is most of its work for the queue's statements
            # (about 40% of the database's CPU per next+submit). Turn off behind a pooler that
            # cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
            config["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
    return config


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105

# Keys that encrypt the secrets the server must send again (labelhub/encryption.py), newest
# first; empty: one key derived from SECRET_KEY. Rotation: docs/security.md.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "worker",  # before django_tasks_db: its db_worker command survives lost connections
    "django_tasks_db",
    "axes",
    # Task kinds: one app each (kinds/<kind>/); its AppConfig names the kind class (``task_kind``).
    "kinds.bbox",
    "kinds.ranking",
    "kinds.transcription",
    "kinds.conversation",
    "kinds.rubric_eval",
    "kinds.trajectory",
    "kinds.environment",
    "labelhub",
    "people",
    "annotation",
    "quality",
    "exports",
    "genai",
    "backends",
    "pay",
    "appeals",
    "sandbox",
    "signin",
    "evals",
    "demo",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "labelhub.api.version.ApiVersionMiddleware",  # X-LabelHub-API-Version on every API answer
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "labelhub.unstorable.UnstorableTextMiddleware",  # NUL, lone surrogates: a 400, not a 500
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "signin.middleware.ProviderSessionCheck",  # re-checks sessions opened through a provider
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
# A PostgreSQL read replica for the heavy read-only screens (dashboard, exports, task lists); see
# config.db_router for what goes there and how nobody reads stale data after their own write.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **database_from_url(os.environ["DATABASE_REPLICA_URL"]),
        "TEST": {"MIRROR": "default"},  # tests read the primary's test database through it
    }
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
    MIDDLEWARE.append("config.db_router.ReplicaReadsMiddleware")
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "10"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "signin.backends.PasswordsOffBackend",  # no passwords where an organization turned them off
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: 5 failed tries for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Email (invitations, password reset): SMTP when EMAIL_HOST is set (EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS / EMAIL_USE_SSL), else printed on the console (`make run`).
if os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": int(os.environ.get("EMAIL_PORT", "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", default=False),
                "use_ssl": env_bool("EMAIL_USE_SSL", default=False),
                "timeout": int(os.environ.get("EMAIL_TIMEOUT", "20")),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "LabelHub <labelhub@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# How long a password-reset link works (Django's default is three days).
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(60 * 60 * 24)))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Uploads bigger than this go to a temporary file instead of memory (and so do files read back
# from an object store).
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
# How long a link to a stored file stays good: the browser gets one after LabelHub's own check
# of the person's role (see labelhub.storage), so it is short.
MEDIA_URL_SECONDS = int(os.environ.get("MEDIA_URL_SECONDS", "300"))


def media_storage(name: str) -> dict:
    """The storage of media, import uploads and export files: the local disk by default,
    ``s3`` for any S3-compatible object store (AWS, MinIO, Ceph…) configured from ``S3_*``,
    or the dotted path of another Django storage class."""
    if name.lower() in ("", "local", "filesystem"):
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if name.lower() != "s3":
        return {"BACKEND": name}
    bucket = os.environ.get("S3_BUCKET", "")
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "location": os.environ.get("S3_PREFIX", ""),
            # Unset values fall back to boto3's own chain (AWS_* variables, an instance role).
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,
            "signature_version": "s3v4",
            # Two uploads named cat.jpg must not overwrite each other (the disk adds a suffix).
            "file_overwrite": False,
            "default_acl": None,  # objects stay private: browsers get presigned links
            "querystring_auth": True,
            "querystring_expire": MEDIA_URL_SECONDS,
            # Files read back (imports, the audio check) spill to disk instead of memory.
            "max_memory_size": FILE_UPLOAD_MAX_MEMORY_SIZE,
        },
    }


MEDIA_STORAGE = os.environ.get("MEDIA_STORAGE", "").strip()
STORAGES = {
    "default": media_storage(MEDIA_STORAGE),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "labelhub.storage.StaticFilesStorage"  # WhiteNoise's; collectstatic may be missing
    },
}

# Without `collectstatic` (a forgotten step, a first try with DEBUG off) pages must not fail:
# assets are named as they are (labelhub.storage.StaticFilesStorage) and served from the apps.
WHITENOISE_USE_FINDERS = not (STATIC_ROOT / "staticfiles.json").exists()

# Background work (imports, exports, webhooks): django.tasks with a database-backed worker
# (`manage.py db_worker`). Tests and `make run` without a worker may use the immediate backend.
# Callback URLs on loopback, private or link-local addresses, or whose host does not resolve, are
# refused at import and at delivery unless this is on (tests, on-premise receivers).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
# The same guard for a live project's model (genai): its own setting, because a model on the
# company network is common where a webhook receiver there is not.
LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES = env_bool("LIVE_MODEL_ALLOW_PRIVATE_ADDRESSES", default=False)
# The same guard for model backends (pre-labels), for the same reason: a setting of its own.
MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES = env_bool(
    "MODEL_BACKENDS_ALLOW_PRIVATE_ADDRESSES", default=False
)
# The same guard for an organization's identity provider (its issuer, and the keys, token and
# userinfo URLs its discovery document names): a setting of its own, for an on-premise provider.
SIGNIN_ALLOW_PRIVATE_ADDRESSES = env_bool("SIGNIN_ALLOW_PRIVATE_ADDRESSES", default=False)

# How long the quality step waits after a project's first waiting answer before it runs, so the
# answers submitted meanwhile are judged in one batch (quality/tasks.py: after_gathering); 0 runs
# it at once.
JUDGING_GATHER_SECONDS = float(os.environ.get("JUDGING_GATHER_SECONDS", "0.5"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        # "sandbox": proofs of authored code, run by workers of their own (sandbox/tasks.py);
        # "evals": eval runs, hours of model calls, kept off judging's queue (evals/tasks.py).
        "QUEUES": ["default", "sandbox", "evals"],
    }
}

# Content-Security-Policy: no inline script anywhere, scripts only from our own origin.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", "blob:", "https:"],
    "media-src": [CSP.SELF, "blob:", "https:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}


def object_store_origins() -> list[str]:
    """Where the browser fetches media from when they are in an object store (presigned links):
    the endpoint's origin (also its bucket subdomains for virtual-host addressing), or AWS S3."""
    if STORAGES["default"]["BACKEND"] != "storages.backends.s3.S3Storage":
        return []
    endpoint = urlsplit(os.environ.get("S3_ENDPOINT_URL") or "https://amazonaws.com")
    origins = [f"{endpoint.scheme}://{endpoint.netloc}"]
    if not os.environ.get("S3_ENDPOINT_URL") or os.environ.get("S3_ADDRESSING_STYLE") != "path":
        origins.append(f"{endpoint.scheme}://*.{endpoint.netloc}")
    return origins


# Images, audio and the waveform's fetch of it may come from there (MEDIA_ORIGINS overrides).
for _origin in env_list("MEDIA_ORIGINS", object_store_origins()):
    for _directive in ("img-src", "media-src", "connect-src"):
        SECURE_CSP[_directive].append(_origin)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "labelhub.authentication.HashedTokenAuthentication",  # DRF's header, hashed keys
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "labelhub.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "labelhub.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["labelhub.api.throttling.TokenWriteThrottle"],
}
# Writes made with an API token, per user (see labelhub/api/throttling.py); "off" disables.
API_WRITE_RATE = os.environ.get("API_WRITE_RATE", "600/min")
# Rate-limit counters live in the cache: Redis when REDIS_URL is set (shared by every worker),
# else each process's memory.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Exports up to this many items download at once from the screen; bigger ones run as a job.
LABELHUB_EXPORT_SYNC_LIMIT = int(os.environ.get("LABELHUB_EXPORT_SYNC_LIMIT", "5000"))
SPECTACULAR_SETTINGS = {
    "TITLE": "LabelHub API",
    "DESCRIPTION": "Send annotation work in, get labeled data out.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One clear name per choice set in the schema (several models have a "status").
    "ENUM_NAME_OVERRIDES": {
        "TaskStatusEnum": "annotation.models.TaskStatus",
        "JobStatusEnum": "annotation.models.ImportStatus",  # imports and exports alike
        "ContributorStatusEnum": "annotation.models.ContributorStatus",
        "AssignmentStatusEnum": "annotation.models.AssignmentStatus",
        "DeliveryStatusEnum": "annotation.models.DeliveryStatus",
        "ReviewReasonEnum": "quality.models.ReviewReason",
        "VerdictEnum": "quality.models.Verdict",
        "ProjectRoleEnum": "labelhub.models.Role",
        "InvitationStateEnum": "labelhub.models.InvitationState",
        "PayStateEnum": ["paid", "unpaid", "unset"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
