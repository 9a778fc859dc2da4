"""Settings shared by every environment, read from environment variables.

Every variable is documented in README.md ("Configuration") with its default.
The defaults are the embedded stack: SQLite, local media, in-process tasks.
"""

from pathlib import Path

import environ
from django.utils.csp import CSP

from config.broker import transport_options
from config.csp import image_sources, script_sources
from config.hardware import inference_layout, usable_cpus

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Before any variable is read: the file's values count for every one of them.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
VAR_DIR = Path(env.str("VITRINE_VAR_DIR", default=str(BASE_DIR / "var")))

# Production unless debug is asked for: config/settings/__init__.py reads
# DJANGO_DEBUG to pick local.py (which turns this on) or production.py.
DEBUG = False
# No default: local.py has a key for this machine, production.py demands one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "drf_spectacular_sidecar",
    "accounts",
    "catalog",
    "classification",
    "imports",
    "dashboard",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A service's error raised in a page: a message or a 4xx page, not a 500.
    "config.middleware.ServiceErrorMiddleware",
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
                "accounts.context_processors.current_merchant",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'vitrine.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while a task writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Sign in as Django does; permissions (the admin's too) come from the roles
# table in accounts/roles.py, not from permissions stored on users or groups.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:product-list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Media storage: local files by default, S3 when a bucket is configured.
MEDIA_ROOT = Path(env.str("VITRINE_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=600),
            "file_overwrite": True,
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
        },
    }
else:
    _media_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": MEDIA_ROOT,
            "base_url": MEDIA_URL,
            "allow_overwrite": True,
        },
    }
STORAGES = {
    "default": _media_storage,
    # Hashed names from `collectstatic`; local.py serves the files as they are.
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
}

