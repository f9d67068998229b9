"""WSGI entry point (`gunicorn aftercare.wsgi`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftercare.settings")
application = get_wsgi_application()
