"""Synthetic data at scale for the benchmarks in bench/.

    python manage.py seed_bench --studies 1000000 --articles 2000 --tags 500 --seed 1

Long-tail tag use (tag of rank r drawn with weight 1/r), 3–6 tags per entry,
dates over 30 years (more papers in recent years), titles, abstracts,
authors and journals built from a domain vocabulary so search has common and
rare words to find, and about 5% of entries not visible (drafts, in review,
scheduled, archived, expired).

On PostgreSQL the rows go in with COPY — studies, their tag links, and the
listing index (Entry, EntryTag) exactly as ``k2site.services.sync_entries``
would write it — then ``recount_tags()`` and VACUUM ANALYZE. A million studies
load in a few minutes; one save per row would take hours. On SQLite it falls
back to bulk_create and ``sync_entries`` in batches. History tables are not
written: these rows never went through an editor.
"""

import datetime
import json
import multiprocessing
import random
import re
import time
from itertools import accumulate

from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from articles.models import Article, TaggedArticle
from k2site.models import UNDATED, Entry, EntryKind, EntryTag, Status, Tag, TagPair
from k2site.services import recount_tags, sync_entries
from studies.models import Study, StudyType, TaggedStudy

CHUNK = 20_000
NON_SLUG = re.compile(r"[^a-z0-9]+")
FIRST_YEAR, LAST_YEAR = 1996, 2025

# The head of the tag vocabulary; further tags are "<topic> <qualifier>".
TOPICS = """Vitamin K2|Bone|Cardiovascular|Calcium|Vitamin D|Osteoporosis|Arterial calcification|
Menaquinone-7|Menaquinone-4|Vitamin K1|Matrix Gla protein|Osteocalcin|Chronic kidney disease|Diabetes|
Dental health|Fractures|Postmenopausal women|Elderly|Children|Pregnancy|Warfarin|Anticoagulation|
Inflammation|Cancer|Liver|Brain|Cognition|Skin|Athletic performance|Mitochondria|Insulin sensitivity|
Vascular stiffness|Aortic valve|Coronary artery disease|Stroke|Hypertension|Dialysis|Natto|Cheese|
Fermented foods|Gut microbiome|Supplements|Dosage|Bioavailability|Diet|Obesity|Metabolic syndrome|
Rheumatoid arthritis|Osteoarthritis|Periodontitis|Prostate|Breast cancer|Hepatocellular carcinoma|
Leukemia|Multiple sclerosis|Parkinson's disease|Alzheimer's disease|Depression|Sleep|Muscle|
Sarcopenia|Frailty|Heart failure|Atrial fibrillation|Peripheral artery disease|Kidney stones|
Calciphylaxis|Pseudoxanthoma elasticum|Cystic fibrosis|Crohn's disease|Ulcerative colitis|
Celiac disease|Bariatric surgery|Vegetarian diet|Vegan diet|Mediterranean diet|Infants|Newborns|
Vitamin K deficiency bleeding|Coagulation|Gamma-carboxylation|Gas6|Protein S|Periostin|GRP|
Vitamin A|Magnesium|Omega-3|Statins|Bisphosphonates|Teriparatide|Calcitriol|Phosphate|
Parathyroid hormone|FGF23|Klotho|Menopause|Testosterone|Estrogen|COVID-19|Lung function|
Immune system|Oxidative stress|Ferroptosis|Apoptosis|Endothelial function|Pulse wave velocity""".split("|")
QUALIFIERS = """in women|in men|in athletes|in older adults|in children|in animals|in vitro|biomarkers|
dose response|safety|mechanisms|imaging|genetics|epidemiology|prevention|treatment|nutrition|
supplementation|outcomes|mortality|risk factors|guidelines|reviews|trials""".split("|")

