"""Core Django settings. Integrations live in config/settings/<integration>.py."""

from pathlib import Path

from config.env import BASE_DIR, VAR_DIR, env, local_secret_key

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or local_secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
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
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",
    "allauth",
    "allauth.account",
    "constance",
    "parta.common",
    "parta.audit",
    "parta.accounts",
    "parta.notifications",
    "parta.catalog",
    "parta.groups",
    "parta.access",
    "parta.learning",
    "parta.billing",
    "parta.news",
    "parta.faq",
    "parta.chat",
    "parta.bot",
    "parta.crm",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "parta.common.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "parta.common.middleware.SchoolLanguageMiddleware",
    "parta.common.middleware.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "parta.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "parta" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "parta.common.context_processors.parta",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT: Parta's reads are short page queries, which PostgreSQL's JIT (switched on by
    # its cost estimate) makes several times slower; set DATABASE_JIT=true to keep it.
    if not env.bool("DATABASE_JIT", default=False):
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Russian by default; English is offered by a switch in the footer. The browser's
# Accept-Language is deliberately not consulted (see SchoolLanguageMiddleware).
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Times are stored in UTC and shown in the school's time zone (also used for day
# boundaries: see PARTA_TIME_ZONE in config/settings/parta.py, read from the same variable).
TIME_ZONE = env.str("PARTA_TIME_ZONE", default="Europe/Moscow")

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("PARTA_STATIC_ROOT", default=str(VAR_DIR / "static")))
# WhiteNoise looks at STATIC_ROOT at start-up; it exists even before collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "parta" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("PARTA_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# STORAGES (files and static files) is set in config/settings/storage.py.
# Without collectstatic the files are served straight from the apps (embedded default);
# production sets PARTA_STATIC_MANIFEST=1 and runs collectstatic for hashed names.
if not env.bool("PARTA_STATIC_MANIFEST", default=False):
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "account_request_login_code"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "home"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("PARTA_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

from config.settings.api import *  # noqa: E402
from config.settings.auth import *  # noqa: E402
from config.settings.cache import *  # noqa: E402
from config.settings.celery import *  # noqa: E402
from config.settings.channels import *  # noqa: E402
from config.settings.email import *  # noqa: E402
from config.settings.groups import *  # noqa: E402
from config.settings.live import *  # noqa: E402
from config.settings.parta import *  # noqa: E402
from config.settings.payments import *  # noqa: E402
from config.settings.security import *  # noqa: E402
from config.settings.storage import *  # noqa: E402
from config.settings.telegram import *  # noqa: E402
