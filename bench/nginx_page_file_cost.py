"""nginx's own CPU time per request for a page file against a static file of
the same bytes, with and without PCRE's JIT (the README's `pcre_jit on;`):
nginx alone, no app, so the configuration is all that differs.

    .venv/bin/python bench/nginx_page_file_cost.py [--rounds 3]

A page file for "/" (15 KB of HTML) and "/feed/" (46 KB of Atom) is written
for every five-second slice of the next few minutes, so each request finds
its file (as the app's own writes would). Each page's wrk run (8 connections,
3 s) sits between two runs of the static file; nginx's CPU per request is
its worker's user + system time over the run (steadier than the rates on a
shared machine). The full run with the app and 1M studies is web_cache.py.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.nginx_front import (
    CONFIG,
    DEPLOY,
    STATIC_PROBES,
    free_port,
    page_files_config,
    static_probe_dir,
    wait_for_port,
)

PAGES = {"/": ("home.html", "@.html", 15_200), "/feed/": ("feed.atom", "feed/@.atom", 46_100)}


def headers():
    env = {**os.environ, "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench")}
    command = [sys.executable, "-m", "k2site.page_files"]
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=DEPLOY.parent).stdout


def write_files(home):
    pages = home / "pages"
    now = int(time.time()) // 5 * 5
    for static, page, size in PAGES.values():
        body = b"<!doctype html><title>t</title>" + b"x" * size
        (static_probe_dir(home) / static).write_bytes(body)
        for bucket in range(now, now + 600, 5):
            path = pages / str(bucket) / "127.0.0.1" / page
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
    return pages


def measure(jit, rounds, site_headers):
    with tempfile.TemporaryDirectory() as home:
        home = Path(home)
        static_probe_dir(home).mkdir(parents=True)
        pages = write_files(home)
        port = free_port()
        config = CONFIG.format(
            home=home, port=port, app_port=1, workers=1, probes=STATIC_PROBES, deploy=DEPLOY,
            files=page_files_config(pages, site_headers),
        )  # fmt: skip
        if not jit:
            config = config.replace("pcre_jit on;", "pcre_jit off;")
        (home / "nginx.conf").write_text(config)
        process = subprocess.Popen(["nginx", "-c", str(home / "nginx.conf"), "-p", str(home)], start_new_session=True)
        try:
            wait_for_port(port, process, log=home / "error.log")
            workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()

            def cpu_seconds():
                ticks = 0
                for pid in workers:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    ticks += int(fields[11]) + int(fields[12])
                return ticks / os.sysconf("SC_CLK_TCK")

            def cost(path):
                started = cpu_seconds()
                out = subprocess.run(
                    ["wrk", "-t2", "-c8", "-d3s", f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True
                ).stdout
                return (cpu_seconds() - started) / int(re.search(r"(\d+) requests in", out).group(1)) * 1e6

            results = {}
            for page, (static, _, _) in PAGES.items():
                page_costs, static_costs = [], []
                for _ in range(rounds):
                    static_costs.append(cost(STATIC_PROBES + static))
                    page_costs.append(cost(page))
                    static_costs.append(cost(STATIC_PROBES + static))
                results[page] = (statistics.median(page_costs), statistics.median(static_costs))
            return results
        finally:
            os.killpg(process.pid, 15)
            process.wait(timeout=20)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    site_headers = headers()
    for _repeat in range(2):  # interleaved: off, on, off, on
        for jit in (False, True):
            results = measure(jit, args.rounds, site_headers)
            line = ", ".join(f"{page} {cost:.1f} µs (static {static:.1f})" for page, (cost, static) in results.items())
            print(f"pcre_jit {'on ' if jit else 'off'}: {line}", flush=True)


if __name__ == "__main__":
    main()
