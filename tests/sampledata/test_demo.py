import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command

from articles.models import Article
from catalog.models import Entry, EntryTag
from studies.models import Study

pytestmark = pytest.mark.django_db


def intersection_size(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode().count('class="entry-list__item ')


def test_demo_content_matches_the_seed_and_loads_twice_without_change(client, settings):
    settings.LISTING_PAGE_SIZE = 50
    call_command("load_demo")
    counts = (Study.objects.count(), Article.objects.count(), Entry.objects.count(), EntryTag.objects.count())
    call_command("load_demo")
    assert (Study.objects.count(), Article.objects.count(), Entry.objects.count(), EntryTag.objects.count()) == counts

    assert intersection_size(client, "/tags/vitamin-k2+bone/") == 29
    assert intersection_size(client, "/tags/vitamin-k2+calcium/") == 17
    assert intersection_size(client, "/tags/vitamin-k2+cardiovascular/") == 26

    study = Study.objects.get(doi="10.3390/nu13041222")
    assert study.paper_title.startswith("The Dual Role of Vitamin K2")
    assert [a["family"] for a in study.authors] == [
        "Mandatori",
        "Pelusi",
        "Schiavone",
        "Pipino",
        "Di Pietro",
        "Pandolfi",
    ]
    assert (study.journal, study.year, study.volume, study.issue, study.pages) == ("Nutrients", 2021, "13", "4", "1222")
    assert study.pdf and study.abstract.startswith("Osteoporosis (OP)")
    page = client.get(study.get_absolute_url()).content.decode()
    assert "Download the PDF" in page

    article = Article.objects.get(slug="vitamin-k2-and-circulatory-system")
    html = client.get(article.get_absolute_url()).content.decode()
    for heading in [
        "Atherosclerosis and blood vessel calcification",
        "Proteins regulating calcium conversion",
        "MPG and vitamin K",
        "Validity of supplementation",
    ]:
        assert f">{heading}</a>" in html  # in the table of contents
    assert 'href="/articles/vitamin-k-basic-information/"' in html
    assert client.get("/articles/vitamin-k-basic-information/").status_code == 200


def test_the_mandatori_page_carries_the_seed_blocks_and_no_demo_page_is_empty(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo")
    study = Study.objects.get(doi="10.3390/nu13041222")
    soup = BeautifulSoup(client.get(study.get_absolute_url()).content, "html.parser")
    blocks = [
        (
            section.select_one(".entry-block__heading").get_text(strip=True),
            len(section.select(".entry-list__item")),
            section.select_one(".entry-block__more").get_text(strip=True)
            if section.select_one(".entry-block__more")
            else "",
        )
        for section in soup.select(".entry-block")
    ]
    # The seed's three lists (29, 17, 26 entries; the page never lists itself,
    # which is in the Bone and Cardiovascular lists) and its six picks.
    assert blocks == [
        ("Items in both categories Vitamin K2 and Bone are listed here:", 28, "See all 29"),
        ("Items in both categories Vitamin K2 and Calcium are listed here:", 17, "See all 17"),
        ("Items in both categories Vitamin K2 and Cardiovascular are listed here:", 25, "See all 26"),
        ("A few related Vitamin K2 articles of interest", 6, ""),
    ]
    # Every page a visitor can reach from the demo shows more than its headline.
    for entry in Entry.objects.published():
        page = BeautifulSoup(client.get(entry.get_absolute_url()).content, "html.parser")
        main = page.find("main")
        assert main.select(".entry-list__item") or main.select(".abstract, .prose p"), entry.slug
    # A study the seed names without a citation shows no citation box repeating its title.
    bare = Study.objects.get(slug="vitamin-k-and-bone")
    page = BeautifulSoup(client.get(bare.get_absolute_url()).content, "html.parser")
    assert not page.select(".citation") and page.select(".entry-block")
