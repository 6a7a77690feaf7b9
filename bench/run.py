"""The K2 Site benchmark: seed, measure, load-test, write bench/RESULTS.md.

    .venv/bin/python bench/run.py --sizes 10000,100000,1000000     # or: make bench

For each size, on its own PostgreSQL database (dropped and created again):
migrate, ``seed_bench`` (tags in a category tree, ``--tree``), then bench/measure.py (server time p50/p95 and
query count of every page, in-process, page cache off), then gunicorn on a
loopback port with the page cache on (Redis) and a load generator (wrk, or a
bounded Python client when wrk is missing) against /bench/hello and each
cached page. Raw numbers go to bench/results.json, the report to
bench/RESULTS.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_GROWTH = 1.5  # issue 16 (was 2× in issue 3)
# Issue 16: a common-word search costs at most this many times a mid pair.
SEARCH_RATIO_TARGET = 2.0
CACHED_RATIO_TARGET = 0.8
# Issue 13: a parent's page and a parent × tag intersection cost at most this
# many times a leaf pair at the largest size (bench/measure.py picks them).
TREE_RATIO_TARGET = 2.0
TREE_COMPARED = [
    ("parent", "parent tag, root"),
    ("parent_mid", "parent tag, mid-level"),
    ("parent_x_tag", "parent × tag"),
]


def run(command, env, **kwargs):
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, env=env, cwd=ROOT, check=True, **kwargs)


def recreate_database(admin_url, name):
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz")


def wrk(url, seconds, connections):
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return rate, int(errors.group(1)) if errors else 0


def python_load(url, seconds, connections):
    """A bounded fallback when wrk is missing: threads, one request at a time each."""
    done, errors, stop = [0], [0], time.monotonic() + seconds
    lock = threading.Lock()

    def worker():
        while time.monotonic() < stop:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    response.read()
                    ok = response.status < 400
            except OSError:
                ok = False
            with lock:
                done[0] += 1
                errors[0] += 0 if ok else 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / seconds, errors[0]


def load_test(env, pages, seconds, connections, workers):
    """Requests per second for /bench/hello and each page, through gunicorn."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "k2site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "K2_BENCH_HELLO": "1"},
    )
    generator = wrk if shutil.which("wrk") else python_load
    try:
        wait_until_up(base)
        results = {
            "tool": "wrk" if generator is wrk else "python threads",
            "workers": workers,
            "connections": connections,
            "seconds": seconds,
            "pages": [],
        }
        # Hello before the first page and after every page: each page is
        # compared with the runs just before and after it, as the machine's
        # load drifts during a run.
        hello = [generator(base + "/bench/hello", seconds, connections)[0]]
        for page in pages:
            for _ in range(2):  # the first fills the cache
                urllib.request.urlopen(base + page["url"], timeout=60).read()
            rate, errors = generator(base + page["url"], seconds, connections)
            hello.append(generator(base + "/bench/hello", seconds, connections)[0])
            reference = (hello[-2] + hello[-1]) / 2
            results["pages"].append(
                {"url": page["url"], "rate": rate, "errors": errors, "hello": reference, "ratio": rate / reference}
            )
        results["hello"] = hello
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def page_weight(env):
    """Bytes a first visit to the home page downloads: HTML, CSS, favicon,
    compressed as the server sends them to a browser asking for gzip/brotli."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "k2site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_until_up(base)
        html = urllib.request.urlopen(base + "/").read().decode()
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
        rows = [{"url": "/", "bytes": len(html.encode()), "encoding": "identity", "cache_control": ""}]
        for asset in dict.fromkeys(assets):
            request = urllib.request.Request(base + asset, headers={"Accept-Encoding": "br, gzip"})
            with urllib.request.urlopen(request) as response:
                rows.append(
                    {
                        "url": asset,
                        "bytes": len(response.read()),
                        "encoding": response.headers.get("Content-Encoding", "identity"),
                        "cache_control": response.headers.get("Cache-Control", ""),
                    }
                )
        return {"files": rows, "total": sum(row["bytes"] for row in rows)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    except OSError:
        memory = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_before": os.getloadavg(),
    }


def machine_line():
    """ "Intel(R) Xeon(R) …, 2 cores, 23 GB": for the smaller reports."""
    info = machine()
    return f"{info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB"


def bench_size(size, args):
    database = f"{args.database}_{size}" if args.keep else args.database
    env = bench_env(args, database)
    result = {"size": size, "database": database}
    return measure_size(size, args, env, result)


def bench_env(args, database):
    db_url = f"{args.server}/{database}"
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret"),
        "DJANGO_SETTINGS_MODULE": "k2site.settings",
    }
    env.pop("CACHE_URL", None)
    return env


def measure_size(size, args, env, result):
    database = result["database"]
    if not (args.reuse or size in args.reuse_sizes):
        recreate_database(f"{args.server}/postgres", database)
        run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"], env)
        started = time.monotonic()
        run(
            [
                PYTHON,
                "manage.py",
                "seed_bench",
                "--studies",
                str(size),
                "--tags",
                str(args.tags),
                "--seed",
                str(args.seed),
                "--jobs",
                str(args.jobs),
                "--tree",
                str(args.tree),
            ],
            env,
        )
        result["seed_seconds"] = time.monotonic() - started
    measured = run([PYTHON, "bench/measure.py", "--requests", str(args.requests)], env, capture_output=True, text=True)
    sys.stderr.write(measured.stderr)
    result.update(json.loads(measured.stdout))
    if args.load_seconds and (args.load_all or size == args.largest):
        cached_env = {**env, "CACHE_URL": args.cache_url}
        flush_redis(args.cache_url)
        pages = [page for page in result["pages"] if page.get("status") == 200]
        result["load"] = load_test(cached_env, pages, args.load_seconds, args.connections, args.workers)
        result["weight"] = page_weight(cached_env)
    return result


def flush_redis(url):
    """Empty the benchmark's own Redis database (never another one)."""
    if url.startswith("redis://"):
        import redis

        redis.Redis.from_url(url).flushdb()


