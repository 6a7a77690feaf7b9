"""Deterministic synthetic rows: articles, studies, their tags, and the
listing index exactly as catalog.indexing.sync_entries would write it (the
listing row from ``entry_fields``, postings from ``catalog.tree.postings_for``)."""

import datetime
import random
from itertools import accumulate

from articles.models import Article, TaggedArticle
from catalog.indexing import entry_fields
from catalog.models import Entry, EntryKind, EntryTag, Status, is_published
from catalog.tree import ancestor_ids, postings_for
from studies.models import Study, TaggedStudy

from .vocabulary import (
    FAMILY,
    FIRST_YEAR,
    GIVEN,
    JOURNALS,
    KIND_WORDS,
    LAST_YEAR,
    RARE_WORDS,
    STUDY_TYPES,
    TITLE_PATTERNS,
    WORDS,
    tag_slug,
)


def zipf_cumulative(count, exponent=1.0):
    return list(accumulate(1 / (rank**exponent) for rank in range(1, count + 1)))


# Room for ids: an entry has at most this many tags and related studies (and
# postings: its tags and their ancestors, see Generator.posting_stride), so a
# row's tag links and postings get ids from its own position and every chunk
# can be generated on its own (in another process) without counting.
MAX_TAGS = 6
MAX_RELATED = 5


class Generator:
    """Deterministic rows: the same seed, sizes, tree and starting ids give the
    same data. ``parents``: the category tree, {tag id: parent id}
    (``catalog.tree.parent_map()``), for the inherited postings."""

    def __init__(self, *, seed, tag_ids, now, base_ids, study_count, parents=None):
        self.seed = seed
        self.tag_ids = tag_ids  # most used first
        self.parents = parents or {}
        # An entry's postings: each of its tags and at most every ancestor of each.
        deepest = max((len(ancestor_ids(tag_id, self.parents)) for tag_id in tag_ids), default=0)
        self.posting_stride = MAX_TAGS * (1 + deepest)
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
                {
                    "id": self.base[TaggedStudy] + position * MAX_TAGS + k,
                    "tag_id": tag_id,
                    "content_object_id": study_id,
                }
                for k, tag_id in enumerate(tag_ids)
            ]
            self.add_entry(rows, EntryKind.STUDY, position, Study(**values), tag_ids)
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
                {
                    "id": self.base[TaggedArticle] + position * MAX_TAGS + k,
                    "tag_id": tag_id,
                    "content_object_id": article_id,
                }
                for k, tag_id in enumerate(tag_ids)
            ]
            if self.study_count:
                related = {
                    self.base[Study] + rng.randrange(self.study_count) for _ in range(rng.randint(0, MAX_RELATED))
                }
                rows[through] += [
                    {
                        "id": self.base[through] + position * MAX_RELATED + k,
                        "article_id": article_id,
                        "study_id": study_id,
                    }
                    for k, study_id in enumerate(sorted(related))
                ]
            self.add_entry(rows, EntryKind.ARTICLE, self.study_count + position, Article(**values), tag_ids)
        return rows

    def add_entry(self, rows, kind, position, source, tag_ids):
        """The listing row and postings of ``source`` (an unsaved Study or
        Article carrying ``tag_ids``), as catalog.indexing.sync_entries writes them."""
        entry_id = self.base[Entry] + position
        fields = entry_fields(source)
        rows[Entry].append(
            {
                "id": entry_id,
                "kind": kind,
                "article_id": source.pk if kind == EntryKind.ARTICLE else None,
                "study_id": source.pk if kind == EntryKind.STUDY else None,
                **fields,
                "counted": is_published(fields["status"], fields["publish_at"], fields["expire_at"], self.now),
            }
        )
        rows[EntryTag] += [
            {
                "id": self.base[EntryTag] + position * self.posting_stride + k,
                "entry_id": entry_id,
                "tag_id": tag_id,
                "sort_date": fields["sort_date"],
                "study_type": fields["study_type"],
                "inherited": inherited,
            }
            for k, (tag_id, inherited) in enumerate(postings_for(tag_ids, self.parents).items())
        ]
