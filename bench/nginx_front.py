"""nginx in front of a local app server, as deploy/nginx.conf puts it in
production (its page cache and page files included: the same snippets from
deploy/), on loopback ports without TLS: for bench/web_cache.py and the tests
that read pages through the web server (tests/k2site/test_web_cache.py).

nginx comes from Debian's package (`apt-get install nginx`); this starts its
own master process with its own configuration and directories, leaving any
system nginx alone.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# Files nginx serves itself, from disk: the floor to compare cached pages with.
STATIC_PROBES = "/static-probe/"

CONFIG = """
user root;
worker_processes {workers};
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    # As Debian's /etc/nginx/nginx.conf has them (the production http block).
    sendfile on;
    tcp_nopush on;
    include /etc/nginx/mime.types;
    client_body_temp_path {home}/body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    proxy_cache_path {home}/cache levels=1:2 keys_zone=k2site_pages:10m max_size=1g inactive=10m use_temp_path=off;
    include {deploy}/nginx-page-files-http.conf;
    upstream k2site {{
        server 127.0.0.1:{app_port} fail_timeout=0;
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name k2.example.org;
        location / {{
            {files}
        }}
        location @app {{
            proxy_pass http://k2site;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            # TLS ends here in production; on loopback, say so as nginx would.
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_redirect off;
            include {deploy}/nginx-page-cache.conf;
        }}
        location ^~ {probes} {{
            root {home}/www;
        }}
    }}
}}
"""


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, timeout=20, log=None):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                detail = Path(log).read_text() if log and Path(log).exists() else ""
                raise RuntimeError(f"nothing listening on {port}: {detail}") from None
            time.sleep(0.1)


def static_probe_dir(home):
    return Path(home) / "www" / STATIC_PROBES.strip("/")


def page_files_config(root, headers):
    """``location /`` as deploy/nginx.conf has it: the page files in ``root``
    (the app's WEB_CACHE_DIR) with the site's ``headers`` (the text
    `python -m k2site.page_files` prints)."""
    return f"root {root};\n{headers}\ninclude {DEPLOY}/nginx-page-files.conf;"


@contextlib.contextmanager
def running_nginx(app_port, home, *, workers=1, page_files=None):
    """Start nginx on a free port in front of 127.0.0.1:``app_port`` with the
    production page cache, and the page files if ``page_files`` is given
    (``page_files_config``); yields its base URL. Files put in
    ``static_probe_dir(home)`` are served at STATIC_PROBES + their name."""
    home = Path(home)
    static_probe_dir(home).mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = home / "nginx.conf"
    config.write_text(
        CONFIG.format(
            home=home,
            port=port,
            app_port=app_port,
            workers=workers,
            probes=STATIC_PROBES,
            deploy=DEPLOY,
            files=page_files or "try_files /- @app;",
        )
    )
    process = subprocess.Popen([nginx_binary(), "-c", str(config), "-p", str(home)], start_new_session=True)
    try:
        wait_for_port(port, process, log=home / "error.log")
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 15)
            process.wait(timeout=20)
