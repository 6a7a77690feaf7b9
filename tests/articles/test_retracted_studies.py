"""An article drawing on a retracted study (issue 14): its roll-up says how
many are retracted and each is marked in its list; editors find every such
article from the admin index ("Articles citing retracted studies")."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from catalog.models import Notice, Status
from tests.editorial.helpers import text_of
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles():
    retracted = StudyFactory(title="Ileal hyperplasia", study_type="rct", notice=Notice.RETRACTED)
    concern = StudyFactory(title="Stem cells", study_type="cohort", notice=Notice.CONCERN)
    corrected = StudyFactory(title="Corrected trial", study_type="rct", notice=Notice.CORRECTED)
    sound = StudyFactory(title="Sound meta-analysis", study_type="meta_analysis")
    citing = ArticleFactory(title="Vaccines and the gut")
    citing.related_studies.set([retracted, concern, corrected, sound])
    draft = ArticleFactory(title="Draft citing it", status=Status.DRAFT, publish_at=None)
    draft.related_studies.set([retracted])
    clean = ArticleFactory(title="Sound advice")
    clean.related_studies.set([sound, corrected, concern])
    return citing, draft, clean


def test_the_rollup_flags_retracted_studies_and_the_list_marks_each(client, articles):
    citing, _draft, clean = articles
    soup = BeautifulSoup(client.get(citing.get_absolute_url()).content, "html.parser")
    section = soup.select_one("section.related")
    rollup = " ".join(section.select_one(".rollup").get_text(" ").split())
    assert rollup == (
        "4 studies: 1 meta-analysis, 2 RCTs, 1 cohort/observational study — "
        "1 retracted, 1 under an expression of concern . Strongest designs first."
    )
    marked = {
        row.select_one(".entry-title").get_text(strip=True): row.select_one(".notice-marker").get_text(strip=True)
        for row in section.select(".entry-list__item")
        if row.select_one(".notice-marker")
    }
    assert marked == {
        "Ileal hyperplasia": "Retracted",
        "Stem cells": "Expression of concern",
        "Corrected trial": "Corrected",
    }
    # An expression of concern alone is flagged too; a correction is not.
    soup = BeautifulSoup(client.get(clean.get_absolute_url()).content, "html.parser")
    assert soup.select_one(".rollup__flags").get_text(strip=True) == "1 under an expression of concern"


def test_an_article_without_flagged_studies_has_a_plain_rollup(client):
    article = ArticleFactory()
    article.related_studies.set([StudyFactory(study_type="rct", notice=Notice.CORRECTED)])
    soup = BeautifulSoup(client.get(article.get_absolute_url()).content, "html.parser")
    assert soup.select_one(".rollup__flags") is None
    assert " ".join(soup.select_one(".rollup").get_text(" ").split()) == "1 study: 1 RCT. Strongest designs first."


def test_citing_retracted_finds_articles_in_any_state(articles):
    citing, draft, _clean = articles
    assert set(Article.objects.citing_retracted()) == {citing, draft}


def test_editors_list_articles_citing_retracted_studies(editor, login, articles):
    client = login(editor)
    index = BeautifulSoup(client.get("/admin/").content, "html.parser")
    link = index.find("a", string="Articles citing retracted studies")
    assert link is not None and link["href"] == "/admin/articles/article/?cites_retracted=yes"
    with CaptureQueriesContext(connection) as few:
        response = client.get(link["href"])
    assert response.status_code == 200
    names = {
        a.get_text(strip=True) for a in BeautifulSoup(response.content, "html.parser").select("#result_list tbody th a")
    }
    assert names == {"Vaccines and the gut", "Draft citing it"}
    assert "cites a retracted study" in text_of(response)
    # A list page's cost does not grow with its rows.
    for number in range(5):
        ArticleFactory(title=f"Another {number}").related_studies.add(*articles[0].related_studies.all())
    with CaptureQueriesContext(connection) as many:
        assert client.get(link["href"]).status_code == 200
    assert len(many) == len(few)