# Words for titles and abstracts, roughly most to least common; drawn
# long-tail so a search has words on most entries and words on a handful.
WORDS = """vitamin K2 menaquinone supplementation bone calcium arterial vascular calcification
cardiovascular density risk patients women postmenopausal study trial randomized placebo
effect effects association levels serum plasma intake dietary status protein matrix carboxylation
osteocalcin dephosphorylated uncarboxylated inactive MGP dp-ucMGP stiffness pulse wave velocity
mineral fracture hip spine lumbar femoral neck osteoporosis elderly adults children kidney
chronic disease dialysis hemodialysis diabetes insulin glucose inflammation markers cytokines
coronary artery aortic valve progression events mortality cohort follow-up baseline years months
daily dose micrograms MK-7 MK-4 phylloquinone natto cheese fermented dairy bacteria gut
microbiome absorption bioavailability half-life liver coagulation factors warfarin anticoagulant
bleeding safety tolerability adverse outcome primary secondary endpoint significant reduction
increase decrease improvement compared control group intervention treatment analysis meta-analysis
systematic review observational cross-sectional case-control mechanism cells osteoblasts osteoclasts
vascular smooth muscle endothelial mitochondria apoptosis gene expression receptor signaling SXR
Gas6 growth arrest specific periostin Gla-rich GRP cartilage joint osteoarthritis rheumatoid
dental teeth enamel periodontal skin wrinkles elastin brain cognition sphingolipids neurons
myelin depression sleep muscle strength performance athletes cardiac output exercise""".split()
RARE_WORDS = """ferroptosis calciphylaxis pseudoxanthoma elasticum sphingomyelin nattokinase
UBIAD1 VKORC1 GGCX carboxylase epoxide reductase menadione hydroquinone vitamers
chondrocalcinosis hydroxyapatite whitlockite spondylitis xerophthalmia""".split()

