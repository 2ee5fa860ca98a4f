"""Django settings of the desk, read once from the environment that `sopipe desk serve` (or the systemd unit) sets.

SOPIPE_DESK_DATA     folder of the desk's own small database (sessions, lockouts) and its secret key; the desk's
                     user owns it (0700). No case data is ever stored there.
SOPIPE_GATEWAY_SOCKET  the gateway's socket (`<root>/gateway/desk.sock`).
SOPIPE_DESK_IDLE     seconds of inactivity after which a session ends (default 900: 15 minutes).
SOPIPE_DESK_PRODUCTION  "1" behind the TLS reverse proxy: secure cookies, HSTS, the proxy's scheme header trusted.
SOPIPE_DESK_HOSTS    comma-separated host names the desk answers to (default 127.0.0.1,localhost).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DATA = Path(os.environ.get("SOPIPE_DESK_DATA", BASE_DIR.parent / ".desk-data"))
GATEWAY_SOCKET = os.environ.get("SOPIPE_GATEWAY_SOCKET", "gateway/desk.sock")
IDLE_SECONDS = int(os.environ.get("SOPIPE_DESK_IDLE", "900"))
PRODUCTION = os.environ.get("SOPIPE_DESK_PRODUCTION", "0") == "1"


def _secret_key() -> str:
    DATA.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = DATA / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = False  # never Django's English debug pages, also not in the demo
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("SOPIPE_DESK_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "axes",
    "desk.balie",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "desk.balie.middleware.security_headers",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "desk.urls"
WSGI_APPLICATION = "desk.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                       "django.contrib.auth.context_processors.auth",
                                       "django.contrib.messages.context_processors.messages"]},
}]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA / "desk.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Who logs in is decided by the gateway (password and code); axes counts the failures here first.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "desk.balie.auth.GatewayBackend"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
"""The desk keeps no passwords (the gateway does, Argon2id); should one ever be set here, it is Argon2 too."""
LOGIN_URL = "/inloggen/"

SESSION_ENGINE = "django.contrib.sessions.backends.db"  # server-side: the cookie holds only the session id
SESSION_COOKIE_AGE = IDLE_SECONDS
SESSION_SAVE_EVERY_REQUEST = True  # each request restarts the idle time
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "desk.balie.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "balie/geblokkeerd.html"
AXES_VERBOSE = False

OTP_LOGIN_URL = LOGIN_URL

LANGUAGE_CODE = "nl"
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"desk": {"handlers": ["stderr"], "level": "INFO"},
                "django.request": {"handlers": ["stderr"], "level": "ERROR"}},
}
