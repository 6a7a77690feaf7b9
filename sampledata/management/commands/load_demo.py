import datetime
import re

from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article
from catalog import aliases
from catalog.models import Status, Tag, TagAlias
from sampledata import demo
from studies.models import Study

TAG_DESCRIPTIONS = {
    "Vitamin K": "Vitamin K1 (phylloquinone, from greens) and K2 (menaquinones, from fermented foods and animals).",
    "Vitamin K2": "Menaquinones (MK-4, MK-7 …): what they do for bones, arteries and more.",
    "Bone": "Bone density, fractures, osteoporosis and what bones need.",
    "Calcium": "Calcium intake, supplements, and where calcium ends up in the body.",
    "Cardiovascular": "Arteries, calcification, heart disease and stroke.",
    # The long-form article's own category: the seed's Cardiovascular list (26
    # items) is reproduced as it was, so the article is filed here instead.
    "Circulatory system": "How blood vessels calcify, and what vitamin K has to do with it.",
}
# The category tree: a parent's pages include its children's entries.
# ("Circulatory system" stays beside Cardiovascular, not under it: the seed's
# Cardiovascular list is reproduced as it was, without the article.)
TAG_PARENTS = {"Vitamin K2": "Vitamin K"}
# Other names visitors search for (catalog.aliases).
TAG_ALIASES = {"Vitamin K2": [("K2", "k2"), ("Menaquinone", "menaquinone"), ("MK-7", "mk-7")]}
# The seed line that is the Mandatori et al. review itself.
MANDATORI_LINE = "Bone loss results in blood vessel plaque if low Vitamin K2, less bone loss if high K2"
# Where the seed article linked to studies: the sentence it ends, and the studies.
ARTICLE_STUDY_LINKS = {
    "Here is an example of such research:": ["Vitamin K2-7 decreases arterial stiffness (cleans arteries)"],
    "which will determine the information concerning protective and medical potential of vitamin K2:": [
        "Cardiovascular Disease prevented by Vitamin K2-4 when enough is used"
    ],
    "such as those linked below:": [
        "Vitamin K (across all dose sizes and types) decrease Vascular Stiffness",
        "Athletes maximal cardiac output increased 12 percent with Vitamin K2",
        MANDATORI_LINE,
    ],
}
# A fixed publish time keeps the command idempotent.
DEMO_PUBLISH_AT = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = "Load the demo content built from fixtures/seeds (safe to run again: changes nothing)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        tags = {name: self.tag(name) for name in TAG_DESCRIPTIONS}
        for name, synonyms in TAG_ALIASES.items():
            for alias_name, alias_slug in synonyms:
                if aliases.clash(alias_name, alias_slug) is None:
                    TagAlias.objects.create(tag=tags[name], name=alias_name, slug=alias_slug)

        entries = {}
        for (first, second), items in demo.parse_listings(demo.STUDY_SEED.read_text()).items():
            for item in items:
                entry = entries.setdefault(item.title, item)
                for name in (first, second):
                    if name not in entry.tags:
                        entry.tags.append(name)

        studies = {}
        for item in entries.values():
            # Each seed line's page carries what the wiki shows around it: the
            # listing of the categories it was filed under (catalog.blocks).
            intersection = demo.list_block([tags[name].slug for name in item.tags[:2]], limit=10)
            if item.title == MANDATORI_LINE:
                obj, is_new = self.mandatori_study(item, tags, entries)
            elif item.is_study:
                obj, is_new = self.create(
                    Study,
                    item.title,
                    year=item.year,
                    month=item.month,
                    study_type=item.study_type,
                    summary=f"Filed on VitaminDWiki under {' and '.join(item.tags)}.\n\n{intersection}",
                )
            else:
                # The wiki's undated pages are hubs: "Calcium and Vitamin K2 -
                # many studies" is the listing of those two categories.
                obj, is_new = self.create(
                    Article,
                    item.title,
                    first_published_at=None,
                    lead=f"Everything on this site filed under both {' and '.join(item.tags)}.",
                    body=demo.list_block([tags[name].slug for name in item.tags[:2]], limit=200),
                )
            if isinstance(obj, Study):
                studies[item.title] = obj
            if is_new:
                obj.tags.set([tags[name] for name in item.tags])
                created += 1

        for is_new in self.circulatory_articles(tags, studies):
            created += is_new
        self.stdout.write(f"Demo content: {created} entries created, {len(entries) + 2 - created} already there.")

    def tag(self, name):
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            # Parents come first in TAG_DESCRIPTIONS, so they exist by now.
            parent = Tag.objects.filter(name=TAG_PARENTS[name]).first() if name in TAG_PARENTS else None
            tag = Tag.objects.create(name=name, slug=slugify(name), description=TAG_DESCRIPTIONS[name], parent=parent)
        return tag

    @staticmethod
    def slug(title):
        return slugify(title)[:80].strip("-")

    def create(self, model, title, **fields):
        """Create a published entry unless one with its slug exists (never changes an existing one)."""
        slug = self.slug(title)
        existing = model.objects.filter(slug=slug).first()
        if existing is not None:
            return existing, False
        obj = model.objects.create(
            title=title, slug=slug, status=Status.PUBLISHED, publish_at=DEMO_PUBLISH_AT, **fields
        )
        return obj, True

    def mandatori_study(self, item, tags, entries):
        """The seed study page itself: its citation, abstract and PDF, and the
        blocks it carries on the wiki: three intersections and a hand-picked list."""
        text = demo.STUDY_SEED.read_text()
        seed = demo.parse_study_page(text)
        blocks = [
            demo.list_block([tags["Vitamin K2"].slug, tags[other].slug])
            for other in ("Bone", "Calcium", "Cardiovascular")
        ]
        picks = [entries[pick.title] for pick in demo.parse_picks(text) if pick.title in entries]
        blocks.append(
            demo.picks_block(
                demo.PICKS_HEADING,
                [f"/{'studies' if pick.is_study else 'articles'}/{self.slug(pick.title)}/" for pick in picks],
            )
        )
        citation = re.match(
            r"(?P<journal>.+?) (?P<year>\d{4}), (?P<volume>\d+)\((?P<issue>\d+)\), (?P<pages>\d+); https://doi.org/(?P<doi>\S+)",
            seed.citation,
        )
        study, is_new = self.create(
            Study,
            item.title,
            paper_title=seed.paper_title,
            authors=demo.parse_authors(seed.authors_line),
            affiliation=seed.affiliation,
            journal=citation["journal"],
            year=int(citation["year"]),
            month=item.month,
            volume=citation["volume"],
            issue=citation["issue"],
            pages=citation["pages"],
            doi=citation["doi"].lower(),
            url=f"https://doi.org/{citation['doi']}",
            abstract=seed.abstract,
            summary=(
                "- Osteoporosis and vascular calcification often coexist in older people: the "
                "\u201cbone-vascular crosstalk\u201d.\n"
                "- Too little vitamin K2 is linked to the \u201ccalcium paradox\u201d: too little calcium in bone, "
                "too much in the vessel wall.\n"
                "- The review proposes vitamin K2 as a dietary supplement against both, and asks for more studies.\n\n"
                + "\n\n".join(blocks)
            ),
            study_type="review",
        )
        if is_new:
            pdf_path = demo.SEEDS.parent / "media" / "mandatori-2021-nutrients.pdf"
            with pdf_path.open("rb") as pdf:
                study.pdf.save(pdf_path.name, File(pdf), save=True)
        return study, is_new

    def circulatory_articles(self, tags, studies):
        """The long-form seed article and the earlier article it points to."""
        title, body = demo.article_markdown(demo.ARTICLE_SEED.read_text())
        for sentence_end, linked_titles in ARTICLE_STUDY_LINKS.items():
            links = "\n".join(f"- [{linked}]({studies[linked].get_absolute_url()})" for linked in linked_titles)
            body = body.replace(sentence_end, f"{sentence_end}\n\n{links}", 1)
        now = timezone.now()
        basic, basic_is_new = self.create(
            Article,
            "Vitamin K – basic information",
            lead="The biological role of vitamin K and how its two forms, K1 and K2, act differently in the body.",
            body=(
                "This earlier article described the biological role of vitamin K and the different "
                "influence of its two forms, vitamin K1 and K2, on the body.\n\n"
                "Read on in [Vitamin K2 and circulatory system](/articles/vitamin-k2-and-circulatory-system/)."
            ),
            first_published_at=now - datetime.timedelta(days=30),
        )
        if basic_is_new:
            basic.tags.set([tags["Vitamin K2"]])
        lead, _, rest = body.partition("\n\n")
        article, is_new = self.create(Article, title, lead=lead, body=rest, first_published_at=now)
        if is_new:
            article.tags.set([tags["Vitamin K2"], tags["Circulatory system"]])
            article.related_studies.set(
                [studies[linked] for linked_titles in ARTICLE_STUDY_LINKS.values() for linked in linked_titles]
            )
        return [basic_is_new, is_new]
