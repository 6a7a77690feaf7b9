"""K2 Site beside stock WordPress on the same data: latency and throughput, uncached and cached.

    sh bench/peer/install.sh                                       # once, as root (Debian's packages)
    .venv/bin/python bench/peer/run.py --seed 100000               # seed K2, copy into WordPress, measure

Both sites run on loopback behind one nginx started here (config in a temp dir):
K2 under gunicorn, WordPress (Debian's package, theme Twenty Twenty-Three)
under a PHP-FPM pool started here, each with ``--workers`` processes. The
pages are bench/measure.py's picks (home, popular and rare tag, 2- and 3-tag
intersections popular/mid/rare, page 10 of the popular tag, a common and a
rare search word), each mapped to WordPress's own address for it
(``/tags/a+b/`` ↔ ``/?tag=a+b``, ``?page=10`` ↔ ``&paged=10``,
``/search/?q=w`` ↔ ``/?s=w``). Before measuring, each pair is checked: both
200, and a listing's first page shows the same entries in the same order.

Modes:
- uncached: K2 without its page cache (bench/peer/k2_uncached_settings.py),
  WordPress as installed (no page cache, no persistent object cache);
- cached: K2 as deployed (nginx proxy_cache as in deploy/nginx-page-cache.conf,
  in front of the app's Redis page cache; also the app's cache alone), and
  WordPress behind nginx's fastcgi_cache — Debian packages no page-cache
  plugin (bench/PEER.md).

Measured interleaved, so the shared machine's drifting load hits both sites
alike: latency medians over ``--requests`` sequential requests per page on a
kept-alive connection, the sites taking turns request by request; then wrk
(``--connections``, ``--seconds`` per URL), the sites taking turns page by
page (ABBA). Writes bench/PEER.md and bench/peer/results.json.
"""

import argparse
import datetime
import html
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
# The K2 code measured: a snapshot of a commit (see snapshot()), not the work tree others edit.
SOURCE = ROOT
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
PORTS = {"wp": 18080, "wp_cached": 18081, "k2": 18082, "k2_cached": 18083, "gunicorn": 18090}
REDIS_URL = "redis://127.0.0.1:6379/12"  # the only Redis database this run touches (emptied)
MYSQL = ["mysql", "-h", "127.0.0.1", "-u", "wp_peer", "-pwp_peer", "-N", "wp_peer"]

# bench/measure.py's page names (their prefixes) and ours; page 10 is added to the popular tag.
PAGES = [
    ("home", "home"),
    ("popular tag", "popular tag ("),
    ("rare tag", "rare tag ("),
    ("2 tags, popular", "2 tags, popular pair"),
    ("2 tags, mid", "2 tags, mid pair"),
    ("2 tags, rare", "2 tags, rare pair"),
    ("3 tags, popular", "3 tags, popular"),
    ("3 tags, mid", "3 tags, mid"),
    ("3 tags, rare", "3 tags, rare"),
    ("page 10, popular tag", None),
    ("search, common word", "search, common word"),
    ("search, rare word", "search, rare word"),
]
PICK = (
    "import json, sys; sys.path.insert(0, 'bench'); import measure; "
    "pages, _ = measure.benchmark_pages(); print(json.dumps([[n, u] for n, u, _t in pages]))"
)