FAMILY = """Schurgers Vermeer Knapen Geleijnse Theuwissen Shea Booth Cranenburg Brandenburg Westenfeld
Mandatori Beulens Gast Kurnatowska Ikari Iwamoto Sato Fusaro Zoch Akbulut Lees Hariri Wen Bourgeois
Chen Wang Li Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao
Smith Johnson Williams Brown Jones Miller Davis Garcia Rodriguez Wilson Martinez Anderson Taylor
Thomas Hernandez Moore Martin Jackson Thompson White Lopez Lee Gonzalez Harris Clark Lewis Robinson
Walker Perez Hall Young Allen Sanchez Wright King Scott Green Baker Adams Nelson Hill Ramirez
Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart Flores
Morris Nguyen Murphy Rivera Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Gomez Kelly Howard
Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Rossi Russo Ferrari
Esposito Bianchi Romano Colombo Ricci Marino Greco Tanaka Suzuki Takahashi Watanabe Ito Yamamoto
Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu
Jansen Visser Smit Bakker Janssen Dekker Mulder Bos Nielsen Jensen Hansen Pedersen Andersen
Larsen Kowalski Nowak Wisniewski Dubois Durand Leroy Moreau Simon Laurent Lefebvre Michel""".split()
GIVEN = """Leon Cees Marjo Johanna Sarah Martha Rafael Marisa Vincent Thomas Domenico Joline Anna Elke
Ewa Masahiro Yoshiko Tomonori Maria Ludovic Kate Sara Jing Wei Li Ming Xiao Hui Yan Jun Ying
James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Charles Karen Christopher Nancy Daniel Lisa Matthew Betty Anthony Margaret
Mark Sandra Paul Ashley Steven Kimberly Andrew Emily Kenneth Donna Joshua Michelle Kevin Carol
Hans Peter Klaus Ursula Giulia Marco Luca Francesca Hiroshi Yuki Kenji Akiko Jan Pieter Lars
Mette Piotr Agnieszka Pierre Camille Sophie""".split()
JOURNALS = """Nutrients|Journal of Bone and Mineral Research|Osteoporosis International|Atherosclerosis|
American Journal of Clinical Nutrition|Thrombosis and Haemostasis|Journal of Nutrition|Bone|
Nephrology Dialysis Transplantation|Kidney International|European Journal of Nutrition|
Arteriosclerosis, Thrombosis, and Vascular Biology|Calcified Tissue International|
Journal of Clinical Endocrinology and Metabolism|British Journal of Nutrition|PLoS One|
Scientific Reports|Frontiers in Nutrition|International Journal of Molecular Sciences|
Clinical Nutrition|Journal of the American Heart Association|Circulation|Hypertension|Heart|
European Heart Journal|Journal of Hypertension|Diabetes Care|Diabetologia|Maturitas|
Menopause|Journal of Cellular Biochemistry|Biochemical Journal|Journal of Biological Chemistry|
Cell Metabolism|Nature Communications|BMJ Open|The Lancet|JAMA|New England Journal of Medicine|
Annals of Internal Medicine|Food and Function|Molecular Nutrition and Food Research|
Journal of Renal Nutrition|Clinical Journal of the American Society of Nephrology|
Journal of Thrombosis and Haemostasis|Haematologica|Blood|Cancer Research|Oncotarget|
Journal of Periodontology|Journal of Dental Research|Archives of Oral Biology|Neurochemistry International|
Journal of Alzheimer's Disease|Neurology|Medicine and Science in Sports and Exercise|
Journal of the International Society of Sports Nutrition|Aging|Experimental Gerontology|
Vascular Pharmacology|Cardiovascular Research|Journal of Molecular and Cellular Cardiology|
Integrative Medicine|Alternative Medicine Review|Complementary Therapies in Medicine""".split("|")
STUDY_TYPES = [
    (StudyType.RCT, 22), (StudyType.COHORT, 18), (StudyType.REVIEW, 12), (StudyType.CROSS_SECTIONAL, 10),
    (StudyType.ANIMAL, 9), (StudyType.IN_VITRO, 8), (StudyType.META_ANALYSIS, 5),
    (StudyType.SYSTEMATIC_REVIEW, 4), (StudyType.CASE_CONTROL, 4), (StudyType.CASE_REPORT, 3),
    (StudyType.COMMENTARY, 2), (StudyType.BOOK, 1), (StudyType.OTHER, 2),
]
# As k2site.services labels studies in listings ("Other" goes unsaid).
STUDY_TYPE_LABELS = {**dict(StudyType.choices), StudyType.OTHER: ""}
TITLE_PATTERNS = [
    "{A} {b} and {c} in {d}",
    "Effect of {a} on {b} {c}: a {kind}",
    "{A} {b} is associated with {c} {d}",
    "{A} and {b}: {c} {d} in a {kind}",
    "Association between {a} {b} and {c} {d}",
    "{A} {b} {c} reduces {d}",
]
KIND_WORDS = ["randomized trial", "cohort study", "systematic review", "pilot study", "cross-sectional analysis"]


def tag_names(count):
    """``count`` distinct tag names: the topics, then topic-qualifier pairs."""
    names = [topic.strip() for topic in TOPICS]
    for qualifier in QUALIFIERS:
        names += [f"{topic.strip()} {qualifier.strip()}" for topic in TOPICS]
    number = 1
    while len(names) < count:
        names += [f"{topic.strip()} topic {number}" for topic in TOPICS]
        number += 1
    return names[:count]


def tag_slug(name):
    return NON_SLUG.sub("-", name.lower().replace("'", "")).strip("-")


def zipf_cumulative(count, exponent=1.0):
    return list(accumulate(1 / (rank**exponent) for rank in range(1, count + 1)))


# Room for ids: an entry has at most this many tags and related studies, so a
# row's tag links and postings get ids from its own position and every chunk
# can be generated on its own (in another process) without counting.
MAX_TAGS = 6
MAX_RELATED = 5
COPY_NULL = "\\N"


