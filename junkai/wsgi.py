"""WSGI entry point (gunicorn or any WSGI server: `junkai.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "junkai.settings")
application = get_wsgi_application()