# What nginx does in front of each site; WordPress's cache is the usual recipe (key on
# the full address, logged-in and commenting visitors bypass it) without its common
# "skip when there is a query string" rule, which with plain addresses would leave
# every tag page and search uncached.
NGINX = """
worker_processes auto;
pid {tmp}/nginx.pid;
{user}
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    error_log {tmp}/nginx-error.log warn;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    fastcgi_cache_path {tmp}/wp-cache levels=1:2 keys_zone=wp_pages:10m inactive=60m;
    proxy_cache_path {tmp}/k2-cache levels=1:2 keys_zone=k2_pages:10m inactive=10m use_temp_path=off;
    upstream k2 {{ server 127.0.0.1:{gunicorn} fail_timeout=0; keepalive 32; }}

    server {{ listen 127.0.0.1:{wp}; {wordpress} }}
    server {{
        listen 127.0.0.1:{wp_cached};
        set $skip_cache 0;
        if ($request_method = POST) {{ set $skip_cache 1; }}
        if ($request_uri ~* "/wp-admin/|/xmlrpc.php|wp-.*.php|/feed/") {{ set $skip_cache 1; }}
        if ($http_cookie ~* "comment_author|wordpress_[a-f0-9]+|wp-postpass|wordpress_no_cache|wordpress_logged_in") {{
            set $skip_cache 1;
        }}
        fastcgi_cache wp_pages;
        fastcgi_cache_key "$scheme$request_method$host$request_uri";
        fastcgi_cache_valid 200 60m;
        fastcgi_cache_lock on;
        fastcgi_cache_bypass $skip_cache;
        fastcgi_no_cache $skip_cache;
        add_header X-Cache-Status $upstream_cache_status always;
        {wordpress}
    }}
    server {{ listen 127.0.0.1:{k2}; location / {{ {k2_proxy} }} }}
    server {{
        listen 127.0.0.1:{k2_cached};
        location / {{
            {k2_proxy}
            # As deploy/nginx-page-cache.conf: the app says what may be kept (s-maxage).
            proxy_cache k2_pages;
            proxy_cache_key $scheme$host$request_uri;
            proxy_cache_methods GET HEAD;
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            proxy_cache_bypass $cookie_sessionid $cookie_messages;
            proxy_no_cache $cookie_sessionid $cookie_messages;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
"""
WORDPRESS = """root /usr/share/wordpress; index index.php;
        location / {{ try_files $uri $uri/ /index.php?$args; }}
        location ~ \\.php$ {{
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_pass unix:{tmp}/php-fpm.sock;
        }}"""
K2_PROXY = """proxy_pass http://k2; proxy_http_version 1.1; proxy_set_header Connection "";
            proxy_set_header Host $host; proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Real-IP $remote_addr; proxy_read_timeout 60s; proxy_redirect off;"""
PHP_FPM = """[global]
pid = {tmp}/php-fpm.pid
error_log = {tmp}/php-fpm.log
daemonize = no
[wp]
{user}
listen = {tmp}/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = {workers}
"""


def sh(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, check=True, **kwargs).stdout.strip()


def wp_sql(query):
    """One value or a row of values, tab-separated, from WordPress's database."""
    return sh([*MYSQL, "-e", query])


def snapshot(ref):
    """K2 at ``ref``, exported to a temp dir (git archive) with its static files collected: work
    in progress in the tree cannot change what is measured, and the report names the commit."""
    target = Path(tempfile.mkdtemp(prefix="k2-peer-src-"))
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", target], input=archive, check=True)
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "bench-only-secret"}
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=target, env=env, check=True)
    return target


def k2_env(database, uncached):
    return {
        **os.environ,
        "DATABASE_URL": database,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret"),
        "DJANGO_SETTINGS_MODULE": "k2_uncached_settings" if uncached else "k2site.settings",
        "CACHE_URL": REDIS_URL,
        "PYTHONPATH": str(HERE),  # k2_uncached_settings
    }


def seed(args):
    """A fresh K2 database seeded like bench/run.py's, copied into WordPress."""
    import psycopg

    admin = args.database.rsplit("/", 1)[0] + "/postgres"
    name = args.database.rsplit("/", 1)[1]
    assert name.startswith("k2_peer_"), "only databases named k2_peer_* are dropped here"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = k2_env(args.database, uncached=False)
    started = time.monotonic()
    subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], cwd=SOURCE, env=env, check=True)
    command = ["manage.py", "seed_bench", "--studies", str(args.seed), "--tree", "3", "--seed", "1"]
    subprocess.run([PYTHON, *command], cwd=SOURCE, env=env, check=True)
    subprocess.run([PYTHON, str(HERE / "export.py"), "--k2", args.database], check=True)
    return time.monotonic() - started


def wordpress_url(url):
    """WordPress's address for a K2 page (plain permalinks, as installed)."""
    path, _, query = url.partition("?")
    params = parse_qs(query)
    if path.startswith("/tags/"):
        wp = f"/?tag={path.removeprefix('/tags/').strip('/')}"  # "a+b": all of the tags, as on K2
        return wp + (f"&paged={params['page'][0]}" if "page" in params else "")
    if path == "/search/":
        return f"/?s={params['q'][0]}"
    return "/"