class Generator:
    """Deterministic rows: the same seed, sizes and starting ids give the same data."""

    def __init__(self, *, seed, tag_ids, now, base_ids, study_count):
        self.seed = seed
        self.tag_ids = tag_ids  # most used first
        self.tag_cum = zipf_cumulative(len(tag_ids))
        self.word_cum = zipf_cumulative(len(WORDS), 0.8)
        self.journals = [journal.strip() for journal in JOURNALS]
        self.journal_cum = zipf_cumulative(len(JOURNALS), 0.9)
        self.type_values = [value for value, _ in STUDY_TYPES]
        self.type_cum = list(accumulate(weight for _, weight in STUDY_TYPES))
        self.years = list(range(FIRST_YEAR, LAST_YEAR + 1))
        self.year_cum = list(accumulate(1.08 ** (year - FIRST_YEAR) for year in self.years))
        self.now = now
        self.base = base_ids  # first free id per model
        self.study_count = study_count

    def rng(self, kind, chunk):
        return random.Random(f"{self.seed}:{kind}:{chunk}")

    def tags(self, rng):
        wanted = rng.randint(3, min(MAX_TAGS, len(self.tag_ids)))
        chosen = set()
        while len(chosen) < wanted:
            chosen.update(rng.choices(self.tag_ids, cum_weights=self.tag_cum, k=wanted - len(chosen)))
        return sorted(chosen)

    def text(self, rng, sentences):
        """Sentences of 8–18 words; one in fifty carries a rare word."""
        lengths = [rng.randint(8, 18) for _ in range(sentences)]
        words = rng.choices(WORDS, cum_weights=self.word_cum, k=sum(lengths))
        out, start = [], 0
        for length in lengths:
            sentence = words[start : start + length]
            start += length
            if rng.random() < 0.02:
                sentence[rng.randrange(length)] = rng.choice(RARE_WORDS)
            out.append(sentence[0].capitalize() + " " + " ".join(sentence[1:]) + ".")
        return out

    def title(self, rng):
        a, b, c, d = rng.choices(WORDS, cum_weights=self.word_cum, k=4)
        return rng.choice(TITLE_PATTERNS).format(
            A=a[:1].upper() + a[1:], a=a, b=b, c=c, d=d, kind=rng.choice(KIND_WORDS)
        )

    def visibility(self, rng):
        """(status, publish_at, expire_at): about 95% visible now."""
        publish_at = self.now - datetime.timedelta(seconds=rng.randrange(60, 3 * 365 * 86400))
        roll = rng.random()
        if roll < 0.95:
            return Status.PUBLISHED, publish_at, None
        if roll < 0.97:
            return Status.DRAFT, None, None
        if roll < 0.98:
            return Status.IN_REVIEW, None, None
        if roll < 0.99:  # scheduled: its time has not come
            return Status.PUBLISHED, self.now + datetime.timedelta(days=rng.randint(1, 60)), None
        if roll < 0.997:
            return Status.ARCHIVED, publish_at, None
        return Status.PUBLISHED, publish_at, self.now - datetime.timedelta(days=1)  # expired

    def study_chunk(self, chunk, start, count):
        """{model: [values by attname]} for studies start … start+count-1 (0-based)."""
        rng = self.rng("study", chunk)
        rows = {Study: [], TaggedStudy: [], Entry: [], EntryTag: []}
        for position in range(start, start + count):
            study_id = self.base[Study] + position
            title = self.title(rng)
            roll = rng.random()
            year = None if roll < 0.005 else rng.choices(self.years, cum_weights=self.year_cum)[0]
            month = None if year is None or roll < 0.03 else rng.randint(1, 12)
            status, publish_at, expire_at = self.visibility(rng)
            page = rng.randint(1, 2000)
            study_type = rng.choices(self.type_values, cum_weights=self.type_cum)[0]
            values = {
                "id": study_id,
                "title": title,
                "slug": f"{tag_slug(title)[:200]}-{study_id}",
                "authors": [
                    {"family": rng.choice(FAMILY), "given": rng.choice(GIVEN)} for _ in range(rng.randint(1, 8))
                ],
                "journal": rng.choices(self.journals, cum_weights=self.journal_cum)[0],
                "year": year,
                "month": month,
                "volume": str(rng.randint(1, 120)),
                "issue": str(rng.randint(1, 12)),
                "pages": f"{page}-{page + rng.randint(3, 15)}",
                "doi": f"10.5555/k2bench.{study_id}",
                "pmid": str(90_000_000 + study_id) if rng.random() < 0.8 else "",
                "abstract": " ".join(self.text(rng, rng.randint(3, 6))),
                "summary": "\n".join(f"- {sentence}" for sentence in self.text(rng, 2)),
                "study_type": study_type,
                "status": status,
                "publish_at": publish_at,
                "expire_at": expire_at,
                "created_at": self.now,
                "updated_at": self.now,
            }
            rows[Study].append(values)
            tag_ids = self.tags(rng)
            rows[TaggedStudy] += [
                {"id": self.base[TaggedStudy] + position * MAX_TAGS + k, "tag_id": tag_id, "content_object_id": study_id}
                for k, tag_id in enumerate(tag_ids)
            ]
            self.add_entry(rows, EntryKind.STUDY, position, values, year, month, STUDY_TYPE_LABELS[study_type], tag_ids)
        return rows

    def article_chunk(self, chunk, start, count):
        rng = self.rng("article", chunk)
        through = Article.related_studies.through
        rows = {Article: [], TaggedArticle: [], through: [], Entry: [], EntryTag: []}
        for position in range(start, start + count):
            article_id = self.base[Article] + position
            title = self.title(rng)
            status, publish_at, expire_at = self.visibility(rng)
            first_published_at = (
                None
                if rng.random() < 0.01
                else datetime.datetime(
                    rng.choices(self.years[-15:], cum_weights=self.year_cum[-15:])[0],
                    rng.randint(1, 12),
                    rng.randint(1, 28),
                    tzinfo=datetime.UTC,
                )
            )
            body = "\n\n".join(
                f"## {self.title(rng)}\n\n" + " ".join(self.text(rng, rng.randint(4, 8)))
                for _ in range(rng.randint(3, 6))
            )
            values = {
                "id": article_id,
                "title": title,
                "slug": f"{tag_slug(title)[:200]}-a{article_id}",
                "lead": self.text(rng, 1)[0],
                "body": body,
                "first_published_at": first_published_at,
                "status": status,
                "publish_at": publish_at,
                "expire_at": expire_at,
                "created_at": self.now,
                "updated_at": self.now,
            }
            rows[Article].append(values)
            tag_ids = self.tags(rng)
            rows[TaggedArticle] += [
                {"id": self.base[TaggedArticle] + position * MAX_TAGS + k, "tag_id": tag_id, "content_object_id": article_id}
                for k, tag_id in enumerate(tag_ids)
            ]
            if self.study_count:
                related = {self.base[Study] + rng.randrange(self.study_count) for _ in range(rng.randint(0, MAX_RELATED))}
                rows[through] += [
                    {"id": self.base[through] + position * MAX_RELATED + k, "article_id": article_id, "study_id": study_id}
                    for k, study_id in enumerate(sorted(related))
                ]
            year, month = (first_published_at.year, first_published_at.month) if first_published_at else (None, None)
            self.add_entry(rows, EntryKind.ARTICLE, self.study_count + position, values, year, month, "", tag_ids)
        return rows

    def add_entry(self, rows, kind, position, values, year, month, type_label, tag_ids):
        """The listing row and postings, as k2site.services.sync_entries writes them."""
        entry_id = self.base[Entry] + position
        date = UNDATED if year is None else datetime.date(year, month or 1, 1)
        rows[Entry].append(
            {
                "id": entry_id,
                "kind": kind,
                "article_id": values["id"] if kind == EntryKind.ARTICLE else None,
                "study_id": values["id"] if kind == EntryKind.STUDY else None,
                "title": values["title"],
                "slug": values["slug"],
                "type_label": type_label,
                "year": year,
                "month": month,
                "sort_date": date,
                "status": values["status"],
                "publish_at": values["publish_at"],
                "expire_at": values["expire_at"],
                "updated_at": values["updated_at"],
                "counted": is_visible(values, self.now),
            }
        )
        rows[EntryTag] += [
            {"id": self.base[EntryTag] + position * MAX_TAGS + k, "entry_id": entry_id, "tag_id": tag_id, "sort_date": date}
            for k, tag_id in enumerate(tag_ids)
        ]


