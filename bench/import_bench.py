"""Import speed and memory: generated reference files through study_import.

    .venv/bin/python bench/import_bench.py                      # the full matrix, writes bench/IMPORT_RESULTS.md
    .venv/bin/python bench/import_bench.py --sizes 10000 --formats ris --databases sqlite

For each database, format and size it generates a file, then in a fresh
process (so peak memory is the import's own) migrates an empty database,
imports the file (drafts, keywords → tags), and imports it again (everything
unchanged). PostgreSQL uses the database named by --postgres (default
k2_import_bench, created if missing), which is flushed first; SQLite a
temporary file. The machine's load average is noted around every run: on a
shared machine, compare numbers measured under the same load.
"""

import argparse
import datetime
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "IMPORT_RESULTS.md"
WORDS = (
    "vitamin menaquinone phylloquinone calcification arterial bone density osteocalcin matrix gla protein "
    "supplementation postmenopausal women cohort dialysis coronary stiffness fracture trial placebo dose "
    "carboxylation warfarin aortic valve elastin kidney diabetes insulin inflammation serum plasma"
).split()
FAMILIES = ["Knapen", "Vermeer", "Schurgers", "Müller", "Østergaard", "Gómez-Núñez", "Nguyễn", "Di Pietro", "Wójcik"]
GIVEN = ["Marjo H J", "Cees", "Leon J", "Jörg", "Søren", "José Ángel", "Thị Minh", "Natalia", "Zoë"]
TYPES = ["Randomized Controlled Trial", "Review", "Meta-Analysis", "Observational Study", "Journal Article"]
KEYWORDS = [f"Topic {n}" for n in range(200)]


def paper(rng, n):
    title = f"{' '.join(rng.choice(WORDS) for _ in range(9)).capitalize()} (generated study {n})"
    return {
        "n": n,
        "title": title,
        "authors": [(rng.choice(FAMILIES), rng.choice(GIVEN)) for _ in range(rng.randint(1, 4))],
        "journal": rng.choice(["Nutrients", "Thrombosis and haemostasis", "Osteoporosis international"]),
        "year": rng.randint(1980, 2024),
        "month": rng.randint(1, 12),
        "volume": str(rng.randint(1, 200)),
        "issue": str(rng.randint(1, 12)),
        "pages": f"{rng.randint(1, 900)}-{rng.randint(901, 999)}",
        "doi": f"10.5555/bench.{n}",
        "pmid": str(30_000_000 + n),
        # Short abstracts so that 100,000 records fit the 50 MB file limit.
        "abstract": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))),
        "keywords": rng.sample(KEYWORDS, 3),
        "type": rng.choice(TYPES),
    }


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def medline(p):
    lines = [f"PMID- {p['pmid']}", f"DP  - {p['year']} {MONTHS[p['month'] - 1]}", f"TI  - {p['title']}"]
    lines += [f"VI  - {p['volume']}", f"IP  - {p['issue']}", f"PG  - {p['pages']}", f"LID - {p['doi']} [doi]"]
    abstract, first = p["abstract"], True
    while abstract:  # wrapped like PubMed's own export
        chunk, abstract = abstract[:80], abstract[80:]
        lines.append(("AB  - " if first else "      ") + chunk)
        first = False
    for family, given in p["authors"]:
        lines += [f"FAU - {family}, {given}", f"AU  - {family} {given.replace(' ', '')[:2]}"]
    lines += [f"PT  - {p['type']}", f"JT  - {p['journal']}"] + [f"OT  - {k}" for k in p["keywords"]]
    return "\n".join(lines) + "\n\n"


def ris(p):
    lines = ["TY  - JOUR", f"TI  - {p['title']}"] + [f"AU  - {f}, {g}" for f, g in p["authors"]]
    lines += [f"T2  - {p['journal']}", f"PY  - {p['year']}", f"DA  - {p['year']}/{p['month']:02d}/01/"]
    lines += [f"VL  - {p['volume']}", f"IS  - {p['issue']}", f"SP  - {p['pages']}", f"DO  - {p['doi']}"]
    lines += [f"AB  - {p['abstract']}"] + [f"KW  - {k}" for k in p["keywords"]] + ["ER  - "]
    return "\n".join(lines) + "\n\n"


def bibtex(p):
    authors = " and ".join(f"{f}, {g}" for f, g in p["authors"])
    return (
        f"@article{{bench{p['n']},\n  title = {{{p['title']}}},\n  author = {{{authors}}},\n"
        f"  journal = {{{p['journal']}}},\n  year = {{{p['year']}}},\n  month = {MONTHS[p['month'] - 1].lower()},\n"
        f"  volume = {{{p['volume']}}},\n  number = {{{p['issue']}}},\n  pages = {{{p['pages']}}},\n"
        f"  doi = {{{p['doi']}}},\n  pmid = {{{p['pmid']}}},\n  abstract = {{{p['abstract']}}},\n"
        f"  keywords = {{{', '.join(p['keywords'])}}},\n}}\n\n"
    )


