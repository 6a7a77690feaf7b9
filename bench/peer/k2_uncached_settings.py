"""K2 Site's settings without the page cache, for the "uncached" run of bench/peer/run.py.

The same switch bench/measure.py makes in-process (PageCacheMiddleware left out
of MIDDLEWARE), made for gunicorn: every request renders its page. Everything
else — the Redis cache the app uses for its content version, its scheduled
check and search snippets — is as deployed.
"""

from k2site.settings import *  # noqa: F403
from k2site.settings import MIDDLEWARE

MIDDLEWARE = [name for name in MIDDLEWARE if name != "k2site.middleware.PageCacheMiddleware"]
