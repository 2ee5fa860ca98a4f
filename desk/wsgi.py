"""The desk as a WSGI application (gunicorn `desk.wsgi:application` behind the TLS proxy; see docs/desk.md)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desk.settings")
application = get_wsgi_application()
