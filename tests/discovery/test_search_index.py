"""The full-text index follows every change: saves, bulk updates, deletes,
on studies and articles (PostgreSQL: generated columns; SQLite: the FTS5
index kept by triggers), and so do the title words suggestions draw on."""

import pytest
from django.db import connection

from articles.models import Article
from studies.models import Study
from tests.factories import ArticleFactory, StudyFactory

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")


def slugs(model, query):
    return sorted(model.objects.matching(query).values_list("slug", flat=True))


def test_saves_updates_and_deletes_are_followed(db):
    study = StudyFactory(slug="s", title="Warfarin and arteries", abstract="Old words.", authors=[])
    article = ArticleFactory(slug="a", title="Explainer", lead="", body="Old words.")
    assert slugs(Study, "warfarin") == ["s"] and slugs(Article, "old") == ["a"]

    study.title, study.abstract = "Phylloquinone and arteries", "New words."
    study.authors = [{"family": "Schurgers", "given": "Leon"}]
    study.save()
    assert slugs(Study, "warfarin") == [] and slugs(Study, "phylloquinone") == ["s"]
    assert slugs(Study, "old") == [] and slugs(Study, "new schurgers leon") == ["s"]

    Article.objects.filter(pk=article.pk).update(body="Bulk words.")
    assert slugs(Article, "old") == [] and slugs(Article, "bulk") == ["a"]
    Study.objects.filter(pk=study.pk).update(status="draft")  # not a searched field
    assert slugs(Study, "phylloquinone") == ["s"]

    study.delete()
    article.delete()
    assert slugs(Study, "phylloquinone arteries") == [] and slugs(Article, "bulk") == []
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_index WHERE search_index MATCH 'arteries OR bulk'")
            assert cursor.fetchone()[0] == 0
            cursor.execute("INSERT INTO search_index (search_index) VALUES ('integrity-check')")


def test_studies_and_articles_with_the_same_id_stay_apart(db):
    StudyFactory(id=990001, title="Calcium", abstract="")
    ArticleFactory(id=990001, title="Magnesium", body="")
    assert list(Study.objects.matching("calcium").values_list("pk", flat=True)) == [990001]
    assert list(Article.objects.matching("magnesium").values_list("pk", flat=True)) == [990001]
    assert not Article.objects.matching("calcium").exists()
    assert not Study.objects.matching("magnesium").exists()


def title_words():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT word FROM search_title_word")
        else:
            cursor.execute("SELECT term FROM search_title_vocab")
        return {row[0] for row in cursor.fetchall()}


def test_title_words_follow_titles(db):
    study = StudyFactory(title="Osteocalcin levels", paper_title="Carboxylated osteocalcin")
    ArticleFactory(title="Matrix explained")
    assert {"osteocalcin", "levels", "carboxylated", "matrix", "explained"} <= title_words()
    study.title = "Periostin levels"
    study.save()
    assert "periostin" in title_words()


@sqlite_only
def test_the_sqlite_triggers_exist():
    """A migration that rebuilds studies_study or articles_article on SQLite
    (Django's _remake_table) drops their triggers, and the index stops
    following edits: such a migration must create them again (the TRIGGERS
    of studies 0008 and articles 0005)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%search%'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        f"{table}_search_{event}"
        for table in ("studies_study", "articles_article")
        for event in ("insert", "update", "delete")
    }
