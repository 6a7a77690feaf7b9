"""Cached pages through the web server against the same web server serving a
static file (issue 16, goal ≥ 80%), in one interleaved run; bench/WEB_CACHE.md.

    DATABASE_URL=postgres://…/k2_bench_1000000 DJANGO_SECRET_KEY=bench \\
        .venv/bin/python bench/web_cache.py

nginx (Debian's package) in front as production has it on one machine
(through bench/nginx_front.py): the page files the app writes
(deploy/nginx-page-files.conf, k2site/page_files.py) and behind them the
proxy cache (deploy/nginx-page-cache.conf); gunicorn as `make serve` starts
it, the app's own page cache in Redis. Beside it, a second nginx with the
proxy cache alone (the app on other machines, no shared WEB_CACHE_DIR). wrk with 8
connections, each page's run between two runs of a static file holding the
same bytes (the reference is their mean, as the machine's load drifts),
repeated in rounds (the ratio reported is the median round's: one run on this
shared machine moves by ±15%). Beside the rates, nginx's own CPU time per
request (its workers' user + system time over the run), which the other
processes on the machine disturb far less. For comparison, the same pages
straight from gunicorn (the app's Redis cache alone) and the app's trivial
view.
"""

import argparse
import contextlib
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import benchmark_pages  # sets Django up
from bench.nginx_front import (
    STATIC_PROBES,
    free_port,
    page_files_config,
    running_nginx,
    static_probe_dir,
    wait_for_port,
)
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
    pages_dir = tempfile.TemporaryDirectory()
    env = {
        **os.environ,
        "CACHE_URL": args.cache_url,
        "DJANGO_DEBUG": "0",
        "K2_BENCH_HELLO": "1",
        "GUNICORN_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CACHE_DIR": pages_dir.name,
    }
    # The recipe's step: the site's own headers into nginx's configuration.
    headers = subprocess.run(
        [sys.executable, "-m", "k2site.page_files"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
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
        with (
            tempfile.TemporaryDirectory() as home,
            tempfile.TemporaryDirectory() as proxy_home,
            running_nginx(
                app_port, home, workers="auto", page_files=page_files_config(pages_dir.name, headers)
            ) as front,
            running_nginx(app_port, proxy_home, workers="auto") as proxy_front,
        ):
            for number, (name, url) in enumerate(pages):
                for _ in range(2):  # the first fills the caches
                    body = urllib.request.urlopen(front + url, timeout=120).read()
                    urllib.request.urlopen(proxy_front + url, timeout=120).read()
                served = urllib.request.urlopen(front + url, timeout=120)
                assert served.headers["X-Cache-Status"] == "FILE", (url, served.headers["X-Cache-Status"])
                # The floor: the same bytes as a file nginx serves from disk,
                # before and after the page (the machine's load drifts).
                (static_probe_dir(home) / f"{number}.html").write_bytes(body)
                probe = f"{front}{STATIC_PROBES}{number}.html"
                rounds = []
                for _ in range(args.rounds):
                    before = measured(probe, args)
                    cached = measured(front + url, args)
                    proxied = measured(proxy_front + url, args)
                    after = measured(probe, args)
                    static = (before[0] + after[0]) / 2
                    static_cpu = (before[2] + after[2]) / 2
                    rounds.append(
                        (cached[0] / static, cached[0], static, cached[1], cached[2], static_cpu, proxied[0] / static)
                    )
                ratio, rate, static, errors, _cpu, _static_cpu, _proxied = sorted(rounds)[len(rounds) // 2]
                direct, _ = wrk(app + url, args.seconds, args.connections)
                rows.append(
                    {
                        "name": name,
                        "url": url,
                        "rate": rate,
                        "errors": errors,
                        "direct": direct,
                        "static": static,
                        "bytes": len(body),
                        "ratio": ratio,
                        "ratios": [r[0] for r in rounds],
                        "cpu": statistics.median(r[4] for r in rounds),
                        "static_cpu": statistics.median(r[5] for r in rounds),
                        "proxied": statistics.median(r[6] for r in rounds),
                    }
                )
                each = ", ".join(f"{r[0]:.0%}" for r in rounds)
                print(f"{name:32} {ratio:4.0%} of static ({each}), {direct:7.0f}/s app cache")
            hello, _ = wrk(app + "/bench/hello", args.seconds, args.connections)
    finally:
        os.killpg(gunicorn.pid, 15)
        gunicorn.wait(timeout=30)
        pages_dir.cleanup()
    return rows, hello


def nginx_cpu_seconds():
    """User + system CPU time of every nginx worker on the machine (the bench's own)."""
    pids = subprocess.run(["pgrep", "-f", "nginx: worker"], capture_output=True, text=True).stdout.split()
    ticks = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(url, args):
    """wrk on ``url``: requests/s, non-2xx responses, nginx CPU µs per request."""
    cpu = nginx_cpu_seconds()
    rate, errors = wrk(url, args.seconds, args.connections)
    return rate, errors, (nginx_cpu_seconds() - cpu) / (rate * args.seconds) * 1e6


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
        "nginx in front as production has it on one machine: the public pages the app writes as files "
        "(`WEB_CACHE_DIR`, `k2site/page_files.py`), sent by nginx with `try_files`, and behind them "
        "the proxy cache. "
        f"wrk, {args.connections} connections, {args.seconds} s per run, on the same machine as nginx, "
        "gunicorn (as `make serve` starts it: 2 × cores + 1 workers) and the databases. Each page's run "
        "through nginx sits between two runs of the same bytes as a static file nginx serves from disk "
        f"(`{STATIC_PROBES}…`), and is compared with their mean; {args.rounds} such rounds a page, the "
        "median round reported (every round's ratio in brackets: one run on this shared machine moves "
        f"by ±15%). Target: ≥ {TARGET:.0%} of the static file's rate. nginx's own CPU time per request "
        "(its workers' user + system time over each run, median of the rounds) is the steadier "
        "measure of the same thing. The same page straight from gunicorn (the app's own Redis page "
        "cache) is beside it; the app's trivial view (`/bench/hello`, no database) gets "
        f"{hello:,.0f} requests/s.",
        "",
        "Repeat: `DATABASE_URL=postgres://…/k2_bench_1000000 DJANGO_SECRET_KEY=bench "
        ".venv/bin/python bench/web_cache.py [--rounds 3]` (nginx from `apt-get install nginx`; the script "
        "runs its own).",
        "",
        "| page | bytes | page file through nginx, req/s | same bytes as a static file, req/s "
        "| ratio (rounds) | meets | nginx µs/request, page file / static | nginx's proxy cache alone, "
        "ratio | gunicorn + Redis cache, req/s |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        meets = "✓" if row["ratio"] >= TARGET else "✗"
        errors = f" ({row['errors']} errors)" if row["errors"] else ""
        rounds = ", ".join(f"{ratio:.0%}" for ratio in row["ratios"])
        lines.append(
            f"| {row['name']} (`{row['url']}`) | {row['bytes']:,} | {row['rate']:,.0f}{errors} | "
            f"{row['static']:,.0f} | {row['ratio']:.0%} ({rounds}) | {meets} | "
            f"{row['cpu']:.1f} / {row['static_cpu']:.1f} | {row['proxied']:.0%} | {row['direct']:,.0f} |"
        )
    lines += [
        "",
        "A page file is sent for the rest of its five-second slice; when a slice starts, one request "
        "reaches the app (its Redis cache, or a fresh rendering every 15 s) and writes the slice's file "
        "while the others get the proxy cache's copy: those requests, and the CPU the rendering takes "
        "from nginx and wrk, are inside these runs. The proxy cache alone (a second nginx, as where the "
        "app runs on other machines) keeps a page to the end of the slice, then asks the app again; its "
        "ratio is the median round's, against the same static runs. The freshness bound is proved "
        "through nginx by `tests/k2site/test_web_cache.py`.",
        "",
    ]
    Path(path).write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent / "WEB_CACHE.md"))
    args = parser.parse_args()
    rows, hello = run(args)
    write_report(args.output, rows, hello, args)


if __name__ == "__main__":
    main()
