import pytest
from django.core.management import call_command

from articles.models import Article
from catalog.models import Entry, EntryTag
from studies.models import Study

pytestmark = pytest.mark.django_db


def intersection_size(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode().count('class="entry-list__item"')


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
