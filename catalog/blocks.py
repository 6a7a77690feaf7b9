"""Listing blocks an editor places in an entry's Markdown (an article's body,
a study's highlights), each on lines of its own:

    [[list vitamin-k2+bone]]
    [[list vitamin-k2+bone type=rct,meta-analysis years=2010-2020 limit=10]]
    [[list calcium+vitamin-k2 heading="Calcium and K2: the trials" type=rct]]

    [[picks A few related Vitamin K2 articles of interest]]
    /studies/vitamin-k2-7-decreases-arterial-stiffness/
    /articles/vitamin-k2-and-circulatory-system/
    [[/picks]]

A **list** is the intersection of its categories (as at /tags/a+b/, the
address's own spelling), newest first, published entries only and never the
page's own entry; optionally only some study types (``type=``, values or
labels), a year range (``years=2010-2020``, or ``2010-``, ``-2020``) and a
number of entries (``limit=``, default 50, at most 200). It ends with a "See
all" link to the full listing: /tags/a+b/, or /studies/ with the same filters.
**Picks** are entries chosen by their addresses, in the order given.

Blocks are read live when the page renders, so the page cache and its
content version cover them. Costs, whatever the number of entries: one query
for all the categories named, one for their pair counts, one per list, one
for all picks. A category that no longer exists (deleted, or merged into
another) or that no published entry carries is left out, and the preview
tells staff (``notes``); a block never fails a page.
"""

import re
import shlex
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django.db.models import Q
from django.urls import reverse
from django.utils.safestring import mark_safe

from common.markdown import render_markdown

from . import registry
from .aliases import tags_by_alias
from .models import Entry, EntryTag, Tag
from .selectors import estimated_intersection, pair_counts_among, tag_heading

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# A page may carry this many blocks; more are left as written (a bound on
# the queries one page can cost).
MAX_BLOCKS = 20

LIST_LINE = re.compile(r"^\[\[list\s+(?P<spec>[^\]]*)\]\]\s*$")
PICKS_START = re.compile(r"^\[\[picks(?:\s+(?P<heading>[^\]]*))?\]\]\s*$")
PICKS_END = re.compile(r"^\[\[/picks\]\]\s*$")
ENTRY_ADDRESS = re.compile(r"^/(?P<section>studies|articles)/(?P<slug>[-\w]+)/?$")
# Stands in the Markdown for a block: letters and digits only, so Markdown
# leaves it alone as a paragraph of its own.
PLACEHOLDER = "K2BLOCK{}K2"
PLACEHOLDER_HTML = re.compile(r"<p>K2BLOCK(\d+)K2</p>")
HEADING_HTML = re.compile(r"<h([1-6])[\s>]")
SECTION_KIND = {"studies": "study", "articles": "article"}


@dataclass
class ListBlock:
    slugs: list
    types: list = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    limit: int = DEFAULT_LIMIT
    heading: str = ""
    notes: list = field(default_factory=list)
    # Filled in by load_blocks():
    tags: list = field(default_factory=list)
    type_labels: list = field(default_factory=list)
    entries: list = field(default_factory=list)
    total: int | None = None
    total_estimated: bool = False
    has_more: bool = False
    see_all_url: str = ""

    kind = "list"

    @property
    def filtered(self):
        return bool(self.type_labels or self.year_min or self.year_max)


@dataclass
class PicksBlock:
    heading: str
    addresses: list  # [(kind, slug)]
    notes: list = field(default_factory=list)
    entries: list = field(default_factory=list)

    kind = "picks"


@dataclass
class Body:
    """Rendered Markdown with its blocks: ``parts`` in page order, each
    either {"html": …} or {"block": …, "heading_level": 2…6}; ``toc`` the ##
    headings."""

    parts: list
    toc: list
    blocks: list

    @property
    def notes(self):
        return [note for block in self.blocks for note in block.notes]


def parse_list(spec):
    """A ListBlock from the words after ``[[list``; bad options become notes."""
    try:
        words = shlex.split(spec)
    except ValueError:
        words = spec.split()
    if not words:
        return None
    block = ListBlock(slugs=[slug for slug in words[0].split("+") if slug])
    for word in words[1:]:
        name, _, value = word.partition("=")
        name = name.strip().lower()
        if name in ("type", "types"):
            block.types += [part.strip() for part in value.split(",") if part.strip()]
        elif name == "years":
            low, _, high = value.partition("-")
            try:
                block.year_min = int(low) if low.strip() else None
                block.year_max = int(high) if high.strip() else (None if "-" in value else block.year_min)
            except ValueError:
                block.notes.append(f"“years={value}” is not a year range (e.g. years=2010-2020).")
        elif name == "limit":
            if value.isdigit() and int(value) > 0:
                block.limit = min(int(value), MAX_LIMIT)
            else:
                block.notes.append(f"“limit={value}” is not a number of entries.")
        elif name == "heading":
            block.heading = value
        else:
            block.notes.append(f"Unknown option “{word}” left out (type=, years=, limit=, heading=).")
    return block


def parse_address(line):
    """(kind, slug) of an entry's address on this site (a path or a full URL)."""
    match = ENTRY_ADDRESS.match(urlsplit(line.strip().removeprefix("- ").strip()).path)
    return (SECTION_KIND[match["section"]], match["slug"]) if match else None


