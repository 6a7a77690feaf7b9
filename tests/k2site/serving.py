"""The production recipe on loopback, for the tests that read pages over real
HTTP: the documented environment (deploy/k2site.env.example) and gunicorn
started as `make serve` starts it."""

import contextlib
import os
import secrets
import subprocess
import sys
import urllib.request

from django.conf import settings

from bench.nginx_front import wait_for_port

ENV_FILE = settings.BASE_DIR / "deploy" / "k2site.env.example"


def production_env(tmp_path, **overrides):
    """The example environment, with a real secret and this machine's services."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "K2_"))}
    for line in ENV_FILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    env.update(
        {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'production.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "WEB_CACHE_DIR": str(tmp_path / "pages"),
            **overrides,
        }
    )
    return env


def manage(env, *args):
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=300)


@contextlib.contextmanager
def running_gunicorn(env, port, log_path):
    """`make serve` with ``env`` on 127.0.0.1:``port``."""
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            ["make", "-s", "serve", f"VENV={os.path.dirname(os.path.dirname(sys.executable))}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(port, server, timeout=30, log=log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=20)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url, **headers):
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Host": "k2.example.org", **headers})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