def render_search_ratio(largest):
    """Issue 16: the common-word search against the mid-pair intersection."""
    by_name = {page["name"].split(" (")[0].split(" '")[0]: page for page in largest["pages"]}
    search, pair = by_name.get("search, common word"), by_name.get("2 tags, mid pair")
    if not (search and pair and "p50" in search and "p50" in pair):
        return []
    ratio = search["p50"] / pair["p50"]
    meets = "✓" if ratio <= SEARCH_RATIO_TARGET else "✗"
    return [
        "",
        f"Search for a common word against the mid-pair intersection at {largest['studies']:,} studies: "
        f"{search['p50']:.1f} ms / {pair['p50']:.1f} ms = {ratio:.2f}× (target ≤ {SEARCH_RATIO_TARGET:.0f}×) {meets}.",
    ]


def pg_version(number):
    return f"{number // 10000}.{number % 10000}" if number else "—"


def fmt_ms(value):
    return f"{value:.1f}" if value is not None else "—"


def render(results, meta):
    sizes = [result["size"] for result in results]
    largest = results[-1]
    lines = [
        "# K2 Site benchmark results",
        "",
        f"Run {meta['date']}: {meta['command']}.",
        "",
        f"Machine: {meta['machine']['cpu']}, {meta['machine']['cores']} cores, "
        f"{meta['machine']['memory_gb']} GB RAM; {meta['machine']['os']}; Python {meta['machine']['python']}; "
        f"PostgreSQL {pg_version(largest.get('postgres'))}. Load average before the run: "
        f"{', '.join(f'{x:.2f}' for x in meta['machine']['load_before'])}.",
    ]
    if meta.get("load_date"):
        lines += [
            "",
            f"The load test and page weight below were run again on {meta['load_date']}, "
            "against the same 1,000,000-study database.",
        ]
    if meta.get("note"):
        lines += ["", f"**Note:** {meta['note']}"]
    if meta.get("summary"):
        lines += ["", "## What the numbers say", "", meta["summary"]]
    lines += [
        "",
        "## How it was measured",
        "",
        "Server time is measured in-process (Django test client through the whole middleware stack, "
        f"DEBUG off, page cache off), {meta['requests']} requests per page after 3 warm-up requests; "
        "it includes template rendering but not the network. Targets from the issue: p95 at 1,000,000 "
        "studies ≤ 50 ms for tag pages and 2-tag intersections, ≤ 100 ms for 3-tag intersections and "
        f"search; growth from the smallest to the largest size ≤ {TARGET_GROWTH:g}×; a query count that does not "
        "grow with the data (✗ when it does).",
        "",
        "## Data",
        "",
        "| studies | entries | postings (entry × tag) | of them inherited | tags | tree depth | seed time |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        seed = f"{result['seed_seconds']:.0f} s" if "seed_seconds" in result else "reused"
        inherited = f"{result['inherited_postings']:,}" if "inherited_postings" in result else "—"
        lines.append(
            f"| {result['studies']:,} | {result['entries']:,} | {result['postings']:,} | {inherited} "
            f"| {result['tags']:,} | {result.get('tree_depth', 1)} | {seed} |"
        )
    lines += ["", "## Server time per page (ms) and queries", ""]
    header = "| page | queries | " + " | ".join(f"p50 / p95 @ {size:,}" for size in sizes)
    header += " | growth (p50) | target p95 | meets | SQL / rest (Python) ms @ largest |"
    lines += [header, "|---|---:|" + "---:|" * len(sizes) + "---:|---:|---|---:|"]
    for index, page in enumerate(largest["pages"]):
        rows = [result["pages"][index] for result in results]
        if any("skipped" in row for row in rows):
            lines.append(f"| {page['name']} | — | " + " | ".join(row.get("skipped", "") for row in rows) + " | | | |")
            continue
        timed = [row for row in rows if "p50" in row]
        queries = [row.get("queries", "?") for row in rows]
        # A count that grows with the data is a fault; one that drops (a big
        # intersection reads no facet sample) is not.
        if len(set(queries)) == 1:
            query_text = str(queries[0])
        else:
            grows = any(not isinstance(q, int) or q > queries[0] for q in queries[1:])
            query_text = "/".join(map(str, queries)) + (" ✗" if grows else "")
        growth = rows[-1]["p50"] / rows[0]["p50"] if len(timed) == len(rows) and rows[0]["p50"] else None
        target = page["target"]
        verdicts = []
        if "error" in rows[-1]:
            verdicts.append("✗ " + rows[-1]["error"])
        elif target is not None:
            verdicts.append("✓" if rows[-1]["p95"] <= target else "✗ time")
        if growth is not None and len(rows) > 1:
            verdicts.append("✓ growth" if growth <= TARGET_GROWTH else "✗ growth")
        if any(row["status"] != 200 for row in rows if "error" not in row):
            verdicts.append(f"status {rows[-1]['status']}")
        cells = [
            f"{fmt_ms(row['p50'])} / {fmt_ms(row['p95'])}"
            if "p50" in row
            else "timeout"
            if "cancelled" in row.get("error", "")
            else "error"
            for row in rows
        ]
        growth_text = f"{growth:.2f}×" if growth is not None else "—"
        last = rows[-1]
        split = f"{last['sql_ms']:.1f} / {last['p50'] - last['sql_ms']:.1f}" if "sql_ms" in last else "—"
        lines.append(
            f"| {page['name']} | {query_text} | "
            + " | ".join(cells)
            + f" | {growth_text} | {target or '—'} | {' '.join(verdicts) or '—'} | {split} |"
        )
    uncapped = [page["name"] for page in largest["pages"] if page.get("uncapped_counts")]
    lines += [
        "",
        "Exact `COUNT(*)` without a `LIMIT` in a page's SQL: " + (", ".join(uncapped) if uncapped else "none."),
    ]
    lines += render_search_ratio(largest)
    lines += render_tree_ratios(results)
    for result in results:
        load = result.get("load")
        if not load:
            continue
        lines += [
            "",
            f"## Cached pages under load ({result['studies']:,} studies)",
            "",
            f"gunicorn, {load['workers']} sync workers, page cache in Redis; {load['tool']} with "
            f"{load['connections']} connections for {load['seconds']} s per URL over loopback. Each page's "
            "rate is compared with the mean of the hello runs just before and after it. Target: ≥ "
            f"{CACHED_RATIO_TARGET:.0%} of hello.",
            "",
            f"Hello view runs: {', '.join(f'{rate:,.0f}' for rate in load['hello'])} requests/s.",
            "",
            "| page | requests/s | hello requests/s | ratio | meets |",
            "|---|---:|---:|---:|---|",
        ]
        for page in load["pages"]:
            meets = "✓" if page["ratio"] >= CACHED_RATIO_TARGET else "✗"
            errors = f" ({page['errors']} errors)" if page["errors"] else ""
            lines.append(
                f"| `{page['url']}` | {page['rate']:,.0f}{errors} | {page['hello']:,.0f} "
                f"| {page['ratio']:.0%} | {meets} |"
            )
    weight = largest.get("weight")
    if weight:
        lines += [
            "",
            "## Home page weight (first visit)",
            "",
            "| file | bytes | encoding | Cache-Control |",
            "|---|---:|---|---|",
        ]
        for row in weight["files"]:
            lines.append(f"| `{row['url']}` | {row['bytes']:,} | {row['encoding']} | {row['cache_control'] or '—'} |")
        verdict = "✓ under 100 KB" if weight["total"] < 100_000 else "✗ over 100 KB"
        lines += [f"| **total** | **{weight['total']:,}** | | {verdict} |"]
    lines += [
        "",
        f"## Plan of the intersection query ({largest['studies']:,} studies)",
        "",
        f"The worst case per shared/PERFORMANCE.md, a mid pair: {' + '.join(largest['explain_pair'])}; "
        "first page (51 rows). `EXPLAIN (ANALYZE, BUFFERS)`:",
        "",
        "```",
        largest.get("explain", ""),
        "```",
        "",
    ]
    for plan in largest.get("explain_tree", []):
        lines += [
            f"### {plan['name']}",
            "",
            f"`{plan['url']}`, first page (51 rows). `EXPLAIN (ANALYZE, BUFFERS)`:",
            "",
            "```",
            plan["plan"],
            "```",
            "",
        ]
    return "\n".join(lines)


def render_tree_ratios(results):
    """Each category-tree page's server time over the leaf pair's, per size:
    from the interleaved measurement when there is one (bench/measure.py)."""

    def by_key(result):
        pages = {row["key"]: row for row in result["pages"] if row.get("key") and "p50" in row}
        interleaved = result.get("tree_interleaved") or {}
        return {key: {**pages.get(key, {}), **times} for key, times in interleaved.items()} or pages

    found = [by_key(result) for result in results]
    if not any("leaf_pair" in pages for pages in found):
        return []
    largest = found[-1]
    sizes = [result["size"] for result in results]
    leaf = largest.get("leaf_pair")
    rounds = (results[-1].get("tree_interleaved") or {}).get("leaf_pair", {}).get("samples")
    how = (
        f"measured interleaved ({rounds} rounds of one request to each page in turn, after the table above), "
        "so the machine's load drifts alike for all of them"
        if rounds
        else "from the table above"
    )
    lines = [
        "",
        "## Category tree: parent pages against a leaf pair",
        "",
        f"Issue 13: at {sizes[-1]:,} studies a parent's page and a parent × tag intersection cost at most "
        f"{TREE_RATIO_TARGET:.0f}× a leaf pair ({leaf['name'] if leaf else 'not measured'}). Server time of "
        f"each page over the leaf pair's, {how}; p50 at every size and p95 at the largest, the verdict on "
        "both at the largest size.",
        "",
        "| page / leaf pair | "
        + " | ".join(f"p50 @ {size:,}" for size in sizes)
        + f" | p95 @ {sizes[-1]:,} | ms p50 / p95 @ {sizes[-1]:,} | target | meets |",
        "|---|" + "---:|" * len(sizes) + "---:|---:|---:|---|",
    ]
    for key, label in [*TREE_COMPARED, ("leaf_pair", "leaf pair (the base)")]:
        cells = []
        for pages in found:
            row, base = pages.get(key), pages.get("leaf_pair")
            cells.append(f"{row['p50'] / base['p50']:.2f}×" if row and base and base["p50"] else "—")
        row = largest.get(key)
        if not (row and leaf):
            lines.append(f"| {label} | " + " | ".join(cells) + " | — | — | — | not measured |")
            continue
        p50, p95 = row["p50"] / leaf["p50"], row["p95"] / leaf["p95"]
        times = f"{fmt_ms(row['p50'])} / {fmt_ms(row['p95'])}"
        if key == "leaf_pair":
            lines.append(f"| {label} | " + " | ".join(cells) + f" | 1.00× | {times} | | |")
            continue
        meets = "✓" if max(p50, p95) <= TREE_RATIO_TARGET else "✗"
        lines.append(
            f"| {label} | " + " | ".join(cells) + f" | {p95:.2f}× | {times} | ≤ {TREE_RATIO_TARGET:.0f}× | {meets} |"
        )
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="studies per run, comma-separated")
    parser.add_argument("--server", default=os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="k2_bench", help="dropped and created again for each size")
    parser.add_argument("--keep", action="store_true", help="one database per size (k2_bench_<size>), kept")
    parser.add_argument("--reuse", action="store_true", help="measure the existing database, no seeding")
    parser.add_argument("--reuse-sizes", default="", help="with --keep: sizes whose database is measured as it is")
    parser.add_argument("--resume", action="store_true", help="keep the sizes already in bench/results.json")
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="with --resume: only the load test and page weight again, on the largest size",
    )
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="seed_bench row-generating processes")
    parser.add_argument("--tree", type=int, default=3, help="depth of the seeded category tree (1: flat)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--load-seconds", type=int, default=4, help="per URL under load; 0 skips the load test")
    parser.add_argument("--load-all", action="store_true", help="load-test every size, not only the largest")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--note", default="", help="a remark for RESULTS.md (e.g. other work on the machine)")
    parser.add_argument("--output", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    meta = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "bench/run.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "requests": args.requests,
        "note": args.note,
    }
    sizes = [int(size) for size in args.sizes.split(",")]
    args.largest = max(sizes)
    args.reuse_sizes = {int(size) for size in args.reuse_sizes.split(",") if size}
    run(
        [PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"],
        {**os.environ, "DJANGO_SECRET_KEY": "collectstatic"},
    )
    results = []
    if args.resume:
        # Sizes already measured (bench/results.json) are kept, not run again.
        previous = json.loads((ROOT / "bench" / "results.json").read_text())
        results = [result for result in previous["results"] if result["size"] in sizes]
        meta = {
            **previous["meta"],
            "note": args.note or previous["meta"].get("note", ""),
            "command": previous["meta"]["command"] + "; then " + meta["command"],
            "resumed": meta["date"],
        }
    if args.load_only:
        # The cache load test and page weight again, on the largest size's
        # database as it stands; its server times are kept.
        largest = next(result for result in results if result["size"] == args.largest)
        env = bench_env(args, largest["database"])
        pages = [page for page in largest["pages"] if page.get("status") == 200]
        cached_env = {**env, "CACHE_URL": args.cache_url}
        flush_redis(args.cache_url)
        largest["load"] = load_test(cached_env, pages, args.load_seconds, args.connections, args.workers)
        largest["weight"] = page_weight(cached_env)
        meta["load_date"] = meta["resumed"]
        sizes = []
    for size in sizes:
        if any(result["size"] == size for result in results):
            continue
        results.append(bench_size(size, args))
        results.sort(key=lambda result: result["size"])
        Path(ROOT / "bench" / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
        Path(args.output).write_text(render(results, meta))
    Path(ROOT / "bench" / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    Path(args.output).write_text(render(results, meta))
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