def pick_pages(database):
    """[(name, K2 url, WordPress url)] from bench/measure.py's picks on this database."""
    picked = dict(json.loads(sh([PYTHON, "-c", PICK], cwd=SOURCE, env=k2_env(database, uncached=True))))
    pages = []
    for name, prefix in PAGES:
        # Page 10 of the popular tag (the second page picked).
        url = pages[1][1] + "?page=10" if prefix is None else next(u for n, u in picked.items() if n.startswith(prefix))
        pages.append((name, url, wordpress_url(url)))
    return pages


class Stack:
    """nginx and PHP-FPM started here, on loopback ports, configured in a temp dir; gunicorn per mode."""

    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="k2-peer-"))
        self.tmp.chmod(0o755)
        root = os.geteuid() == 0
        fill = {"tmp": self.tmp, **PORTS}
        (self.tmp / "php-fpm.conf").write_text(
            PHP_FPM.format(user="user = www-data\ngroup = www-data" if root else "", workers=args.workers, **fill)
        )
        (self.tmp / "nginx.conf").write_text(
            NGINX.format(
                user="user www-data;" if root else "",
                wordpress=WORDPRESS.format(tmp=self.tmp),
                k2_proxy=K2_PROXY,
                **fill,
            )
        )
        self.processes = {}
        self.gunicorn = None

    def start(self):
        php = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
        self.processes["php-fpm"] = subprocess.Popen([php, "-F", "-y", self.tmp / "php-fpm.conf"])
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.processes["nginx"] = subprocess.Popen(
            [nginx, "-p", self.tmp, "-c", self.tmp / "nginx.conf", "-e", self.tmp / "nginx-error.log", "-g",
             "daemon off;"]
        )  # fmt: skip
        time.sleep(1)
        failed = [name for name, process in self.processes.items() if process.poll() is not None]
        if failed:
            raise RuntimeError(f"{', '.join(failed)} did not start (logs in {self.tmp})")

    def start_k2(self, uncached):
        self.stop_k2()
        self.gunicorn = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "k2site.wsgi", "--bind", f"127.0.0.1:{PORTS['gunicorn']}", "--workers",
             str(self.args.workers), "--log-level", "warning"],
            cwd=SOURCE,
            env=k2_env(self.args.database, uncached),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(PORTS["k2"], "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("K2 did not answer /healthz")

    def stop_k2(self):
        if self.gunicorn:
            self.gunicorn.terminate()
            self.gunicorn.wait(timeout=30)
            self.gunicorn = None

    def stop(self):
        self.stop_k2()
        for process in self.processes.values():  # only what this run started
            process.send_signal(signal.SIGQUIT if process.args[0].endswith("nginx") else signal.SIGTERM)
            process.wait(timeout=30)
        shutil.rmtree(self.tmp, ignore_errors=True)


def get(port, url, connection=None):
    """(status, body, headers) of one GET; on ``connection`` if given (kept alive)."""
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", url)
    response = conn.getresponse()
    body = response.read()
    if connection is None:
        conn.close()
    return response.status, body, response.headers


def flush_redis():
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# Listing rows: K2's entry title link; Twenty Twenty-Three's post title block.
TITLES = {
    "k2": re.compile(r'class="entry-title"[^>]*>(.*?)</a>', re.S),
    "wp": re.compile(r'<h2 class="wp-block-post-title"><a[^>]*>(.*?)</a>', re.S),
}
# wptexturize's typography back to plain characters.
TEXTURIZE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def titles(site, body):
    return [html.unescape(title).translate(TEXTURIZE).strip() for title in TITLES[site].findall(body.decode())]


def matching_counts(database, url):
    """Published entries with every tag of a tag page, counted in each site's database."""
    slugs = urlsplit(url).path.removeprefix("/tags/").strip("/").split("+")
    import psycopg

    with psycopg.connect(database) as conn:
        k2 = conn.execute(
            """SELECT count(*) FROM k2site_entry e WHERE e.status = 'published' AND e.publish_at <= now()
               AND (e.expire_at IS NULL OR e.expire_at > now()) AND (SELECT count(*) FROM k2site_entrytag et
               JOIN k2site_tag t ON t.id = et.tag_id WHERE et.entry_id = e.id AND t.slug = ANY(%s)) = %s""",
            (slugs, len(slugs)),
        ).fetchone()[0]
    listed = ",".join(f"'{slug}'" for slug in slugs if re.fullmatch(r"[a-z0-9-]+", slug))
    wp = wp_sql(
        f"""SELECT count(*) FROM (SELECT r.object_id FROM wp_term_relationships r
                JOIN wp_term_taxonomy x ON x.term_taxonomy_id = r.term_taxonomy_id AND x.taxonomy = 'post_tag'
                JOIN wp_terms t ON t.term_id = x.term_id JOIN wp_posts p ON p.ID = r.object_id
                WHERE t.slug IN ({listed}) AND p.post_status = 'publish' AND p.post_type = 'post'
                GROUP BY r.object_id HAVING count(*) = {len(slugs)}) matched"""
    )
    return k2, int(wp)


def check(pages, sites, database):
    """Each page on each site: its status, and for listings whether the first page's entries match."""
    rows = []
    for name, k2_url, wp_url in pages:
        row = {"page": name}
        shown = {}
        for key, (_label, port, is_wp) in sites.items():
            url = wp_url if is_wp else k2_url
            get(port, url)  # fill the cache, if any
            status, body, headers = get(port, url)
            row[key] = {"status": status, "cache": headers.get("X-Cache-Status", ""), "bytes": len(body)}
            shown[key] = titles("wp" if is_wp else "k2", body)
            row[key]["rows"] = len(shown[key])
        if k2_url.startswith("/tags/"):
            first = next(key for key, (_l, _p, is_wp) in sites.items() if not is_wp)
            wp_key = next(key for key, (_l, _p, is_wp) in sites.items() if is_wp)
            row["same_entries"] = shown[first] == shown[wp_key]
            row["counts"] = matching_counts(database, k2_url)
        rows.append(row)
        print(f"  check {name:24} {json.dumps(row)}", flush=True)
    return rows


def latency(pages, sites, requests):
    """{page: {site: p50 ms}}: the sites take turns request by request, order alternating."""
    results = {}
    for name, k2_url, wp_url in pages:
        connections = {
            key: http.client.HTTPConnection("127.0.0.1", port, timeout=60) for key, (_, port, _) in sites.items()
        }
        times = {key: [] for key in sites}
        keys = list(sites)
        for i in range(requests + 3):
            for key in keys if i % 2 == 0 else keys[::-1]:
                url = wp_url if sites[key][2] else k2_url
                started = time.perf_counter()
                get(None, url, connections[key])
                if i >= 3:  # three warm-up rounds
                    times[key].append((time.perf_counter() - started) * 1000)
        for conn in connections.values():
            conn.close()
        results[name] = {key: statistics.median(values) for key, values in times.items()}
        print(f"  p50 {name:24} " + "  ".join(f"{key} {ms:8.1f} ms" for key, ms in results[name].items()), flush=True)
    return results


def wrk(port, url, seconds, connections):
    output = sh(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", f"http://127.0.0.1:{port}{url}"]
    )
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|timeout|connect|read|write) (\d+)", output))
    return {"rate": rate, "errors": errors}


