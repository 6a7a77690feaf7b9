"""Cached pages through the web server against the same web server serving a
static file (issue 16, goal ≥ 80%), in one interleaved run; bench/WEB_CACHE.md.

    DATABASE_URL=postgres://…/k2_bench_1000000 DJANGO_SECRET_KEY=bench \\
        .venv/bin/python bench/web_cache.py

nginx (Debian's package) in front with the production page cache
(deploy/nginx-page-cache.conf, through bench/nginx_front.py), gunicorn as
`make serve` starts it, the app's own page cache in Redis. wrk with 8
connections, each page's run between two runs of a static file holding the
same bytes (the reference is their mean, as the machine's load drifts). For comparison, the
same pages straight from gunicorn (the app's Redis cache alone) and the
app's trivial view.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import benchmark_pages  # sets Django up
from bench.nginx_front import STATIC_PROBES, free_port, running_nginx, static_probe_dir, wait_for_port
from bench.run import flush_redis, machine_line, wrk

ROOT = Path(__file__).resolve().parent.parent
TARGET = 0.8
PAGES = (
    "home",
    "popular tag",
    "rare tag",
    "2 tags, mid pair (10+20)",
    "3 tags, mid (10+20+30)",
    "search, common word",
    "study page",
    "site feed",
)


def chosen_pages():
    pages, _picked = benchmark_pages()
    return [(name, url) for name, url, _target in pages if url and name.startswith(PAGES)]


def run(args):
    env = {
        **os.environ,
        "CACHE_URL": args.cache_url,
        "DJANGO_DEBUG": "0",
        "K2_BENCH_HELLO": "1",
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
    }
    flush_redis(args.cache_url)
    app_port = int(env["GUNICORN_BIND"].rsplit(":", 1)[1])
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "k2site/gunicorn.conf.py", "k2site.wsgi"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pages = chosen_pages()
    rows = []
    try:
        wait_for_port(app_port, gunicorn, timeout=60)
        app = f"http://127.0.0.1:{app_port}"
        with tempfile.TemporaryDirectory() as home, running_nginx(app_port, home, workers="auto") as front:
            for number, (name, url) in enumerate(pages):
                for _ in range(2):  # the first fills both caches
                    body = urllib.request.urlopen(front + url, timeout=120).read()
                # The floor: the same bytes as a file nginx serves from disk,
                # before and after the page (the machine's load drifts).
                (static_probe_dir(home) / f"{number}.html").write_bytes(body)
                probe = f"{front}{STATIC_PROBES}{number}.html"
                static = [wrk(probe, args.seconds, args.connections)[0]]
                rate, errors = wrk(front + url, args.seconds, args.connections)
                static.append(wrk(probe, args.seconds, args.connections)[0])
                direct, _ = wrk(app + url, args.seconds, args.connections)
                reference = (static[-2] + static[-1]) / 2
                rows.append(
                    {
                        "name": name,
                        "url": url,
                        "rate": rate,
                        "errors": errors,
                        "direct": direct,
                        "static": reference,
                        "bytes": len(body),
                        "ratio": rate / reference,
                    }
                )
                print(f"{name:32} {rate:9.0f}/s via nginx, {direct:7.0f}/s app cache, static {reference:9.0f}/s")
            hello, _ = wrk(app + "/bench/hello", args.seconds, args.connections)
    finally:
        os.killpg(gunicorn.pid, 15)
        gunicorn.wait(timeout=30)
    return rows, hello


def write_report(path, rows, hello, args):
    from django.db import connection

    from catalog.models import Entry, EntryKind

    studies = Entry.objects.filter(kind=EntryKind.STUDY).count()
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
    lines = [
        "# Cached pages at the web server's speed (issue 16)",
        "",
        f"Measured {datetime.date.today():%d %b %Y} on {machine_line()}; nginx {nginx} (Debian), "
        f"{connection.vendor}, {studies:,} studies. "
        f"Load average before the run: {os.getloadavg()[0]:.1f}.",
        "",
        f"wrk, {args.connections} connections, {args.seconds} s per run, on the same machine as nginx, "
        "gunicorn (as `make serve` starts it: 2 × cores + 1 workers) and the databases. Each page's run "
        "through nginx sits between two runs of the same bytes as a static file nginx serves from disk "
        f"(`{STATIC_PROBES}…`), and is compared with their mean. Target: ≥ {TARGET:.0%} of the static "
        "file's rate. The same page straight from gunicorn (the app's own Redis page cache) is beside "
        f"it; the app's trivial view (`/bench/hello`, no database) gets {hello:,.0f} requests/s.",
        "",
        "Repeat: `DATABASE_URL=postgres://…/k2_bench_1000000 DJANGO_SECRET_KEY=bench "
        ".venv/bin/python bench/web_cache.py` (nginx from `apt-get install nginx`; the script runs its own).",
        "",
        "| page | bytes | through nginx's cache, req/s | same bytes as a static file, req/s | ratio | meets "
        "| gunicorn + Redis cache, req/s |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        meets = "✓" if row["ratio"] >= TARGET else "✗"
        errors = f" ({row['errors']} errors)" if row["errors"] else ""
        lines.append(
            f"| {row['name']} (`{row['url']}`) | {row['bytes']:,} | {row['rate']:,.0f}{errors} | "
            f"{row['static']:,.0f} | {row['ratio']:.0%} | {meets} | {row['direct']:,.0f} |"
        )
    lines += [
        "",
        "Each page stays fresh in nginx for `WEB_CACHE_SECONDS` (5) and is then revalidated with its "
        "ETag (a 304 from the app's cache while nothing changed): those requests are inside these runs. "
        "The freshness bound is proved through nginx by `tests/k2site/test_web_cache.py`.",
        "",
    ]
    Path(path).write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "WEB_CACHE.md"))
    args = parser.parse_args()
    rows, hello = run(args)
    write_report(args.output, rows, hello, args)


if __name__ == "__main__":
    main()
