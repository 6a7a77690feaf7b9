"""Copy a K2 database seeded by ``seed_bench`` into the WordPress of bench/peer/install.sh.

    .venv/bin/python bench/peer/export.py --k2 postgres://postgres@127.0.0.1:5432/k2_peer_100000

The same entries (title; a study's abstract or an article's body as the content,
an article's lead as the excerpt; the listing date), the same tags and the
same tag links. WordPress's tags are flat, so each entry gets every tag K2
lists it under: its own and the ones it inherits from the category tree —
``/?tag=a+b`` then selects exactly the entries of ``/tags/a+b/``. Entries
visible now are published posts, the others (drafts, in review, archived,
scheduled, expired) drafts. Every post is also in "Uncategorized", as any
WordPress post is. Tag counts (wp_term_taxonomy.count) count published posts,
as WordPress's own counting does.

PostgreSQL's COPY text format is MariaDB's LOAD DATA default (tabs, backslash
escapes, \\N), so the rows go across as files, in bulk, without conversion.
"""

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

VISIBLE = "e.status = 'published' AND e.publish_at <= now() AND (e.expire_at IS NULL OR e.expire_at > now())"
# K2's tag ids shifted past WordPress's own terms (1: Uncategorized).
TERM_OFFSET = 100
UNCATEGORIZED = 1

EXPORTS = {
    # The listing order is (-sort_date, -id); WordPress sorts by post_date alone,
    # so entries of one day get one second each, in id order.
    "posts": f"""
        SELECT e.id, e.title, coalesce(s.abstract, a.body, ''), coalesce(a.lead, ''), left(e.slug, 200),
               e.sort_date + make_interval(secs => row_number() OVER (PARTITION BY e.sort_date ORDER BY e.id)),
               CASE WHEN {VISIBLE} THEN 'publish' ELSE 'draft' END
        FROM k2site_entry e
        LEFT JOIN studies_study s ON s.id = e.study_id
        LEFT JOIN articles_article a ON a.id = e.article_id""",
    "terms": f"SELECT id + {TERM_OFFSET}, name, slug FROM k2site_tag",
    "taxonomy": f"""
        SELECT t.id + {TERM_OFFSET}, t.id + {TERM_OFFSET}, 'post_tag', '', count(e.id)
        FROM k2site_tag t
        LEFT JOIN k2site_entrytag et ON et.tag_id = t.id
        LEFT JOIN k2site_entry e ON e.id = et.entry_id AND {VISIBLE}
        GROUP BY t.id""",
    "links": f"""
        SELECT entry_id, tag_id + {TERM_OFFSET} FROM k2site_entrytag
        UNION ALL SELECT id, {UNCATEGORIZED} FROM k2site_entry""",
}

LOADS = {
    "posts": """LOAD DATA LOCAL INFILE '{file}' INTO TABLE wp_posts CHARACTER SET utf8mb4
        (ID, post_title, post_content, post_excerpt, post_name, post_date, post_status)
        SET post_author = 1, post_date_gmt = post_date, post_modified = post_date, post_modified_gmt = post_date,
            to_ping = '', pinged = '', post_content_filtered = '', post_type = 'post',
            comment_status = 'closed', ping_status = 'closed', guid = concat('http://127.0.0.1/?p=', ID)""",
    "terms": "LOAD DATA LOCAL INFILE '{file}' INTO TABLE wp_terms CHARACTER SET utf8mb4 (term_id, name, slug)",
    "taxonomy": """LOAD DATA LOCAL INFILE '{file}' INTO TABLE wp_term_taxonomy
        (term_taxonomy_id, term_id, taxonomy, description, count)""",
    "links": "LOAD DATA LOCAL INFILE '{file}' INTO TABLE wp_term_relationships (object_id, term_taxonomy_id)",
}

# The install's sample content goes; its "Uncategorized" category stays.
EMPTY = """
    TRUNCATE wp_posts; TRUNCATE wp_postmeta; TRUNCATE wp_comments; TRUNCATE wp_commentmeta;
    TRUNCATE wp_term_relationships; TRUNCATE wp_termmeta;
    DELETE FROM wp_term_taxonomy WHERE term_id <> 1; DELETE FROM wp_terms WHERE term_id <> 1;"""
FINISH = f"""
    UPDATE wp_term_taxonomy SET count = (SELECT count(*) FROM wp_posts WHERE post_status = 'publish')
        WHERE term_taxonomy_id = {UNCATEGORIZED};
    UPDATE wp_options SET option_value = '0' WHERE option_name = 'fresh_site';
    DELETE FROM wp_options WHERE option_name LIKE '\\_transient\\_%' OR option_name LIKE '\\_site\\_transient\\_%';
    ANALYZE TABLE wp_posts, wp_terms, wp_term_taxonomy, wp_term_relationships;"""


def mysql(args, sql):
    subprocess.run(
        ["mysql", "--local-infile=1", "-h", args.wp_host, "-P", str(args.wp_port), "-u", args.wp_user, args.wp_db]
        + ([f"-p{args.wp_password}"] if args.wp_password else []),
        input=sql,
        text=True,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k2", default="postgres://postgres@127.0.0.1:5432/k2_peer_100000", help="K2 database URL")
    parser.add_argument("--wp-db", default="wp_peer")
    parser.add_argument("--wp-host", default="127.0.0.1")
    parser.add_argument("--wp-port", type=int, default=3306)
    parser.add_argument("--wp-user", default="wp_peer")
    parser.add_argument("--wp-password", default="wp_peer")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="k2-peer-export-") as tmp, psycopg.connect(args.k2) as conn:
        loads = []
        for name, query in EXPORTS.items():
            path = Path(tmp) / f"{name}.tsv"
            with path.open("wb") as out, conn.cursor().copy(f"COPY ({query}) TO STDOUT") as copy:
                for chunk in copy:
                    out.write(chunk)
            loads.append(LOADS[name].format(file=path) + ";")
            print(f"[{time.monotonic() - started:6.1f}s] {name}: {path.stat().st_size / 1e6:,.1f} MB", flush=True)
        # One session: keys checked once at the end, one commit.
        setup = "SET unique_checks = 0; SET foreign_key_checks = 0; SET autocommit = 0;"
        mysql(args, setup + EMPTY + "".join(loads) + "COMMIT;" + FINISH)
    print(f"[{time.monotonic() - started:6.1f}s] loaded into MariaDB {args.wp_db}", flush=True)


if __name__ == "__main__":
    main()