def throughput(pages, sites, seconds, connections):
    """{page: {site: {"rate", "errors"}}}: each page on every site in turn, the order reversed page by page."""
    results = {}
    keys = list(sites)
    for index, (name, k2_url, wp_url) in enumerate(pages):
        results[name] = {}
        for key in keys if index % 2 == 0 else keys[::-1]:
            url = wp_url if sites[key][2] else k2_url
            results[name][key] = wrk(sites[key][1], url, seconds, connections)
        print(f"  wrk {name:24} " + "  ".join(f"{k} {v['rate']:8.1f}/s" for k, v in results[name].items()), flush=True)
    return results


SHORT = {"k2": "K2", "k2_app": "K2 app cache", "wp": "WP"}
MODES = {
    # key: (label, nginx port, is WordPress); the first K2 site and the WordPress one are compared.
    "uncached": {
        "k2": ("K2", PORTS["k2"], False),
        "wp": ("WordPress", PORTS["wp"], True),
    },
    "cached": {
        "k2": ("K2, nginx cache + app cache (as deployed)", PORTS["k2_cached"], False),
        "k2_app": ("K2, app page cache only (Redis)", PORTS["k2"], False),
        "wp": ("WordPress, nginx fastcgi_cache", PORTS["wp_cached"], True),
    },
}


