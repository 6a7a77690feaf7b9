"""What a search result shows: the text as a reader sees it (Markdown
rendered, listing blocks left out), the query's words marked in the
snippet and in the title, everything else escaped. Both databases."""

import re

import pytest
from bs4 import BeautifulSoup
from django.db import connection

from discovery.search import reader_texts
from tests.factories import ArticleFactory, StudyFactory, TagFactory

pytestmark = pytest.mark.django_db

MARKDOWN_BODY = """## Menaquinone and arteries

Matrix Gla protein needs **vitamin K2** to keep calcium out of the
[arterial wall](https://example.org/menaquinone-wall "Menaquinone") — see
![a menaquinone diagram](https://example.org/diagram.png) and `menaquinone-7`.

[[list vitamin-k2+bone type=rct limit=5]]

- first point about menaquinone
- second point, *emphasised*

1. numbered menaquinone step

> A quoted menaquinone remark.

[[picks Menaquinone reading]]
/studies/some-study/
[[/picks]]

| menaquinone | dose |
|---|---|
| MK-7 | 180 µg |

Setext menaquinone heading
--------------------------

A [reference link][ref] about menaquinone_intake and 5 \\* 3.

[ref]: https://example.org/ref
"""

MARKDOWN_SYNTAX = re.compile(r"##|\]\(|\[\[|\*\*|`|^\s*[-*+>] |\|---|https?://|K2BLOCK|list vitamin-k2", re.M)


def snippet_of(client, query, *, position=0):
    soup = BeautifulSoup(client.get("/search/", {"q": query}).content, "html.parser")
    return soup.select(".search-results > li")[position].select_one(".snippet")


def test_reader_text_is_the_rendered_text_without_blocks(db):
    (text,) = reader_texts([MARKDOWN_BODY])
    assert not MARKDOWN_SYNTAX.search(text), text
    assert text.startswith("Menaquinone and arteries Matrix Gla protein needs vitamin K2")
    assert "arterial wall — see" in text
    assert "menaquinone-7" in text  # inline code keeps its text
    assert "first point about menaquinone second point, emphasised numbered menaquinone step" in text
    assert "/studies/some-study/" not in text and "Menaquinone reading" not in text
    assert "menaquinone dose MK-7 180 µg" in text
    assert "menaquinone_intake and 5 * 3" in text
    assert "\n" not in text and "  " not in text


@pytest.mark.parametrize("query", ["menaquinone", "arteries", "emphasised", "remark", "dose", "intake", "wall"])
def test_snippets_never_show_markdown(client, db, query):
    ArticleFactory(title="Explainer", lead="", body=MARKDOWN_BODY)
    snippet = snippet_of(client, query)
    assert snippet is not None
    text = snippet.get_text()
    assert not MARKDOWN_SYNTAX.search(text), text
    assert [tag.name for tag in snippet.find_all()] == ["mark"] * len(snippet.find_all())
    assert snippet.mark


def test_study_highlights_are_rendered_when_there_is_no_abstract(client, db):
    StudyFactory(title="A trial", abstract="", summary="## Key points\n\n- **Menaquinone** lowered [PWV](/x/)\n")
    snippet = snippet_of(client, "menaquinone")
    assert " ".join(snippet.get_text().split()) == "Key points Menaquinone lowered PWV"
    assert snippet.mark.get_text() == "Menaquinone"


def test_a_study_quotes_its_abstract_as_written(client, db):
    # An abstract is plain text (its page shows it so): "*" and "_" stay.
    StudyFactory(title="A trial", abstract="Menaquinone_7 at 2*90 µg", summary="**never quoted**")
    assert snippet_of(client, "menaquinone").get_text() == "Menaquinone_7 at 2*90 µg"


def test_the_passage_that_matches_is_quoted(client, db):
    before = " ".join(f"before{number}" for number in range(200))
    after = " ".join(f"after{number}" for number in range(200))
    ArticleFactory(title="Long explainer", lead="", body=f"{before}\n\nThe warfarin paragraph.\n\n{after}")
    text = snippet_of(client, "warfarin").get_text()
    assert "The warfarin paragraph." in text and "before0 " not in text and "after199" not in text
    assert text.startswith("…") and text.endswith("…")


def test_title_words_are_marked(client, db):
    StudyFactory(title="Menaquinone-7 and bone <density> & more", abstract="Bones.")
    soup = BeautifulSoup(client.get("/search/", {"q": "bones menaquinone"}).content, "html.parser")
    title = soup.select_one(".search-results > li a")
    assert [mark.get_text() for mark in title.find_all("mark")] == ["Menaquinone", "bone"]
    assert [tag.name for tag in title.find_all()] == ["mark", "mark"]
    assert title.get_text() == "Menaquinone-7 and bone <density> & more"
    assert "&lt;density&gt; &amp; more" in str(title)


def test_phrases_and_prefixes_are_marked(client, db):
    StudyFactory(title="Vitamin K2 and vitamin D", abstract="Menaquinones and vitamin K2 in menaquinone-rich food.")
    soup = BeautifulSoup(client.get("/search/", {"q": '"vitamin k2" menaquin*'}).content, "html.parser")
    item = soup.select_one(".search-results > li")
    # FTS5 marks a phrase as one, ts_headline word by word.
    snippet_marks = " ".join(mark.get_text().lower() for mark in item.select(".snippet mark")).split()
    assert {"menaquinones", "menaquinone", "vitamin", "k2"} <= set(snippet_marks)
    title_marks = " ".join(mark.get_text() for mark in item.a.find_all("mark"))
    if connection.vendor == "postgresql":
        # ts_headline marks a phrase's words wherever they are.
        assert title_marks == "Vitamin K2 vitamin"
    else:
        assert title_marks == "Vitamin K2"


def test_excluded_words_are_not_marked(client, db):
    StudyFactory(title="Bone and warfarin", abstract="Bone loss.")
    StudyFactory(title="Bone density", abstract="Warfarin-free bone.")
    soup = BeautifulSoup(client.get("/search/", {"q": "bone -loss"}).content, "html.parser")
    marked = {mark.get_text().lower() for mark in soup.select(".search-results mark")}
    assert marked == {"bone"}


def test_a_match_outside_title_and_text_leaves_them_unmarked(client, db):
    StudyFactory(title="A paper", abstract="Nothing to mark.", journal="Osteoporosis International")
    soup = BeautifulSoup(client.get("/search/", {"q": "osteoporosis"}).content, "html.parser")
    item = soup.select_one(".search-results > li")
    assert item.a.get_text() == "A paper" and not item.select("mark")
    assert item.select_one(".snippet").get_text() == "Nothing to mark."


def test_results_keep_their_tags_and_links(client, db):
    tag = TagFactory(name="Bone")
    study = StudyFactory(title="Menaquinone trial", tags=[tag])
    item = BeautifulSoup(client.get("/search/?q=menaquinone").content, "html.parser").select_one(".search-results > li")
    assert item.a["href"] == study.get_absolute_url()
    assert [a.get_text() for a in item.select(".tag-list a")] == ["Bone"]
