"""Synthetic data at scale for the benchmarks in bench/.

    python manage.py seed_bench --studies 1000000 --articles 2000 --tags 500 --seed 1 --tree 3

Long-tail tag use (tag of rank r drawn with weight 1/r), 3–6 tags per entry,
dates over 30 years (more papers in recent years), titles, abstracts,
authors and journals built from a domain vocabulary so search has common and
rare words to find, and about 5% of entries not visible (drafts, in review,
scheduled, archived, expired).

``--tree DEPTH`` arranges the tags in a category tree before any entry is
made (``sampledata.seeding.vocabulary.tag_tree``): 1, the default, leaves
them flat; 2 puts each "<topic> <qualifier>" tag under its "<topic>"; 3 also
puts the topics under a handful of root topics (Vitamin K2, Bone,
Cardiovascular…). Entries still carry tags of any level, drawn long-tail,
and get an inherited posting for every ancestor of their tags, as
``sync_entries`` writes them. With ``--append`` only tags without a parent
get one (never one that would make a loop), and the existing entries under
them are reposted (``catalog.indexing.repost_under``).

On PostgreSQL the rows go in with COPY — studies, their tag links, and the
listing index (Entry, EntryTag) exactly as ``catalog.indexing.sync_entries``
would write it — then ``recount_tags()`` and VACUUM ANALYZE. A million studies
load in a few minutes; one save per row would take hours. On SQLite it falls
back to bulk_create and ``sync_entries`` in batches. History tables are not
written: these rows never went through an editor.

The pieces: ``sampledata.seeding.vocabulary`` (words, names, tags),
``.generator`` (deterministic rows), ``.copy_loader`` (PostgreSQL COPY).
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from articles.models import Article, TaggedArticle
from catalog.indexing import recount_tags, repost_under, sync_entries
from catalog.models import Entry, EntryTag, Tag
from catalog.tree import ancestor_ids, parent_map
from sampledata.seeding.copy_loader import CopyLoader
from sampledata.seeding.generator import Generator
from sampledata.seeding.vocabulary import TREE_DEPTHS, tag_names, tag_slug, tag_tree
from studies.models import Study, TaggedStudy

# Entries generated per task (one worker's unit of work).
CHUNK = 20_000


class Command(BaseCommand):
    help = "Fill the database with synthetic studies, articles and tags for the benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--studies", type=int, default=10_000)
        parser.add_argument("--articles", type=int, default=None, help="default: studies / 500, at least 10")
        parser.add_argument("--tags", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--append", action="store_true", help="add to a database that already holds entries")
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="processes generating rows while PostgreSQL loads them (0: generate in this process)",
        )
        parser.add_argument(
            "--tree",
            type=int,
            default=1,
            choices=TREE_DEPTHS,
            help="depth of the category tree the tags are arranged in (1: flat)",
        )

    def handle(self, *args, studies, articles, tags, seed, append, jobs, tree, **options):
        if articles is None:
            articles = max(10, studies // 500)
        if studies < 0 or articles < 0 or tags < 3 or jobs < 0:
            raise CommandError("--studies and --articles must be 0 or more, --tags at least 3, --jobs 0 or more.")
        if tree not in TREE_DEPTHS:  # call_command() skips argparse's choices
            raise CommandError(f"--tree is one of {', '.join(map(str, TREE_DEPTHS))}.")
        if not append and (Study.objects.exists() or Article.objects.exists()):
            raise CommandError(
                "The database already holds studies or articles. Use an empty database, "
                "or --append to add the synthetic entries to them."
            )
        self.started = time.monotonic()
        self.now = timezone.now()
        self.counts = {"study": studies, "article": articles}
        tag_ids = self.make_tags(tags, tree)
        through = Article.related_studies.through
        models_loaded = [Study, TaggedStudy, Article, TaggedArticle, through, Entry, EntryTag]
        base_ids = {model: self.max_id(model) + 1 for model in models_loaded}
        generator = Generator(
            seed=seed,
            tag_ids=tag_ids,
            now=self.now,
            base_ids=base_ids,
            study_count=studies,
            parents=parent_map(),
        )
        tasks = [
            (kind, chunk, start, min(CHUNK, count - start))
            for kind, count in self.counts.items()
            for chunk, start in enumerate(range(0, count, CHUNK))
        ]
        if connection.vendor == "postgresql":
            loader = CopyLoader(now=self.now, counts=self.counts, log=self.log, progress=self.progress)
            loader.load(generator, tasks, models_loaded, jobs)
        else:
            self.load_with_orm(generator, tasks)
        self.log(f"Done: {studies:,} studies, {articles:,} articles, {len(tag_ids):,} tags.")

    def log(self, message):
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f}s] {message}")
        self.stdout.flush()

    def make_tags(self, count, depth):
        names = tag_names(count)
        Tag.objects.bulk_create(
            [Tag(name=name, slug=tag_slug(name)) for name in names], ignore_conflicts=True, batch_size=1000
        )
        by_name = {name.lower(): pk for pk, name in Tag.objects.values_list("pk", "name")}
        tag_ids = [by_name[name.lower()] for name in names if name.lower() in by_name]
        moved = self.make_tree(tag_tree(count, depth), by_name)
        self.log(f"{len(tag_ids):,} tags ready" + (f", {moved:,} given a parent." if moved else "."))
        return tag_ids

    @transaction.atomic
    def make_tree(self, tree, by_name):
        """Give each tag without a parent the one ``tree`` names ({name:
        parent name}), unless that would make a loop; repost the entries
        already under the tags moved. Returns how many tags got a parent."""
        parents = parent_map()
        moved = []
        for name, parent_name in tree.items():
            tag_id, parent_id = by_name.get(name.lower()), by_name.get(parent_name.lower())
            if tag_id is None or parent_id is None or tag_id in parents:
                continue
            if tag_id == parent_id or tag_id in ancestor_ids(parent_id, parents):
                continue
            parents[tag_id] = parent_id
            moved.append(Tag(pk=tag_id, parent_id=parent_id))
        Tag.objects.bulk_update(moved, ["parent"], batch_size=1000)
        if moved:
            repost_under([tag.pk for tag in moved])
        return len(moved)

    @staticmethod
    def max_id(model):
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def progress(self, done):
        total = sum(self.counts.values())
        rate = done / max(time.monotonic() - self.started, 1e-6)
        self.log(f"{done:,}/{total:,} entries ({100 * done // max(total, 1)}%, {rate:,.0f}/s)")

    # SQLite and others: the ORM in batches, the index through sync_entries --

    def load_with_orm(self, generator, tasks):
        done = 0
        with transaction.atomic():
            for kind, chunk, start, count in tasks:
                if kind == "study":
                    rows = generator.study_chunk(chunk, start, count)
                    self.create(Study, TaggedStudy, rows)
                else:
                    rows = generator.article_chunk(chunk, start, count)
                    self.create(Article, TaggedArticle, rows)
                    through = Article.related_studies.through
                    through.objects.bulk_create([through(**values) for values in rows[through]], batch_size=5000)
                done += count
                self.progress(done)
            recount_tags()

    def create(self, model, through, rows):
        objects = model.objects.bulk_create([model(**values) for values in rows[model]], batch_size=500)
        through.objects.bulk_create([through(**values) for values in rows[through]], batch_size=5000)
        for start in range(0, len(objects), 1000):
            sync_entries(objects[start : start + 1000], now=self.now)
