"""Proof that read replicas work (k2site/db_router.py), on this machine.

Sets up a PostgreSQL primary and a streaming replica of it (pg_basebackup)
as two throwaway clusters on free loopback ports, runs the site (gunicorn,
one worker) against both, and shows:

  1. public pages read from the replica, the admin from the primary
     (every statement the site sends is logged by each cluster under the
     site's application_name, and counted per page);
  2. a study published on the primary while the replica's replay is paused
     is missing from the public page, and appears once replay resumes;
  3. with the replica stopped, pages are still served, from the primary.

Everything lives in one temporary directory, removed at the end with both
clusters stopped, also on failure or timeout. Needs the PostgreSQL server
binaries (initdb, pg_ctl, pg_basebackup); as root, they run as the
``postgres`` user. Prints a short report; exit status 0 when all holds.

    .venv/bin/python bench/replica/replica_check.py
"""

import collections
import glob
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
# Seconds for the whole check, clusters and site included.
TIME_LIMIT = 120
DATABASE = "k2site_replica_check"
# The site's connections say who they are, so each cluster's log tells its
# statements from the script's own.
SITE_APP = "k2site-web"
ADMIN_USER, ADMIN_PASSWORD = "replica-check", "replica-check-password-1"


class CheckFailed(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def pg_bindir():
    """The server binaries of one PostgreSQL version: PG_BINDIR, else the
    newest /usr/lib/postgresql/*/bin, else wherever initdb is on PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    installed = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(installed, key=lambda path: [int(n) for n in re.findall(r"\d+", path)], reverse=True)
    candidates.append(str(Path(shutil.which("initdb") or "/nonexistent").parent))
    for directory in candidates:
        if directory and all((Path(directory) / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(directory)
    raise CheckFailed("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found; set PG_BINDIR.")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command, timeout=30, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, command))} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


class Cluster:
    """One PostgreSQL cluster in ``tmp``/``name``, listening on 127.0.0.1 only."""

    def __init__(self, name, tmp, port, bindir):
        self.name, self.tmp, self.port, self.bindir = name, tmp, port, bindir
        self.data, self.log = tmp / name, tmp / f"{name}.log"
        self.running = False

    def pg(self, tool, *args, timeout=30):
        command = [str(self.bindir / tool), *map(str, args)]
        # initdb and pg_ctl refuse to run as root.
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return run(command, timeout=timeout, cwd=self.tmp, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"})

    def configure(self, settings):
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n# bench/replica/replica_check.py\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self):
        self.pg("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "30", "start")
        self.running = True

    def stop(self, mode="fast"):
        if self.running:
            self.pg("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")
            self.running = False

    def url(self, app=SITE_APP):
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}?application_name={app}"

    def sql(self, query, dbname=DATABASE):
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True, connect_timeout=3
        ) as conn:
            cursor = conn.execute(query)
            return cursor.fetchall() if cursor.description else []

    def log_size(self):
        return self.log.stat().st_size if self.log.exists() else 0

    def site_statements(self, since):
        """The statements the site sent since the log had ``since`` bytes."""
        with open(self.log, "rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        pattern = rf"app={re.escape(SITE_APP)} LOG:  (?:statement|execute [^:]*): (.*)"
        return re.findall(pattern, text)


def selects(statements):
    """How many are the ORM's reads of the site's tables (not the connection
    setup: set_config, type lookups)."""
    return sum(1 for statement in statements if statement.lstrip("( ").startswith("SELECT") and ' FROM "' in statement)


Page = collections.namedtuple("Page", "status body seconds on_primary on_replica schedule_check")


class Site:
    """gunicorn with one worker against the primary and the replica."""

    def __init__(self, primary, replica, tmp):
        self.primary, self.replica = primary, replica
        self.port = free_port()
        self.log = tmp / "web.log"
        self.process = None
        # A visitor without cookies, and an editor who logs in (a session
        # cookie pins all their requests to the primary). No proxy: loopback
        # only, whatever the environment says.
        self.visitor = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.editor = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "DJANGO_"))},
            "DJANGO_SETTINGS_MODULE": "k2site.settings",
            "DJANGO_SECRET_KEY": "replica-check-only",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": primary.url(),
            "DATABASE_REPLICA_URLS": replica.url(),
            # A connection per request, as `make test` runs: each request's
            # first read checks the replica by connecting to it.
            "DATABASE_CONN_MAX_AGE": "0",
            "CACHE_URL": "",
            "GUNICORN_CMD_ARGS": "",
        }

    def manage(self, *args, env=None, timeout=60):
        """A management command: outside a request, all on the primary."""
        env = {**self.env, "DATABASE_URL": self.primary.url(app="k2site-manage"), **(env or {})}
        return run([sys.executable, "manage.py", *args], timeout=timeout, cwd=ROOT, env=env)

    def start(self):
        command = [sys.executable, "-m", "gunicorn", "k2site.wsgi:application", f"--bind=127.0.0.1:{self.port}"]
        # No control socket: it would live in $HOME, shared with any other run.
        command += ["--workers=1", "--timeout=30", "--access-logfile=-", "--no-control-socket"]
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            expect(self.process.poll() is None, f"gunicorn exited:\n{self.log.read_text()}")
            try:
                # /healthz uses the primary's connection directly: the router
                # is not asked, so not imported, yet.
                if self.fetch("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise CheckFailed("the site did not answer /healthz within 20 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)

    def fetch(self, path, data=None, editor=False):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data)
        try:
            with (self.editor if editor else self.visitor).open(request, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get(self, path, data=None, editor=False):
        """A page, with the SELECTs it sent to each cluster."""
        marks = self.primary.log_size(), self.replica.log_size()
        started = time.monotonic()
        status, body = self.fetch(path, data, editor)
        seconds = time.monotonic() - started
        on_primary = self.primary.site_statements(marks[0])
        on_replica = self.replica.site_statements(marks[1])
        # k2site.middleware.ScheduledVisibilityMiddleware, once per 5 s: its
        # SELECT … FOR UPDATE goes to the primary and pins the request there.
        schedule_check = any("FOR UPDATE" in statement for statement in on_primary)
        return Page(status, body, seconds, selects(on_primary), selects(on_replica), schedule_check)

    def get_routed(self, path):
        """A public page without the scheduled-publishing check in it: the
        check runs at most once per 5 s, so a second try right away has none."""
        page = self.get(path)
        # Another address for the second try: the first one's page is cached now.
        return self.get(path + ("&" if "?" in path else "?") + "again") if page.schedule_check else page


def wait_replayed(primary, replica, timeout=15):
    """Until the replica has replayed everything the primary has written."""
    target = primary.sql("SELECT pg_current_wal_lsn()::text")[0][0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0][0]:
            return
        time.sleep(0.05)
    raise CheckFailed(f"the replica did not replay up to {target} within {timeout} s")


def check(primary, replica, site, tmp, report):
    # The primary: loopback only, trust (replication too), statements logged.
    primary.pg("initdb", "-D", primary.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
    primary.configure(
        {
            "port": primary.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{tmp}'",
            "wal_level": "replica",
            "max_wal_senders": 4,
            "hot_standby": "on",
            "fsync": "off",
            "log_statement": "'all'",
            "log_line_prefix": "'%m [%p] app=%a '",
        }
    )
    (primary.data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        "local replication all trust\n"
        "host replication all 127.0.0.1/32 trust\n"
    )
    primary.start()
    primary.sql(f"CREATE DATABASE {DATABASE}", dbname="postgres")

    # The replica: a base backup of the primary, -R makes it a standby that
    # streams from it; the same settings but its own port.
    primary_address = ["-h", "127.0.0.1", "-p", primary.port, "-U", "postgres"]
    replica.pg("pg_basebackup", *primary_address, "-D", replica.data, "-R", "-X", "stream", "--checkpoint=fast")
    replica.configure({"port": replica.port})
    replica.start()
    expect(replica.sql("SELECT pg_is_in_recovery()")[0][0], "the replica is not in recovery")
    report.append(f"primary 127.0.0.1:{primary.port}, streaming replica 127.0.0.1:{replica.port} (pg_basebackup -R)")

    # Schema and an editor on the primary, then the site.
    site.manage("migrate", "--no-input", "-v0", timeout=90)
    site.manage(
        "createsuperuser",
        "--no-input",
        "--email",
        "check@example.org",
        env={"DJANGO_SUPERUSER_USERNAME": ADMIN_USER, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
    )
    wait_replayed(primary, replica)
    site.start()
    report.append(f"site: gunicorn, 1 worker, 127.0.0.1:{site.port}")

    # (a) Where reads go.
    # The router is loaded with the application (k2site/wsgi.py), so even
    # the process's first page reads from the replica (bar the scheduled check).
    for path in ("/?first", "/?a", "/tags/?b", "/studies/?c", "/search/?q=vitamin"):
        page = site.get_routed(path)
        expect(page.status == 200, f"GET {path} answered {page.status}")
        expect(
            page.on_replica > 0 and page.on_primary == 0,
            f"GET {path}: {page.on_primary} SELECTs on the primary, {page.on_replica} on the replica",
        )
        report.append(f"{'public ' + path:<32} SELECTs primary {page.on_primary:2}, replica {page.on_replica:2}")

    status, login_page = site.fetch("/admin/login/", editor=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
    expect(status == 200 and token, "no login form at /admin/login/")
    form = {
        "username": ADMIN_USER,
        "password": ADMIN_PASSWORD,
        "csrfmiddlewaretoken": token.group(1),
        "next": "/admin/",
    }
    page = site.get("/admin/login/", data=urllib.parse.urlencode(form).encode(), editor=True)
    expect(page.status == 200 and page.on_replica == 0, f"admin login: {page.status}, {page.on_replica} on the replica")
    for path, label in (("/admin/studies/study/", "admin"), ("/?editor", "public, logged in,")):
        page = site.get(path, editor=True)
        expect(page.status == 200, f"GET {path} as the editor answered {page.status}")
        expect(
            page.on_primary > 0 and page.on_replica == 0,
            f"GET {path} as the editor: {page.on_primary} SELECTs on the primary, {page.on_replica} on the replica",
        )
        report.append(f"{label + ' ' + path:<32} SELECTs primary {page.on_primary:2}, replica {page.on_replica:2}")

    # (b) A publish on the primary shows once replicated. Replay paused, the
    # replica still has the site as it was: the public page must not show it.
    title = f"Replica proof {uuid.uuid4().hex[:8]}"
    replica.sql("SELECT pg_wal_replay_pause()")
    site.manage(
        "shell",
        "-c",
        "import datetime, os\n"
        "from django.utils import timezone\n"
        "from catalog.models import Status\n"
        "from studies.models import Study\n"
        "now = timezone.now()\n"
        "Study.objects.create(title=os.environ['TITLE'], slug=os.environ['TITLE'].lower().replace(' ', '-'),\n"
        "    status=Status.PUBLISHED, publish_at=now - datetime.timedelta(minutes=1), year=now.year,\n"
        "    month=now.month, journal='Replica Journal', study_type='rct')\n",
        env={"TITLE": title},
    )
    query = f"SELECT count(*) FROM studies_study WHERE title = '{title}'"
    expect(primary.sql(query)[0][0] == 1, "the study is not on the primary")
    expect(replica.sql(query)[0][0] == 0, "the study reached the replica while replay was paused")
    page = site.get_routed("/?paused")
    expect(page.status == 200 and page.on_replica > 0 and page.on_primary == 0, "the page did not read the replica")
    expect(title not in page.body, "the public page showed the study while the replica's replay was paused")
    report.append(f'published "{title}": on the primary, not on the paused replica, not on the public page')

    replica.sql("SELECT pg_wal_replay_resume()")
    resumed = time.monotonic()
    wait_replayed(primary, replica)
    caught_up = time.monotonic() - resumed
    page = site.get_routed("/?resumed")
    expect(page.status == 200 and page.on_replica > 0 and page.on_primary == 0, "the page did not read the replica")
    expect(title in page.body, "the public page does not show the study after replay resumed")
    report.append(f"replay resumed: replica caught up in {caught_up * 1000:.0f} ms, the study is on the public page")

    # (c) The replica down: pages still served, from the primary.
    replica.stop()
    for attempt, path in (("first", "/?down1"), ("next", "/?down2")):
        page = site.get(path)
        expect(page.status == 200 and title in page.body, f"with the replica down, GET {path} answered {page.status}")
        expect(page.on_primary > 0, "with the replica down, the page did not read the primary")
        label = f"replica stopped, {attempt} page"
        report.append(f"{label:<32} SELECTs primary {page.on_primary:2}, 200 in {page.seconds * 1000:.0f} ms")
    # One failed connect: the next page did not try the replica again.
    warnings = [line.strip() for line in site.log.read_text().splitlines() if "Read replica" in line]
    expect(len(warnings) == 1, f"expected one 'Read replica … unavailable' warning, got {len(warnings)}")
    report.append(f"site log: {warnings[0][:110]}")


def main():
    started = time.monotonic()

    def give_up(signum, frame):
        raise CheckFailed(f"gave up after {TIME_LIMIT} s" if signum == signal.SIGALRM else "terminated")

    signal.signal(signal.SIGALRM, give_up)
    signal.signal(signal.SIGTERM, give_up)
    signal.alarm(TIME_LIMIT)

    tmp = Path(tempfile.mkdtemp(prefix="k2-replica-check-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    report, clusters, site = [], [], None
    try:
        bindir = pg_bindir()
        clusters = [Cluster(name, tmp, free_port(), bindir) for name in ("primary", "replica")]
        site = Site(*clusters, tmp)
        check(*clusters, site, tmp, report)
        ok = True
    except Exception as error:
        ok = False
        report.append(f"FAILED: {error}" if isinstance(error, CheckFailed) else f"FAILED: {error!r}")
        for log in ("web.log", "primary.log", "replica.log"):
            if (tmp / log).exists():
                tail = (tmp / log).read_text(errors="replace").splitlines()[-15:]
                report.append(f"--- last lines of {log}:\n" + "\n".join(tail))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the cleanup finish
        if site:
            site.stop()
        for cluster in reversed(clusters):
            try:
                cluster.stop(mode="immediate")
            except (CheckFailed, subprocess.TimeoutExpired) as error:
                report.append(f"could not stop the {cluster.name}: {error}")
        shutil.rmtree(tmp, ignore_errors=True)
    print("Read replicas (bench/replica/replica_check.py)")
    print("\n".join(f"  {line}" for line in report))
    print(f"  {'OK' if ok else 'FAILED'} in {time.monotonic() - started:.1f} s; clusters stopped, {tmp} removed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