# --- Uploads.
VITRINE_UPLOAD_MAX_BYTES = env.int("VITRINE_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
VITRINE_UPLOAD_MAX_PIXELS = env.int("VITRINE_UPLOAD_MAX_PIXELS", default=50_000_000)
# Width x height x bytes per pixel as the file stores it: 50 megapixels of 8-bit
# RGB, 37.5 of RGBA or CMYK.
VITRINE_UPLOAD_MAX_DECODED_BYTES = env.int(
    "VITRINE_UPLOAD_MAX_DECODED_BYTES", default=150_000_000
)
VITRINE_UPLOAD_MAX_FILES = env.int("VITRINE_UPLOAD_MAX_FILES", default=50)
VITRINE_THUMBNAIL_SIZE = env.int("VITRINE_THUMBNAIL_SIZE", default=320)
# The ISO 4217 code merchant pages show beside prices (and the CSV export names).
VITRINE_CURRENCY = env.str("VITRINE_CURRENCY", default="EUR")
# Django's own cap on the request body outside files; files stream to disk.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = VITRINE_UPLOAD_MAX_FILES

# --- Classification.
VITRINE_DEFAULT_THRESHOLD = env.float("VITRINE_DEFAULT_THRESHOLD", default=0.6)
# How far a product's leading category must lead the runner-up, in summed
# confidence of its photos' votes, to become the product's category.
VITRINE_CATEGORY_VOTE_MARGIN = env.float("VITRINE_CATEGORY_VOTE_MARGIN", default=0.3)
# Hardware facts come from the CPUs this process may use (config/hardware.py):
# by default one single-threaded inference process per CPU, never more threads
# in all than CPUs. Training runs on its own worker, one job at a time, with one
# thread per CPU.
_USABLE_CPUS = usable_cpus()
VITRINE_INFERENCE_PROCESSES, VITRINE_INFERENCE_THREADS = inference_layout(
    cpus=_USABLE_CPUS,
    processes=env.int("VITRINE_INFERENCE_PROCESSES", default=0),
    threads=env.int("VITRINE_INFERENCE_THREADS", default=0),
)
VITRINE_TRAINING_THREADS = env.int("VITRINE_TRAINING_THREADS", default=_USABLE_CPUS)
VITRINE_STUCK_AFTER_SECONDS = env.int("VITRINE_STUCK_AFTER_SECONDS", default=900)
# The pipeline heals itself (classification.services.dispatch): the upkeep runs
# the dispatcher every VITRINE_DISPATCH_INTERVAL_SECONDS; a photo dispatched with
# no outcome (its message lost with a broker, its worker killed) or failed for a
# transient reason is dispatched again after VITRINE_DISPATCH_RETRY_SECONDS,
# doubling up to VITRINE_DISPATCH_RETRY_MAX_SECONDS, at most
# VITRINE_DISPATCH_MAX_ATTEMPTS times; then it fails with that reason. With these
# defaults a photo is on its way again within about 2 minutes of the services
# being back.
VITRINE_DISPATCH_INTERVAL_SECONDS = env.int(
    "VITRINE_DISPATCH_INTERVAL_SECONDS", default=15
)
VITRINE_DISPATCH_RETRY_SECONDS = env.int("VITRINE_DISPATCH_RETRY_SECONDS", default=30)
VITRINE_DISPATCH_RETRY_MAX_SECONDS = env.int(
    "VITRINE_DISPATCH_RETRY_MAX_SECONDS", default=100
)
VITRINE_DISPATCH_MAX_ATTEMPTS = env.int("VITRINE_DISPATCH_MAX_ATTEMPTS", default=8)
# classify_image's hard time limit (the soft one is two thirds of it): a photo
# "processing" longer than this has lost its worker and is dispatched again.
VITRINE_CLASSIFY_TIME_LIMIT = env.int("VITRINE_CLASSIFY_TIME_LIMIT", default=90)
# A worker that ran the upkeep within this long is alive (health, dashboard);
# photos waiting longer than VITRINE_READY_MAX_WAIT_SECONDS with no live worker
# make /health/ and /health/ready/ answer 503.
VITRINE_WORKER_STALE_SECONDS = env.int("VITRINE_WORKER_STALE_SECONDS", default=60)
VITRINE_READY_MAX_WAIT_SECONDS = env.int("VITRINE_READY_MAX_WAIT_SECONDS", default=300)
# Stored photos and thumbnails no row names, older than the grace period, are
# removed by the upkeep every VITRINE_ORPHAN_SWEEP_SECONDS (manage.py
# storage_orphans lists or removes them on demand). The grace period must exceed
# the longest upload request: an upload writes its object before its row commits.
VITRINE_ORPHAN_GRACE_SECONDS = env.int("VITRINE_ORPHAN_GRACE_SECONDS", default=3600)
VITRINE_ORPHAN_SWEEP_SECONDS = env.int("VITRINE_ORPHAN_SWEEP_SECONDS", default=600)
# Training jobs started from the admin or the API read files only below this folder.
VITRINE_TRAINING_DATA_ROOT = env.str(
    "VITRINE_TRAINING_DATA_ROOT", default=str(VAR_DIR / "training-data")
)
# Activating a trained version copies its calibrated per-category thresholds.
VITRINE_APPLY_CALIBRATED_THRESHOLDS = env.bool(
    "VITRINE_APPLY_CALIBRATED_THRESHOLDS", default=True
)
# The share of auto-accepted predictions sent to the review queue as audit
# samples, which measure the precision of automatic decisions; a category may
# have its own ("apparel=0.1,footwear=0.05").
VITRINE_AUDIT_RATE = env.float("VITRINE_AUDIT_RATE", default=0.03)
VITRINE_AUDIT_RATE_PER_CATEGORY = env.dict(
    "VITRINE_AUDIT_RATE_PER_CATEGORY", cast={"value": float}, default={}
)
# Threshold proposals: a forecast resting on fewer reviewed or audited
# decisions than this says "not enough evidence".
VITRINE_THRESHOLD_MIN_EVIDENCE = env.int("VITRINE_THRESHOLD_MIN_EVIDENCE", default=30)

# --- Dashboard: Chart.js, pinned. The integrity is the SHA-384 of the pinned
# version's dist/chart.umd.min.js (the file the CDN serves). A URL without a
# scheme or leading slash is a static file: `make vendor` copies the pinned file
# to static/vendor/ for offline installs (VITRINE_CHARTJS_URL=
# vendor/chartjs-4.5.1/chart.umd.min.js) and the browser tests.
VITRINE_CHARTJS_URL = env.str(
    "VITRINE_CHARTJS_URL",
    default="https://cdn.jsdelivr.net/npm/chart.js@4.5.1/dist/chart.umd.min.js",
)
VITRINE_CHARTJS_INTEGRITY = env.str(
    "VITRINE_CHARTJS_INTEGRITY",
    default="sha384-jb8JQMbMoBUzgWatfe6COACi2ljcDdZQ2OxczGA3bGNeWe+6DChMTBJemed7ZnvJ",
)

# --- Content-Security-Policy, on every response. Pages carry no inline script,
# style attribute or event handler, and load scripts and styles from static
# files only: keep it so (tests/e2e/test_csp_browser.py fails on a violation).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, *script_sources(chartjs_url=VITRINE_CHARTJS_URL)],
    "style-src": [CSP.SELF],
    # data: for the SVG icons inlined in Swagger UI's style sheet.
    "img-src": [
        CSP.SELF,
        "data:",
        *image_sources(
            bucket=AWS_STORAGE_BUCKET_NAME,
            endpoint_url=env.str("AWS_S3_ENDPOINT_URL", default=""),
            region=env.str("AWS_S3_REGION_NAME", default=""),
        ),
    ],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Review queue: near-duplicate photos of one merchant. Measured on 2,000
# product photos: resized or re-encoded copies differ by 0-2 bits (99%), while
# 0.13% of pairs of different products are within 6 bits, 0.0075% within 2.
VITRINE_NEAR_DUPLICATE_HAMMING = env.int("VITRINE_NEAR_DUPLICATE_HAMMING", default=2)
VITRINE_NEAR_DUPLICATE_COSINE = env.float("VITRINE_NEAR_DUPLICATE_COSINE", default=0.95)

# --- Celery: eager (in-process) unless a broker is configured; `make run` sets
# the embedded one (config/broker.py, config/run_local.py).
_broker_url = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not _broker_url
# In-process mode still wants a URL: an in-memory one never leaves the process.
CELERY_BROKER_URL = _broker_url or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The pool size of a worker started without --concurrency (the inference one).
CELERY_WORKER_CONCURRENCY = VITRINE_INFERENCE_PROCESSES
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged task comes back after this long if its worker vanished.
    # Longer than the longest acknowledged-late task may wait and run (a retry's
    # countdown, at most 300 s, plus classify_image's 90 s limit): a shorter one
    # would hand a task still waiting for its countdown to a second worker.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    **transport_options(_broker_url, VAR_DIR),
}
# A publish while the broker is away gives up within about a second: the
# outbox keeps the intent and the dispatcher sends it when the broker is back.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "classification.tasks.classify_image": {"queue": "inference"},
    "classification.tasks.shadow_classify_image": {"queue": "inference"},
    "classification.tasks.reclassify_batch": {"queue": "inference"},
    "classification.tasks.*train*": {"queue": "training"},
}
# config.tasks.TransientRetryTask: retries of a transient error, the first
# backoff in seconds (doubling, drawn at random below it) and the longest.
VITRINE_TASK_MAX_RETRIES = env.int("VITRINE_TASK_MAX_RETRIES", default=5)
VITRINE_TASK_RETRY_BACKOFF = env.int("VITRINE_TASK_RETRY_BACKOFF", default=5)
VITRINE_TASK_RETRY_BACKOFF_MAX = env.int("VITRINE_TASK_RETRY_BACKOFF_MAX", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Upkeep for `celery -A config beat` (or a worker started with --beat); the same
# jobs are the dispatch_classifications, storage_orphans --remove,
# purge_idempotency_keys and retry_webhooks commands, for cron.
CELERY_BEAT_SCHEDULE = {
    "dispatch-classifications": {
        "task": "classification.tasks.dispatch_classifications",
        "schedule": VITRINE_DISPATCH_INTERVAL_SECONDS,
    },
    "remove-storage-orphans": {
        "task": "catalog.tasks.remove_storage_orphans",
        "schedule": VITRINE_ORPHAN_SWEEP_SECONDS,
    },
    "purge-idempotency-keys": {
        "task": "accounts.tasks.purge_idempotency_keys",
        "schedule": 3600,
    },
    # Failed webhook deliveries wait here, never in a request (first retry: 30 s).
    "retry-webhook-deliveries": {
        "task": "webhooks.tasks.retry_webhook_deliveries",
        "schedule": 30,
    },
}

# --- REST framework. Rates are "<requests>/<second|minute|hour|day>"; the
# merchant and staff budgets are per user, the anonymous one per client address.
VITRINE_API_PAGE_SIZE = env.int("VITRINE_API_PAGE_SIZE", default=25)
VITRINE_API_MAX_PAGE_SIZE = env.int("VITRINE_API_MAX_PAGE_SIZE", default=100)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Each view names a capability per action; the roles table decides.
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.HasCapability"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",  # refuses bodies nested too deeply
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.api.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": VITRINE_API_PAGE_SIZE,
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.RoleRateThrottle",
        "config.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("VITRINE_API_RATE_ANON", default="60/minute"),
        "merchant": env.str("VITRINE_API_RATE_MERCHANT", default="600/minute"),
        "staff": env.str("VITRINE_API_RATE_STAFF", default="1200/minute"),
        # Extra budgets for costly endpoints, on top of the role's.
        "classify": env.str("VITRINE_API_RATE_CLASSIFY", default="30/minute"),
        "token": env.str("VITRINE_API_RATE_TOKEN", default="10/minute"),
    },
    # Proxies in front of the app whose X-Forwarded-For is trusted for the
    # anonymous budget; 0 uses the connection's own address.
    "NUM_PROXIES": env.int("VITRINE_API_NUM_PROXIES", default=0),
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Throttle counters live in the cache: give several web processes a shared one
# (redis://...) so that they count together.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Sign-in lockout (django-axes) on the login pages, the admin's and the API's
# token endpoint: failed passwords are counted per username and per client
# address in the default cache (Redis with CACHE_URL, so that every web process
# counts together); see accounts/lockout.py.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # The admin's model permissions come from the roles table (accounts/roles.py).
    "accounts.roles.RoleBackend",
]
VITRINE_LOGIN_FAILURE_LIMIT = env.int("VITRINE_LOGIN_FAILURE_LIMIT", default=10)
VITRINE_LOGIN_COOLOFF_SECONDS = env.int("VITRINE_LOGIN_COOLOFF_SECONDS", default=900)
VITRINE_LOGIN_COOLOFF_MAX_SECONDS = env.int(
    "VITRINE_LOGIN_COOLOFF_MAX_SECONDS", default=86400
)
AXES_HANDLER = "accounts.lockout.LoginFailureCacheHandler"
AXES_FAILURE_LIMIT = "accounts.lockout.failure_limit"
AXES_COOLOFF_TIME = "accounts.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = False  # the cache handler keeps no rows to show
AXES_VERBOSE = False  # log lockouts, not a banner at every start
# A password change revokes the user's API tokens: Django's password_changed()
# hook, see accounts/passwords.py.
AUTH_PASSWORD_VALIDATORS += [
    {"NAME": "accounts.passwords.ApiTokensRevokedOnPasswordChange"}
]
# Days an API token is valid from its creation; 0: until revoked.
VITRINE_API_TOKEN_LIFETIME_DAYS = env.int("VITRINE_API_TOKEN_LIFETIME_DAYS", default=0)