def csljson(p):
    return json.dumps(
        {
            "id": f"bench{p['n']}",
            "type": "article-journal",
            "title": p["title"],
            "author": [{"family": f, "given": g} for f, g in p["authors"]],
            "container-title": p["journal"],
            "issued": {"date-parts": [[p["year"], p["month"]]]},
            "volume": p["volume"],
            "issue": p["issue"],
            "page": p["pages"],
            "DOI": p["doi"],
            "PMID": p["pmid"],
            "abstract": p["abstract"],
            "keyword": ", ".join(p["keywords"]),
            "genre": p["type"],
        },
        ensure_ascii=False,
    )


WRITERS = {"medline": medline, "ris": ris, "bibtex": bibtex, "csljson": csljson}


def generate(fmt, size, path, seed=1):
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as out:
        if fmt == "csljson":
            out.write("[\n")
            for n in range(size):
                out.write(("," if n else "") + csljson(paper(rng, n)) + "\n")
            out.write("]\n")
        else:
            for n in range(size):
                out.write(WRITERS[fmt](paper(rng, n)))


def child(args):
    """One measurement in a fresh process: migrate, import, import again."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "k2site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from studies.importing import study_import
    from studies.models import Study

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        call_command("flush", "--no-input", verbosity=0)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = study_import(source=args.file, fmt=args.format)
    first = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    again = study_import(source=args.file, fmt=args.format)
    second = time.perf_counter() - started
    assert report.counts["created"] == args.size == Study.objects.count(), report.counts
    assert again.counts["unchanged"] == args.size, again.counts
    print(json.dumps({
        "first_seconds": first, "second_seconds": second,
        "rss_before_mb": rss_before / 1024, "rss_peak_mb": peak / 1024,
        "peak_after_reimport_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))  # fmt: skip


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, {int(memory) / 1024 / 1024:.0f} GB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--formats", nargs="+", default=["medline"], choices=sorted(WRITERS))
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/k2_import_bench")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    rows = []
    with tempfile.TemporaryDirectory(prefix="k2-import-bench-") as workdir:
        for fmt in args.formats:
            for size in args.sizes:
                path = Path(workdir) / f"bench-{size}.{fmt}"
                generate(fmt, size, path)
                megabytes = path.stat().st_size / 1024 / 1024
                for database in args.databases:
                    url = (
                        args.postgres if database == "postgresql" else f"sqlite:///{workdir}/bench-{fmt}-{size}.sqlite3"
                    )
                    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SECRET_KEY": "bench", "DJANGO_DEBUG": "0"}
                    if database == "postgresql":
                        create_database(url)
                    child_command = [sys.executable, __file__, "--child", "--file", str(path), "--format", fmt]
                    load_before = os.getloadavg()[0]
                    result = subprocess.run(
                        [*child_command, "--size", str(size)], env=env, capture_output=True, text=True, check=False
                    )
                    if result.returncode:
                        sys.exit(f"{database} {fmt} {size} failed:\n{result.stderr[-3000:]}")
                    measured = json.loads(result.stdout.strip().splitlines()[-1])
                    row = {"database": database, "format": fmt, "size": size, "megabytes": megabytes, **measured}
                    row["load"] = (load_before, os.getloadavg()[0])
                    rows.append(row)
                    print(
                        f"{database:<10} {fmt:<8} {size:>7,} records {megabytes:6.1f} MB: "
                        f"{size / row['first_seconds']:>6,.0f} records/s, "
                        f"re-import {size / row['second_seconds']:>6,.0f}/s, "
                        f"peak RSS {row['rss_peak_mb']:.0f} MB (before {row['rss_before_mb']:.0f} MB), "
                        f"load {row['load'][0]:.1f}–{row['load'][1]:.1f}",
                        flush=True,
                    )
    write_results(args.output, rows, " ".join(sys.argv[1:]))


def create_database(url):
    """The PostgreSQL database the bench flushes, created when missing (psql on PATH)."""
    name = url.rsplit("/", 1)[1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    found = subprocess.run(
        ["psql", server, "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    )
    if not found.stdout.strip():
        subprocess.run(["psql", server, "-qc", f'CREATE DATABASE "{name}"'], check=True)


def write_results(path, rows, arguments=""):
    lines = [
        "# Import benchmark",
        "",
        f"Run {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine()} with `bench/import_bench.py`.",
        "The machine is shared: other engineers' test runs and benchmarks were running at the same time, so",
        "treat the numbers as a lower bound with some noise.",
        "",
        "Each run: a generated file (1–4 authors with accented names, an abstract of 5–12 words, 3 keywords",
        "out of 200, a DOI and a PMID per record), imported into an empty database as drafts (studies,",
        "tags, tag links and the listing index), then imported again (everything unchanged).",
        "Peak RSS is the whole process (Python, Django and the import) after the first import; 'before' is",
        "the process after start-up and migrations.",
        "",
        f"Repeat: `{f'.venv/bin/python bench/import_bench.py {arguments}'.strip()}`",
        "",
        "| database | format | records | file | first import | records/s | re-import | records/s "
        "| peak RSS (before) | load avg (start–end) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['database']} | {row['format']} | {row['size']:,} | {row['megabytes']:.1f} MB "
            f"| {row['first_seconds']:.1f} s | {row['size'] / row['first_seconds']:,.0f} "
            f"| {row['second_seconds']:.1f} s | {row['size'] / row['second_seconds']:,.0f} "
            f"| {row['rss_peak_mb']:.0f} MB ({row['rss_before_mb']:.0f} MB) "
            f"| {row['load'][0]:.1f}–{row['load'][1]:.1f} |"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