def split_blocks(text):
    """(Markdown with a placeholder per block, [blocks])."""
    lines, blocks = [], []
    picks = None
    for line in (text or "").splitlines():
        stripped = line.strip()
        if picks is not None:
            if PICKS_END.match(stripped):
                picks = None
            elif stripped:
                address = parse_address(stripped)
                if address:
                    picks.addresses.append(address)
                else:
                    picks.notes.append(f"“{stripped[:80]}” is not the address of an article or study.")
            continue
        if len(blocks) < MAX_BLOCKS:
            list_match = LIST_LINE.match(stripped)
            picks_match = None if list_match else PICKS_START.match(stripped)
            block = parse_list(list_match["spec"]) if list_match else None
            if picks_match:
                block = picks = PicksBlock(heading=(picks_match["heading"] or "").strip(), addresses=[])
            if block is not None:
                lines += ["", PLACEHOLDER.format(len(blocks)), ""]
                blocks.append(block)
                continue
        lines.append(line)
    return "\n".join(lines), blocks


def render_body(text, *, exclude=None, section_level=1):
    """Markdown with its blocks, ready for a template (see Body). ``exclude``:
    the article or study whose page this is (never listed in its own blocks).
    ``section_level``: the level of the page heading the text sits under (1:
    an article's body, under its h1; 2: a study's highlights). A block's
    heading is one level below the last heading before it, so the page's
    outline never skips a level (the HTML checker's rule)."""
    markdown, blocks = split_blocks(text)
    html, toc = render_markdown(markdown, with_toc=True)
    load_blocks(blocks, exclude=exclude)
    parts = []
    pieces = PLACEHOLDER_HTML.split(html)
    level = section_level
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            if piece.strip():
                parts.append({"html": mark_safe(piece)})
            if levels := HEADING_HTML.findall(piece):
                level = int(levels[-1])
        else:
            parts.append({"block": blocks[int(piece)], "heading_level": min(level + 1, 6)})
    return Body(parts=parts, toc=toc, blocks=blocks)


def load_blocks(blocks, *, exclude=None):
    lists = [block for block in blocks if isinstance(block, ListBlock)]
    picks = [block for block in blocks if isinstance(block, PicksBlock)]
    excluded = {f"entry__{registry.kind_of(exclude)}_id": exclude.pk} if exclude is not None else None
    if lists:
        _load_lists(lists, excluded)
    if picks:
        _load_picks(picks, exclude)


def _load_lists(blocks, excluded):
    slugs = {slug for block in blocks for slug in block.slugs}
    tags = {tag.slug: tag for tag in Tag.objects.visible().filter(slug__in=slugs)}
    if missing := slugs - tags.keys():
        # A renamed or merged category: its old slug is an alias (catalog.aliases).
        tags.update({slug: tag for slug, tag in tags_by_alias(missing).items() if tag.entry_count})
    pair_counts = pair_counts_among(list(tags.values())) if any(len(block.slugs) > 1 for block in blocks) else {}
    labels = registry.type_labels()
    by_name = {_type_key(value): label for value, label in labels.items()}
    by_name.update({_type_key(label): label for label in labels.values() if label})
    for block in blocks:
        block.tags = list({tags[slug].pk: tags[slug] for slug in block.slugs if slug in tags}.values())
        for slug in block.slugs:
            if slug not in tags:
                block.notes.append(f"The category “{slug}” no longer exists or has no published entry; left out.")
        for name in block.types:
            if _type_key(name) in by_name:
                block.type_labels.append(by_name[_type_key(name)])
            else:
                block.notes.append(f"Unknown study type “{name}” left out.")
        if not block.tags:
            continue
        block.heading = block.heading or tag_heading(block.tags) + ":"
        postings = EntryTag.objects.published_with_all(block.tags)
        if block.type_labels:
            postings = postings.filter(entry__type_label__in=block.type_labels)
        if block.year_min:
            postings = postings.filter(entry__year__gte=block.year_min)
        if block.year_max:
            postings = postings.filter(entry__year__lte=block.year_max)
        if excluded:
            postings = postings.exclude(**excluded)
        rows = list(postings[: block.limit + 1])
        block.has_more = len(rows) > block.limit
        block.entries = [posting.entry for posting in rows[: block.limit]]
        _see_all(block, pair_counts)


def _see_all(block, pair_counts):
    slugs = [tag.slug for tag in block.tags]
    if block.filtered:
        # The filtered listing is /studies/ (types are study types).
        query = [("tag", slug) for slug in slugs]
        query += [("type", value) for value, label in registry.type_labels().items() if label in block.type_labels]
        years = (("year_min", block.year_min), ("year_max", block.year_max))
        query += [(name, value) for name, value in years if value]
        block.see_all_url = reverse("studies:list") + "?" + urlencode(query)
        return
    block.see_all_url = reverse("tags:detail", kwargs={"slugs": "+".join(slugs)})
    if len(block.tags) == 1:
        block.total = block.tags[0].entry_count
    elif len(block.tags) == 2:
        block.total = pair_counts.get((block.tags[0].pk, block.tags[1].pk), 0)
    else:
        block.total, block.total_estimated = estimated_intersection(block.tags, pair_counts), True


def _load_picks(blocks, exclude):
    wanted = {address for block in blocks for address in block.addresses}
    condition = Q(pk__in=[])
    for kind in {kind for kind, _ in wanted}:
        condition |= Q(kind=kind, slug__in=[slug for other, slug in wanted if other == kind])
    found = {(entry.kind, entry.slug): entry for entry in Entry.objects.published().filter(condition)}
    for block in blocks:
        for kind, slug in block.addresses:
            entry = found.get((kind, slug))
            if entry is None:
                block.notes.append(f"“/{_section(kind)}/{slug}/” is not published (or does not exist); left out.")
            elif exclude is None or getattr(entry, f"{registry.kind_of(exclude)}_id") != exclude.pk:
                block.entries.append(entry)


def _type_key(name):
    return re.sub(r"[\s_-]+", "", str(name)).lower()


def _section(kind):
    return next(section for section, other in SECTION_KIND.items() if other == kind)