def is_visible(values, now):
    return (
        values["status"] == Status.PUBLISHED
        and values["publish_at"] is not None
        and values["publish_at"] <= now
        and (values["expire_at"] is None or values["expire_at"] > now)
    )


def copy_escape(text):
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def copy_converter(field):
    """How one column's Python value is written in COPY's text format."""
    if isinstance(field, models.JSONField):
        return lambda value: copy_escape(json.dumps(value))
    if isinstance(field, models.BooleanField):
        return lambda value: "t" if value else "f"
    if isinstance(field, (models.DateField, models.TimeField)):  # DateTimeField too
        return lambda value: value.isoformat()
    if isinstance(field, (models.CharField, models.TextField)):
        return lambda value: copy_escape(str(value))
    return str


class Table:
    """One model's table for COPY: every stored column but generated ones (a
    search vector fills itself); values by attname, field defaults for columns
    the generator doesn't know."""

    def __init__(self, model, now):
        self.model = model
        fields = [field for field in model._meta.concrete_fields if not getattr(field, "generated", False)]
        self.columns = []
        for field in fields:
            convert = copy_converter(field)
            if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
                default = now
            else:
                default = field.get_default()
            self.columns.append((field.attname, convert, COPY_NULL if default is None else convert(default)))
        self.name = connection.ops.quote_name(model._meta.db_table)
        self.sql = "COPY {} ({}) FROM STDIN".format(
            self.name, ", ".join(connection.ops.quote_name(field.column) for field in fields)
        )

    def text(self, rows):
        lines = []
        for values in rows:
            cells = []
            for name, convert, default in self.columns:
                if name in values:
                    value = values[name]
                    cells.append(COPY_NULL if value is None else convert(value))
                else:
                    cells.append(default)
            lines.append("\t".join(cells))
        lines.append("")
        return "\n".join(lines)


