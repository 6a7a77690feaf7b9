"""Load run of the production setup: gunicorn as `make serve` starts it,
50 connections for 30 s, once with no page cache (every request rendered:
the cold case) and once with the Redis page cache warmed; 0 errors is the
target. Writes bench/LOAD.md.

    .venv/bin/python bench/load.py [--studies 10000] [--seconds 30] [--connections 50]

Needs PostgreSQL on 127.0.0.1:5432 (database k2_load, dropped and created
again), Redis on 127.0.0.1:6379 (database 14, flushed) and wrk (Debian).
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import PYTHON, ROOT, flush_redis, free_port, machine, recreate_database, run, wait_until_up

SERVER = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/14"


def pages(env):
    """A mix of the public pages: home, a tag, an intersection, a study, search, a feed."""
    script = (
        "from catalog.models import Tag, Entry\n"
        "import json\n"
        "tags = list(Tag.objects.visible().popular()[:2])\n"
        "study = Entry.objects.published().filter(kind='study').listing().first()\n"
        "print(json.dumps(['/', f'/tags/{tags[0].slug}/', f'/tags/{tags[0].slug}+{tags[1].slug}/',"
        " study.get_absolute_url(), '/studies/', '/search/?q=calcium', '/feed/']))\n"
    )
    output = run([PYTHON, "manage.py", "shell", "-c", script], env, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def wrk_mix(base, paths, seconds, connections):
    """wrk cycling through ``paths``; (requests/s, latency p50 and p99 in ms, errors)."""
    lua = (
        "paths = {"
        + ",".join(json.dumps(path) for path in paths)
        + "}\n"
        + (
            "counter = 0\n"
            "request = function()\n"
            "  counter = counter + 1\n"
            "  return wrk.format('GET', paths[(counter % #paths) + 1])\n"
            "end\n"
        )
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(lua)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    command += ["-s", file.name, base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(file.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in socket_errors.groups()) if socket_errors else 0

    def percentile(name):
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    total = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rate": rate, "p50": percentile("50"), "p99": percentile("99"), "errors": errors, "requests": total}


def serve(env):
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    server = subprocess.Popen(
        ["make", "-s", "serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)
    return server, base


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/k2_load",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "load-only-secret",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    }
    recreate_database(f"{SERVER}/postgres", "k2_load")
    run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env)
    run([PYTHON, "manage.py", "seed_bench", "--studies", str(args.studies), "--tags", "200"], env, capture_output=True)
    run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], env)
    paths = pages(env)
    results = {}
    for name, cache_url in (("cold: no page cache", "dummy://"), ("warm: Redis page cache", REDIS)):
        flush_redis(REDIS)
        server, base = serve({**env, "CACHE_URL": cache_url})
        try:
            if cache_url == REDIS:
                wrk_mix(base, paths, 3, 4)  # warm every page once
            results[name] = wrk_mix(base, paths, args.seconds, args.connections)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(name, results[name], flush=True)
    about = machine()
    lines = [
        "# Load run: the production setup under 50 connections",
        "",
        f"Measured {datetime.date.today():%d %b %Y} on {about['cpu']}, {about['cores']} cores, "
        f"{about['memory_gb']} GB, {about['os']}; PostgreSQL with {args.studies:,} studies (seed_bench), "
        f"gunicorn as `make serve` starts it (workers 2 × cores + 1), wrk "
        f"({args.connections} connections, {args.seconds} s, 2 threads) on loopback cycling through "
        f"{len(paths)} pages: {', '.join(f'`{path}`' for path in paths)}.",
        "",
        "Repeat: `.venv/bin/python bench/load.py` (needs PostgreSQL, Redis and wrk).",
        "",
        "| run | requests/s | p50 ms | p99 ms | requests | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['rate']:,.0f} | {row['p50']:.1f} | {row['p99']:.1f} | {row['requests']:,} "
            f"| {row['errors']} |"
        )
    lines += [
        "",
        "Errors count non-2xx/3xx answers and socket errors (connect, read, write, time-out). "
        "The target is 0 in both runs.",
        "",
    ]
    (ROOT / "bench" / "LOAD.md").write_text("\n".join(lines))
    if any(row["errors"] for row in results.values()):
        sys.exit("Errors under load: see bench/LOAD.md")


if __name__ == "__main__":
    main()
