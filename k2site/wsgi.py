import os

from django.core.wsgi import get_wsgi_application
from django.db import router

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "k2site.settings")
application = get_wsgi_application()

# Load the database routers now rather than at the first query: the replica
# router (k2site/db_router.py) must be listening when the first request starts.
router.routers  # noqa: B018
