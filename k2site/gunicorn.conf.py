"""gunicorn settings for production (make serve, deploy/k2site.service),
read from the environment like the site's own."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two per core plus one: a page is mostly CPU in Python, briefly waiting on
# the database.
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
# A worker stuck this long is replaced (every page answers in milliseconds;
# an import through the admin is the slowest request).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then: bounded memory whatever leaks.
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
# Only the local proxy may set X-Forwarded-Proto (nginx on this machine).
forwarded_allow_ips = "127.0.0.1,::1"