# --- Webhooks.
VITRINE_WEBHOOK_TIMEOUT = env.float("VITRINE_WEBHOOK_TIMEOUT", default=5.0)
# Let webhooks call private and loopback addresses (tests, closed networks).
VITRINE_WEBHOOK_ALLOW_PRIVATE = env.bool("VITRINE_WEBHOOK_ALLOW_PRIVATE", default=False)

# --- Catalog imports (each photo also meets the upload limits above).
VITRINE_IMPORT_MAX_FILE_BYTES = env.int(
    "VITRINE_IMPORT_MAX_FILE_BYTES", default=4 * 1024**3
)
VITRINE_IMPORT_MAX_MEMBERS = env.int("VITRINE_IMPORT_MAX_MEMBERS", default=100_000)
VITRINE_IMPORT_MAX_UNCOMPRESSED_BYTES = env.int(
    "VITRINE_IMPORT_MAX_UNCOMPRESSED_BYTES", default=16 * 1024**3
)
VITRINE_IMPORT_MAX_ROWS = env.int("VITRINE_IMPORT_MAX_ROWS", default=100_000)
VITRINE_IMPORT_MAX_IMAGES_PER_ROW = env.int(
    "VITRINE_IMPORT_MAX_IMAGES_PER_ROW", default=20
)
VITRINE_IMPORT_BATCH_ROWS = env.int("VITRINE_IMPORT_BATCH_ROWS", default=100)
VITRINE_IMPORT_FETCH_TIMEOUT = env.float("VITRINE_IMPORT_FETCH_TIMEOUT", default=10.0)
VITRINE_IMPORT_FETCH_MAX_REDIRECTS = env.int(
    "VITRINE_IMPORT_FETCH_MAX_REDIRECTS", default=3
)
# Networks photo URLs may reach besides public addresses (CIDRs; tests, closed
# networks). Every redirect is checked against the same rule.
VITRINE_IMPORT_FETCH_ALLOW_NETWORKS = env.list(
    "VITRINE_IMPORT_FETCH_ALLOW_NETWORKS", default=[]
)

SPECTACULAR_SETTINGS = {
    "TITLE": "Vitrine API",
    "DESCRIPTION": "Product catalogs whose photos sort themselves.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so read-only fields do not
    # appear as inputs.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ImageStatusEnum": "catalog.models.ImageStatus",
        "CategorySourceEnum": "catalog.models.CategorySource",
        "PredictionStatusEnum": "classification.models.Prediction.Status",
        "ModelVersionStatusEnum": "classification.models.ModelVersion.Status",
        "JobStatusEnum": "classification.models.Job.Status",
        "JobKindEnum": "classification.models.Job.Kind",
        "ImportJobSourceEnum": "imports.models.ImportJob.Source",
        "ReviewDecisionEnum": "classification.models.Review.Decision",
        "DeliveryStatusEnum": "webhooks.models.Delivery.Status",
        "WebhookEventEnum": "webhooks.models.Event",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
