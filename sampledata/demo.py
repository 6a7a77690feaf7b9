"""Demo content built from the two seed pages in fixtures/seeds/.

The seed study page embeds three lists, "Items in both categories Vitamin K2
and X are listed here:", one line per entry ("Title – RCT Aug 2019"). Each
line becomes an entry of its own carrying the tags of every list it is in:
dated lines become studies (typed by their marker: RCT, meta-analysis,
review…), undated ones articles, as they are on the original wiki. The text
is kept as it is, typos included.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

SEEDS = Path(settings.BASE_DIR) / "fixtures" / "seeds"
STUDY_SEED = SEEDS / "000_270252e7798c65aa.txt"
ARTICLE_SEED = SEEDS / "001_76b397f2ffcab0d4.txt"

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
LIST_HEADING = re.compile(r"^Items in both categories (?P<a>.+?) and (?P<b>.+?) are listed here:$")
TRAILING_DATE = re.compile(
    r"[\s–-]*(?:(?P<month>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+)?"
    r"(?P<year>(?:19|20)\d\d)(?P<book>\s+book)?\s*$"
)
# Markers of the kind of study at the end of a title, longest first.
TYPE_MARKERS = [
    ("RCT review", "review"),
    ("meta-analysis", "meta_analysis"),
    ("review", "review"),
    ("RCT", "rct"),
]
SEPARATORS = " –-,"


@dataclass
class SeedEntry:
    title: str
    year: int | None = None
    month: int | None = None
    study_type: str = "other"
    tags: list = field(default_factory=list)

    @property
    def is_study(self):
        return self.year is not None


def parse_line(line):
    """'Vitamin K and bone – review Oct 2017' → SeedEntry(title, 2017, 10, 'review')."""
    text = line.strip().removeprefix("- ").strip()
    entry = SeedEntry(title=text)
    match = TRAILING_DATE.search(text)
    if match:
        entry.year = int(match["year"])
        entry.month = MONTHS[match["month"][:3].lower()] if match["month"] else None
        if match["book"]:
            entry.study_type = "book"
        text = text[: match.start()].rstrip(SEPARATORS)
    for marker, study_type in TYPE_MARKERS:
        if re.search(rf"[\s–-]{re.escape(marker)}$", text, flags=re.IGNORECASE):
            entry.study_type = study_type
            text = text[: -len(marker)].rstrip(SEPARATORS)
            break
    entry.title = text.rstrip(SEPARATORS) or entry.title
    return entry


def parse_listings(text):
    """{(tag A, tag B): [SeedEntry…]} from the seed study page, in page order."""
    listings, current = {}, None
    for line in text.splitlines():
        heading = LIST_HEADING.match(line.strip())
        if heading:
            current = listings.setdefault((heading["a"], heading["b"]), [])
        elif line.startswith("- ") and current is not None:
            current.append(parse_line(line))
        elif current is not None and line.strip():
            current = None  # the lists end at the first line that is not an item
    return listings


PICKS_HEADING = "A few related Vitamin K2 articles of interest"


def parse_picks(text):
    """The hand-picked list at the end of the seed study page: [SeedEntry…]."""
    picks, inside = [], False
    for line in text.splitlines():
        if line.strip() == PICKS_HEADING:
            inside = True
        elif inside and line.startswith("- "):
            picks.append(parse_line(line))
        elif inside and line.strip():
            break
    return picks


def list_block(tag_slugs, **options):
    """The Markdown of a listing block (catalog.blocks) for an intersection."""
    words = ["+".join(tag_slugs), *(f"{name}={value}" for name, value in options.items())]
    return f"[[list {' '.join(words)}]]"


def picks_block(heading, addresses):
    return "\n".join([f"[[picks {heading}]]", *addresses, "[[/picks]]"])


@dataclass
class StudySeed:
    paper_title: str
    citation: str
    authors_line: str
    affiliation: str
    abstract: str


def parse_study_page(text):
    lines = text.splitlines()
    abstract_start = next(i for i, line in enumerate(lines) if "Download the PDF" in line) + 1
    return StudySeed(
        paper_title=lines[0].strip(),
        citation=lines[1].strip(),
        authors_line=lines[2].strip(),
        affiliation=lines[3].strip(),
        abstract="\n".join(lines[abstract_start:]).strip(),
    )


def parse_authors(line):
    """'by Domitilla Mandatori *,Letizia Pelusi,… andAssunta PandolfiOrcID' →
    [{"family": "Mandatori", "given": "Domitilla"}, …]. The seed lost its
    spaces around ORCID badges and before "and"; put them back."""
    line = line.removeprefix("by ").replace("OrcID", "").replace("*", "")
    line = re.sub(r"\s*\band(?=[A-Z])", ",", line)
    authors = []
    for name in (part.strip() for part in line.split(",")):
        if not name:
            continue
        given, _, family = name.partition(" ")
        # "Natalia Di Pietro": the family name is everything after the first name.
        authors.append({"family": family.strip(), "given": given.strip()})
    return authors


def article_markdown(text):
    """The seed article as Markdown: short lines without a full stop are its
    section headings; the pointer to the earlier article becomes a link."""
    lines = [line.strip() for line in text.splitlines()]
    title, body = lines[0], lines[1:]
    blocks = []
    for line in body:
        if not line:
            continue
        if line == "Vitamin K – basic information":
            blocks.append("[Vitamin K – basic information](/articles/vitamin-k-basic-information/)")
        elif len(line) < 60 and not line.endswith((".", ":", "!")):
            blocks.append(f"## {line}")
        else:
            blocks.append(line)
    return title, "\n\n".join(blocks)
