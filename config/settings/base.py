"""Settings shared by every environment, read from environment variables (django-environ).

Every variable is listed in README.md. Defaults give the embedded set-up of `make run`: SQLite under var/,
tasks run in-process, emails written to var/mail/.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env file is optional; real environment variables always win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
BASE_URL = env.str("BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "anymail",
    "merchants",
    "shop",
    "vouchers",
    "payments",
    "delivery",
    "redemption",
]

MIDDLEWARE = [
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: one URL. SQLite by default so that `make run` needs nothing installed.
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Views call Stripe over HTTP; a request-wide transaction would hold locks during that call.
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Waiting briefly for the write lock beats failing when the server and a task write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that needs no round trip (see core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "core.postgresql"
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # Values are sent apart from the SQL, and a statement run five times on a connection is prepared:
        # PostgreSQL then skips parsing and planning it, most of its work for the short reads and writes of a
        # redemption. Turn off behind a pooler in transaction mode that does not keep prepared statements
        # (PgBouncer before 1.21, or later with max_prepared_statements = 0).
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Internationalisation: English and German, translations compiled by `make install`.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Redis: when REDIS_URL is unset, Celery runs tasks in-process and the cache is local memory.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "core.cache.ReusingRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery, configured from these settings through the CELERY_ namespace (config/celery.py).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A task is acknowledged only when it finished, so a killed worker's message is delivered again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# Redis redelivers an unacknowledged message after this long; longer than the hard time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_DEFAULT_QUEUE = "voucher-shop"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Periodic sweepers run by `celery beat`: each entry names a task in an app's tasks.py.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "delivery-sweep": {"task": "delivery.sweep", "schedule": 60.0},
    "redemption-cleanup": {"task": "redemption.tasks.redemption_cleanup", "schedule": 600.0},
    # Applies what Stripe's webhooks missed: sessions of pending orders, stored events not yet processed.
    "payments-reconcile": {"task": "payments.tasks.reconcile_payments", "schedule": 300.0},
    "vouchers-expire-due": {"task": "vouchers.expire_due", "schedule": 900.0},
}

# Email. EMAIL_URL picks the transport: smtp://, smtps://, file://<dir>, console://, or anymail://<esp>.
EMAIL_URL = env.str("EMAIL_URL", default=f"file://{VAR_DIR / 'mail'}")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Voucher Shop <vouchers@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ANYMAIL: dict[str, object] = env.json("ANYMAIL", default={})

from core.email import email_settings_from_url, redact_url_password  # noqa: E402

_email_settings = email_settings_from_url(EMAIL_URL)
globals().update(_email_settings)
EMAIL_BACKEND: str = _email_settings["EMAIL_BACKEND"]
# The password now lives in EMAIL_HOST_PASSWORD, which error reports hide; the URL as shown keeps no copy of it.
EMAIL_URL = redact_url_password(EMAIL_URL)

# How many reverse proxies in front of the app append to X-Forwarded-For; 0 means clients connect directly and
# REMOTE_ADDR is the client. Throttling keys on the address the outermost trusted proxy saw.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# New orders one client address (an IPv6 /64) may place in the storefront per clock hour; 0 turns the limit off.
STOREFRONT_ORDERS_PER_HOUR = env.int("STOREFRONT_ORDERS_PER_HOUR", default=20)
# How long a redemption may be reversed by anyone at its counter: "business_day" (the calendar day of the redemption
# in the merchant's time zone) or a number of minutes. After it only a manager or owner may reverse, with a reason.
REVERSAL_WINDOW = env.str("REVERSAL_WINDOW", default="business_day")

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "redemption.api_errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Voucher Shop API",
    "DESCRIPTION": "Validate, hold and redeem vouchers from a till, POS or partner system.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
}

# Every handler redacts voucher codes, page tokens and URL passwords (config/log_redaction.py). Django's own
# handlers are replaced by these: its loggers propagate to the root, and runserver's request lines keep their format.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.log_redaction.RedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "NOTSET", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "NOTSET", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Content-Security-Policy (django-csp): scripts and styles come from the shop's own static files, or inline with the
# response's nonce (``<style nonce="{{ request.csp_nonce }}">``); no inline event handlers, no eval, no plugins, no
# framing. Forms post to the shop, whose checkout redirects to Stripe's hosted page (browsers apply form-action to
# that redirect). The POS camera needs nothing more: getUserMedia is not governed by CSP, and the QR library is a
# static file loaded on demand.
from csp.constants import NONCE, NONE, SELF  # noqa: E402

# Where the checkout sends the buyer: Stripe's hosted page, or the custom domain set up for Stripe Checkout.
STRIPE_CHECKOUT_ORIGINS = env.list("STRIPE_CHECKOUT_ORIGINS", default=["https://checkout.stripe.com"])

MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY: dict[str, dict[str, list[object]]] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF, *STRIPE_CHECKOUT_ORIGINS],
    }
}

# Stripe. Without STRIPE_SECRET_KEY, checkout goes to the local demo payment page (see payments/).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
# The default signs the demo checkout's events locally; production refuses to run with it.
DEMO_WEBHOOK_SECRET = "whsec_demo_local_only"  # noqa: S105 - public on purpose, refused in production
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default=DEMO_WEBHOOK_SECRET)
# The signing secret of the Connect webhook endpoint (events of merchants' connected accounts); empty: none.
STRIPE_CONNECT_WEBHOOK_SECRET = env.str("STRIPE_CONNECT_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")

# ---------------------------------------------------------------------------------------------------------------
# Staff logins and sessions: brute-force limits (django-axes), two-factor login (django-otp), session length,
# where messages are kept. Kept in one block; the apps and middleware are appended here so that the lists above
# stay as they are.
# ---------------------------------------------------------------------------------------------------------------
# A staff session (admin and POS page) ends 8 hours after login: one working day, then the password again.
SESSION_COOKIE_AGE = 8 * 60 * 60
# Messages carry secrets shown once (a new API token, a one-time password): keep them in the server-side session,
# not in the messages cookie, which the browser stores and sends back readable.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static", "axes"]
MIDDLEWARE += [
    # After the authentication middleware: marks the user verified when the session holds a proven device.
    "django_otp.middleware.OTPMiddleware",
    # Sends owners and managers who need a second factor to enrol or verify before any admin or POS page.
    "merchants.two_factor.StaffTwoFactorMiddleware",
    # Last, as axes asks: it turns a login that its backend refused into the lockout page.
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = ["config.login_limits.LoginLimitBackend", "django.contrib.auth.backends.ModelBackend"]
# Failures of one login from one address before that login is locked for that address.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
# Failures of any logins from one address before the address is locked for every login (password spraying).
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_LOCKOUT_MINUTES = env.int("LOGIN_LOCKOUT_MINUTES", default=15)
AXES_HANDLER = "config.login_limits.LoginLimitHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Tries during a lockout are refused unrecorded: recording them would append to the attempt row without end (a
# flood of requests would rewrite an ever larger row) and keep pushing the lockout's end further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.login_limits.client_address"
AXES_USERNAME_CALLABLE = "config.login_limits.login_name"
AXES_LOCKOUT_CALLABLE = "config.login_limits.lockout_response"
# Failed logins are in AccessAttempt; a row per successful login as well is not needed.
AXES_DISABLE_ACCESS_LOG = True
# No start-up banner in the output of every management command.
AXES_VERBOSE = False
# seed_demo sets the demo logins' published passwords: allowed here, refused by production settings unless set.
SEED_DEMO_ALLOWED = env.bool("SEED_DEMO_ALLOWED", default=True)
# Owners and managers (and platform superusers) must use a second factor when true; a merchant can also require it
# for its own owners and managers. Staff who enrolled always prove it.
STAFF_TWO_FACTOR_REQUIRED = env.bool("STAFF_TWO_FACTOR_REQUIRED", default=False)
OTP_TOTP_ISSUER = "Voucher Shop"
# The admin lists staff's devices (to delete a lost one) without showing their keys or QR codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
