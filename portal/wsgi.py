import os

from django.core.wsgi import get_wsgi_application

from portal.request_guards import charset_guard

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

# The guard refuses a request Django could not even build (portal/request_guards.py).
application = charset_guard(get_wsgi_application())