def versions():
    wp = re.search(r"\$wp_version = '([^']+)'", Path("/usr/share/wordpress/wp-includes/version.php").read_text())
    import django
    import gunicorn

    return {
        "WordPress": f"{wp.group(1)} (Debian {sh(['dpkg-query', '-W', '-f=${Version}', 'wordpress'])})",
        "PHP": sh(["php", "-r", "echo PHP_VERSION;"]) + " (FPM, opcache on)",
        "MariaDB": wp_sql("SELECT version()"),
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1],
        "PostgreSQL": sh(["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"]),
        "Python": platform.python_version(),
        "Django": django.__version__,
        "gunicorn": gunicorn.__version__,
        "wrk": "4.1.0",
    }  # fmt: skip


def data_sizes(database):
    import psycopg

    with psycopg.connect(database) as conn:
        k2 = conn.execute(
            """SELECT (SELECT count(*) FROM k2site_entry), (SELECT count(*) FROM k2site_entry e WHERE e.status =
               'published' AND e.publish_at <= now() AND (e.expire_at IS NULL OR e.expire_at > now())),
               (SELECT count(*) FROM k2site_entrytag), (SELECT count(*) FROM k2site_tag)"""
        ).fetchone()
    wp = wp_sql(
        """SELECT (SELECT count(*) FROM wp_posts), (SELECT count(*) FROM wp_posts WHERE post_status = 'publish'),
               (SELECT count(*) FROM wp_term_relationships r JOIN wp_term_taxonomy x USING (term_taxonomy_id)
                WHERE x.taxonomy = 'post_tag'), (SELECT count(*) FROM wp_term_taxonomy WHERE taxonomy = 'post_tag')"""
    ).split()
    return {"k2": list(k2), "wp": [int(n) for n in wp]}


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        "?",
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return f"{cpu}, {os.cpu_count()} cores, {memory} GB RAM; {platform.platform()}"


def ratio(k2, wp, faster_is_lower):
    if not k2 or not wp:
        return "—"
    value = wp / k2 if faster_is_lower else k2 / wp
    return f"{value:.1f}×" if value >= 1 else f"{value:.2f}×"


GROUPS = {
    "tag pages and intersections": lambda name: "tag" in name,
    "search": lambda name: name.startswith("search"),
    "home": lambda name: name == "home",
}


def summary(result):
    """K2 ÷ WordPress, the range over each group of pages, per mode."""
    lines = ["| mode | pages | K2 ÷ WP, latency (p50) | K2 ÷ WP, req/s |", "|---|---|---:|---:|"]
    for mode, data in result["modes"].items():
        for group, member in GROUPS.items():
            names = [name for name, _k, _w in result["pages"] if member(name)]
            spans = []
            for measure, faster_is_lower in (("latency", True), ("throughput", False)):
                values = data[measure]
                pick = (lambda v: v) if measure == "latency" else (lambda v: v["rate"])
                ratios = [
                    pick(values[n]["wp"]) / pick(values[n]["k2"])
                    if faster_is_lower
                    else pick(values[n]["k2"]) / pick(values[n]["wp"])
                    for n in names
                    if pick(values[n]["wp"]) and pick(values[n]["k2"])
                ]
                spans.append(f"{min(ratios):.2g}–{max(ratios):.2g}×" if len(ratios) > 1 else f"{ratios[0]:.2g}×")
            lines.append(f"| {mode} | {group} ({len(names)}) | {spans[0]} | {spans[1]} |")
    return lines