# Set in each worker process by the pool's initializer (inherited on fork).
_worker = {}


def _init_worker(generator, tables):
    _worker.update(generator=generator, tables=tables)


def _copy_texts(task):
    """A chunk's rows as COPY text per table (runs in a worker process)."""
    kind, chunk, start, count = task
    generator, tables = _worker["generator"], _worker["tables"]
    rows = (generator.study_chunk if kind == "study" else generator.article_chunk)(chunk, start, count)
    return kind, count, [(tables[model].sql, tables[model].text(model_rows)) for model, model_rows in rows.items()]


class Command(BaseCommand):
    help = "Fill the database with synthetic studies, articles and tags for the benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--studies", type=int, default=10_000)
        parser.add_argument("--articles", type=int, default=None, help="default: studies / 500, at least 10")
        parser.add_argument("--tags", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--append", action="store_true", help="add to a database that already holds entries")
        parser.add_argument(
            "--jobs", type=int, default=1,
            help="processes generating rows while PostgreSQL loads them (0: generate in this process)",
        )

    def handle(self, *args, studies, articles, tags, seed, append, jobs, **options):
        if articles is None:
            articles = max(10, studies // 500)
        if studies < 0 or articles < 0 or tags < 3 or jobs < 0:
            raise CommandError("--studies and --articles must be 0 or more, --tags at least 3, --jobs 0 or more.")
        if not append and (Study.objects.exists() or Article.objects.exists()):
            raise CommandError(
                "The database already holds studies or articles. Use an empty database, "
                "or --append to add the synthetic entries to them."
            )
        self.started = time.monotonic()
        self.now = timezone.now()
        self.counts = {"study": studies, "article": articles}
        tag_ids = self.make_tags(tags)
        through = Article.related_studies.through
        models_loaded = [Study, TaggedStudy, Article, TaggedArticle, through, Entry, EntryTag]
        base_ids = {model: self.max_id(model) + 1 for model in models_loaded}
        generator = Generator(seed=seed, tag_ids=tag_ids, now=self.now, base_ids=base_ids, study_count=studies)
        tasks = [
            (kind, chunk, start, min(CHUNK, count - start))
            for kind, count in self.counts.items()
            for chunk, start in enumerate(range(0, count, CHUNK))
        ]
        if connection.vendor == "postgresql":
            self.load_postgresql(generator, tasks, models_loaded, base_ids, jobs)
        else:
            self.load_with_orm(generator, tasks)
        self.log(f"Done: {studies:,} studies, {articles:,} articles, {len(tag_ids):,} tags.")

    def log(self, message):
        self.stdout.write(f"[{time.monotonic() - self.started:7.1f}s] {message}")
        self.stdout.flush()

    def make_tags(self, count):
        names = tag_names(count)
        Tag.objects.bulk_create(
            [Tag(name=name, slug=tag_slug(name)) for name in names], ignore_conflicts=True, batch_size=1000
        )
        by_name = {name.lower(): pk for pk, name in Tag.objects.values_list("pk", "name")}
        tag_ids = [by_name[name.lower()] for name in names if name.lower() in by_name]
        self.log(f"{len(tag_ids):,} tags ready.")
        return tag_ids

    @staticmethod
    def max_id(model):
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def progress(self, done):
        total = sum(self.counts.values())
        rate = done / max(time.monotonic() - self.started, 1e-6)
        self.log(f"{done:,}/{total:,} entries ({100 * done // max(total, 1)}%, {rate:,.0f}/s)")

    # PostgreSQL: COPY, rows generated in worker processes -----------------

    def load_postgresql(self, generator, tasks, models_loaded, base_ids, jobs):
        tables = {model: Table(model, self.now) for model in models_loaded}
        # Inside a caller's transaction (tests) everything stays in this
        # process and on this connection.
        nested = connection.in_atomic_block
        pool = None
        if not nested and jobs:
            # Fork the workers with no database connection open: a child must
            # not share (and on exit close) the parent's socket.
            connection.close()
            pool = multiprocessing.get_context("fork").Pool(jobs, _init_worker, (generator, tables))
            chunks = pool.imap(_copy_texts, tasks)
        else:
            _init_worker(generator, tables)
            chunks = map(_copy_texts, tasks)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                self.prepare(cursor, tables)
                big = self.counts["study"] >= 100_000 and not nested
                dropped = self.drop_secondary_indexes(cursor, tables) if big else []
                done = 0
                for kind, count, texts in chunks:
                    for sql, text in texts:
                        with cursor.copy(sql) as copy:
                            copy.write(text)
                    done += count
                    self.progress(done)
                if self.triggers_off:
                    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                if dropped:
                    self.log(f"Rebuilding {len(dropped)} indexes…")
                    for sql in dropped:
                        cursor.execute(sql)
                for sql in connection.ops.sequence_reset_sql(no_style(), list(tables)):
                    cursor.execute(sql)
                self.log("Counting tags and tag pairs…")
                recount_tags()
        finally:
            if pool is not None:
                pool.terminate()
        # VACUUM also sets the visibility map, so index-only scans skip the heap.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        self.log(f"{command}…")
        with connection.cursor() as cursor:
            for model in [*tables, Tag, TagPair]:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")

    def prepare(self, cursor, tables):
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table in tables.values():
            cursor.execute(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE")
        # The rows reference each other correctly by construction; checking
        # ten million foreign keys one by one would double the load time.
        # Needs superuser (as pg_restore --disable-triggers); else they're checked.
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
            self.triggers_off = True
            self.log("Foreign-key triggers off for the load.")
        except DatabaseError:
            self.triggers_off = False
            # Checked row by row then, so no check is left pending when the
            # indexes are rebuilt.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def drop_secondary_indexes(self, cursor, tables):
        """Indexes no constraint owns, dropped for the load and rebuilt after:
        building an index once is far cheaper than updating it row by row.
        Only into empty tables (a fresh benchmark database)."""
        if Study.objects.exists() or Article.objects.exists() or Entry.objects.exists():
            return []
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [[model._meta.db_table for model in tables]],
        )
        dropped = []
        for name, definition in cursor.fetchall():
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
            dropped.append(definition)
        self.log(f"Dropped {len(dropped)} secondary indexes for the load.")
        return dropped

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