def render(result):
    lines = [
        "# K2 Site beside WordPress (issue 16)",
        "",
        f"Run {result['date']} on {result['machine']}. Load average: {result['load_before']} before, "
        f"{result['load_after']} after (the machine was shared; the sites took turns, so both saw the same load).",
        "",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items())
        + f". K2: commit {result['git']}, exported with git archive.",
        "",
        "## Summary",
        "",
        *summary(result),
        "",
        "Cached, “K2” is K2 as deployed (nginx cache in front); the per-page tables below also give K2's "
        "app page cache alone.",
        "",
        "## Repeat",
        "",
        "    sh bench/peer/install.sh                      # as root: Debian's wordpress, php-fpm, php-mysql; wp_peer",
        f"    .venv/bin/python bench/peer/run.py {result['arguments']}",
        "",
        "`--seed N` seeds K2 (`seed_bench --studies N --tree 3 --seed 1`, database "
        f"`{result['database'].rsplit('/', 1)[1]}`) and copies it into WordPress (bench/peer/export.py); "
        "without it the databases are reused. Nothing is fetched from the internet.",
        "",
        "## Data",
        "",
        "| | entries | published | tag links | tags |",
        "|---|---:|---:|---:|---:|",
        "| K2 (PostgreSQL) | {:,} | {:,} | {:,} | {:,} |".format(*result["data"]["k2"]),
        "| WordPress (MariaDB) | {:,} | {:,} | {:,} | {:,} |".format(*result["data"]["wp"]),
        "",
        "The same entries, dates and tags. WordPress's tags are flat: each post carries every tag K2 lists "
        "its entry under (its own and those inherited through K2's category tree), so `/?tag=a+b` selects "
        "exactly the entries of `/tags/a+b/`; entries K2 hides (drafts, in review, archived, scheduled, "
        "expired) are drafts; every post is also in Uncategorized. Content: a study's abstract, an "
        "article's body; 50 entries a page on both (WordPress's `posts_per_page` set to K2's page size), "
        "except that K2's home and search pages show 20 (WordPress's show 50)."
        + (
            f" Seeding K2 and copying it into WordPress took {result['seed_seconds']:.0f} s."
            if "seed_seconds" in result
            else ""
        ),
        "",
        "## Setup",
        "",
        f"One nginx in front of both, on loopback. K2: gunicorn, {result['workers']} sync workers. WordPress: "
        f"Debian's package with its default theme (Twenty Twenty-Three), PHP-FPM `pm = static`, "
        f"{result['workers']} children, plain permalinks, WP-Cron off during the run; installed by "
        "bench/peer/install.sh through WordPress's own `wp_install()` (Debian 12 has no wp-cli). Stock databases "
        "(PostgreSQL shared_buffers 128 MB, MariaDB innodb_buffer_pool_size 128 MB, no query cache).",
        "",
        f"- **Latency**: median of {result['requests']} sequential requests per page on a kept-alive "
        "connection, after 3 warm-ups; the sites take turns request by request.",
        f"- **Throughput**: wrk, {result['connections']} connections, 2 threads, {result['seconds']} s per "
        "URL; the sites take turns page by page (order reversed every page).",
        "  At WordPress's uncached rates a run completes only rate × seconds requests (2 at 0.2/s), so "
        "those throughput ratios are rough; the latency medians are the steadier comparison.",
        "- **Ratios** are K2 ÷ WordPress in speed: WordPress's median ÷ K2's, K2's requests/s ÷ "
        "WordPress's. Above 1× K2 is faster.",
        "",
        "**Uncached**: K2 without its page cache (`bench/peer/k2_uncached_settings.py`: PageCacheMiddleware "
        "left out, as bench/measure.py does; the app's Redis cache otherwise as deployed); WordPress as "
        "installed (no page cache, no persistent object cache).",
        "",
        "**Cached**: Debian 12 packages no WordPress page-cache plugin (`apt-cache search wordpress`: "
        "http-authentication, shibboleth, xrds-simple, themes, l10n; no WP Super Cache, W3 Total Cache or "
        "similar), so WordPress is cached by nginx's `fastcgi_cache` in front of PHP-FPM — the common "
        "recipe (key on the full address, 60 min, logged-in/commenting cookies bypass), except that it "
        "also keeps pages with a query string (with plain addresses every tag page is one). K2 as "
        "deployed: nginx `proxy_cache` honouring the app's `s-maxage` (deploy/nginx-page-cache.conf, "
        "5 s, revalidated with the ETag) in front of the app's Redis page cache; and the app's page "
        "cache alone (gunicorn, no nginx cache) for comparison.",
    ]
    for mode, sites in result["modes"].items():
        keys = list(sites["sites"])
        labels = sites["sites"]
        lines += ["", f"## {mode.capitalize()}", ""]
        header = "| page | K2 / WordPress address | same entries | KB K2 / WP |"
        header += "".join(f" {SHORT[k]} p50 ms |" for k in keys) + "".join(f" {SHORT[k]} req/s |" for k in keys)
        compared = [k for k in keys if k != "wp"]
        header += "".join(f" {SHORT[k]} ÷ WP, latency |" for k in compared)
        header += "".join(f" {SHORT[k]} ÷ WP, req/s |" for k in compared)
        lines += [header, "|---|---|---|---:|" + "---:|" * (2 * len(keys) + 2 * len(compared))]
        checks = {row["page"]: row for row in sites["checks"]}
        for name, k2_url, wp_url in result["pages"]:
            check_row = checks[name]
            same = ""
            if "same_entries" in check_row:
                k2_count, wp_count = check_row["counts"]
                mark = "✓" if check_row["same_entries"] and k2_count == wp_count else "✗"
                same = f"{mark} {check_row['k2']['rows']} shown of {k2_count:,} / {wp_count:,}"
            elif name.startswith("search"):
                same = f"— ({check_row['k2']['rows']} / {check_row['wp']['rows']} shown)"
            size = f"{check_row['k2']['bytes'] / 1000:.0f} / {check_row['wp']['bytes'] / 1000:.0f}"
            p50 = sites["latency"][name]
            rate = sites["throughput"][name]
            cells = [f"{p50[k]:.1f}" for k in keys] + [
                f"{rate[k]['rate']:,.1f}" + (f" ({rate[k]['errors']} errors)" if rate[k]["errors"] else "")
                for k in keys
            ]
            cells += [ratio(p50[k], p50["wp"], True) for k in compared]
            cells += [ratio(rate[k]["rate"], rate["wp"]["rate"], False) for k in compared]
            lines.append(f"| {name} | `{k2_url}` `{wp_url}` | {same} | {size} | " + " | ".join(cells) + " |")
        lines += ["", "Sites: " + "; ".join(f"{SHORT[k]} = {labels[k]}" for k in keys) + "."]
        statuses = {row["page"]: {k: row[k]["status"] for k in keys} for row in sites["checks"]}
        bad = {page: s for page, s in statuses.items() if set(s.values()) != {200}}
        lines.append("All pages answered 200 on every site." if not bad else f"Not 200: {bad}.")
        if mode == "cached":
            hits = {row["page"]: {k: row[k]["cache"] for k in keys if row[k]["cache"]} for row in sites["checks"]}
            lines.append(f"nginx cache status on the second request of each page: {json.dumps(hits)}.")
    lines += [
        "",
        "“same entries”: the first page of a tag page or intersection lists the same entries in the same "
        "order on both sites, and both databases count the same number of published entries with all "
        "the tags (K2 / WordPress). Search is not comparable entry for entry: K2 ranks full-text matches "
        "of the word (title, abstract and more), WordPress matches the letters anywhere in title, excerpt "
        "or content (`LIKE '%word%'`) and ranks title matches first.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/k2_peer_100000")
    parser.add_argument("--seed", type=int, help="seed K2 with this many studies first, and copy it into WordPress")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers and PHP-FPM children each")
    parser.add_argument("--modes", default="uncached,cached")
    parser.add_argument("--ref", default="HEAD", help="the K2 commit to measure (exported, built, served)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "PEER.md"))
    parser.add_argument("--render", action="store_true", help="only write --out again from bench/peer/results.json")
    args = parser.parse_args()
    if args.render:
        Path(args.out).write_text(render(json.loads((HERE / "results.json").read_text())))
        return
    result = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "arguments": " ".join(sys.argv[1:]),
        "machine": machine(),
        "load_before": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "database": args.database,
        "workers": args.workers,
        "requests": args.requests,
        "seconds": args.seconds,
        "connections": args.connections,
        "git": sh(["git", "rev-parse", "--short", args.ref], cwd=ROOT),
        "modes": {},
    }
    global SOURCE
    SOURCE = snapshot(args.ref)
    if args.seed:
        result["seed_seconds"] = seed(args)
    result["versions"] = versions()
    result["data"] = data_sizes(args.database)
    pages = pick_pages(args.database)
    result["pages"] = pages
    stack = Stack(args)
    try:
        stack.start()
        for mode in args.modes.split(","):
            print(f"{mode}:", flush=True)
            flush_redis()
            stack.start_k2(uncached=mode == "uncached")
            sites = MODES[mode]
            checks = check(pages, sites, args.database)
            result["modes"][mode] = {
                "sites": {key: label for key, (label, _p, _w) in sites.items()},
                "checks": checks,
                "latency": latency(pages, sites, args.requests),
                "throughput": throughput(pages, sites, args.seconds, args.connections),
            }
    finally:
        stack.stop()
        shutil.rmtree(SOURCE, ignore_errors=True)
    result["load_after"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    (HERE / "results.json").write_text(json.dumps(result, indent=1))
    Path(args.out).write_text(render(result))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
