"""Editing in the admin: the change form's workflow, optimistic locking,
revisions (diff and restore), the moderation queue, and the transition log."""

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from catalog.models import Entry, EntryTag, Status, Tag, Transition
from studies.models import Study
from tests.factories import ArticleFactory, StudyFactory, TagFactory

from .helpers import change_form, form_values, text_of

pytestmark = pytest.mark.django_db


def test_editor_writes_an_article_and_submits_it_from_the_add_form(
    editor, moderator, login, django_capture_on_commit_callbacks
):
    bone = TagFactory(name="Bone", slug="bone")
    client = login(editor)
    response = client.get("/admin/articles/article/add/")
    data = form_values(response, "article_form")
    data.update(
        title=["Menaquinone-7 for bones"],
        slug=["mk7-bones"],
        lead=["What the trials found."],
        body=["## Trials\n\nThree RCTs."],
        tags=[str(bone.pk)],
        status=[Status.IN_REVIEW],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/articles/article/add/", data)
    assert response.status_code == 302, text_of(response)[:2000]
    article = Article.objects.get(slug="mk7-bones")
    assert article.status == Status.IN_REVIEW and article.author == editor
    assert [t.name for t in article.tags.all()] == ["Bone"]
    step = Transition.objects.get()
    assert (step.action, step.from_status, step.to_status, step.actor) == ("submit", "draft", "in_review", editor)
    assert mail_to(moderator)


def mail_to(user):
    from django.core import mail

    return [m for m in mail.outbox if user.email in m.to]


def test_moderator_approves_from_the_change_form_and_the_log_shows_it(editor, moderator, login):
    article = ArticleFactory(status=Status.IN_REVIEW, publish_at=None, first_published_at=None, author=editor)
    client = login(moderator)
    url, data = change_form(client, article)
    data["status"] = [Status.PUBLISHED]
    data["workflow_comment"] = ["Well sourced."]
    response = client.post(url, data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED and article.first_published_at is not None
    assert Entry.objects.published().filter(article=article).exists()
    page = client.get(url)
    log = BeautifulSoup(page.content, "html.parser").select_one(".wf-log")
    assert "Approve and publish" in log.get_text() and "Well sourced." in log.get_text() and "mona" in log.get_text()


def test_rejecting_from_the_change_form_needs_a_reason(moderator, login):
    study = StudyFactory(status=Status.IN_REVIEW, publish_at=None)
    client = login(moderator)
    url, data = change_form(client, study)
    data["status"] = [Status.DRAFT]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Give a reason for the rejection" in text_of(response)
    study.refresh_from_db()
    assert study.status == Status.IN_REVIEW
    data["workflow_comment"] = ["Wrong journal."]
    assert client.post(url, data).status_code == 302
    study.refresh_from_db()
    assert study.status == Status.DRAFT
    assert Transition.objects.get().comment == "Wrong journal."


def test_workflow_panel_offers_each_role_its_buttons(editor, moderator, login):
    study = StudyFactory(draft=True)

    def buttons(user):
        page = login(user).get(f"/admin/studies/study/{study.pk}/change/")
        return [b["value"] for b in BeautifulSoup(page.content, "html.parser").select(".wf-panel button[name=action]")]

    assert buttons(editor) == ["submit"]
    assert buttons(moderator) == ["submit", "publish", "archive"]


# --- optimistic locking ---------------------------------------------------------


def test_the_second_of_two_concurrent_saves_is_refused_and_nothing_is_lost(editor, other_editor, login):
    study = StudyFactory(draft=True, title="Original title", abstract="Original abstract.")
    first, second = login(editor), login(other_editor)
    url, first_data = change_form(first, study)
    _, second_data = change_form(second, study)

    first_data["title"] = ["Title by Edith"]
    assert first.post(url, first_data).status_code == 302

    second_data["abstract"] = ["Abstract by Otto."]
    response = second.post(url, second_data)
    assert response.status_code == 200
    study.refresh_from_db()
    assert (study.title, study.abstract) == ("Title by Edith", "Original abstract.")
    page = BeautifulSoup(response.content, "html.parser")
    error = page.select_one(".errorlist.nonfield").get_text(" ")
    assert "Not saved" in error and "edith" in error
    # Otto's text is still in the form, and the link shows Edith's change.
    assert page.find("textarea", attrs={"name": "abstract"}).text.strip() == "Abstract by Otto."
    compare = page.select_one(".errorlist.nonfield a")["href"]
    diff = second.get(compare)
    assert diff.status_code == 200
    assert "Original title" in text_of(diff) and "Title by Edith" in text_of(diff)

    # Saving again, knowingly, keeps Otto's version; Edith's stays in the history.
    again = form_values(response, "study_form")
    assert second.post(url, again).status_code == 302
    study.refresh_from_db()
    assert study.abstract == "Abstract by Otto." and study.title == "Original title"
    assert study.history.filter(title="Title by Edith").exists()


def test_a_save_after_a_workflow_step_is_refused_too(editor, moderator, login):
    study = StudyFactory(status=Status.IN_REVIEW, publish_at=None)
    client = login(editor)
    url, data = change_form(client, study)
    assert (
        login(moderator)
        .post(f"/admin/studies/study/{study.pk}/workflow/", {"action": "approve", "version": study.version})
        .status_code
        == 302
    )
    data["title"] = ["Edited while it was approved"]
    response = client.post(url, data)
    assert response.status_code == 200 and "Not saved" in text_of(response)
    study.refresh_from_db()
    assert study.status == Status.PUBLISHED and study.title != "Edited while it was approved"


def test_the_race_between_check_and_save_is_caught_by_the_conditional_update(editor):
    from editorial import workflow

    study = StudyFactory(draft=True)
    seen = study.version
    workflow.claim_version(study, seen)
    other = Study.objects.get(pk=study.pk)
    with pytest.raises(workflow.StaleVersion):
        workflow.claim_version(other, seen)


# --- revisions --------------------------------------------------------------


def test_history_lists_revisions_and_restores_an_old_one(editor, login):
    study = StudyFactory(draft=True, title="First title", summary="First summary.")
    client = login(editor)
    url, data = change_form(client, study)
    data["title"], data["summary"] = ["Second title"], ["Second summary.\nWith a new line."]
    assert client.post(url, data).status_code == 302
    history = client.get(f"/admin/studies/study/{study.pk}/history/")
    assert history.status_code == 200
    soup = BeautifulSoup(history.content, "html.parser")
    old_ids = [i["value"] for i in soup.select("input[name=old]")]
    assert len(old_ids) == 2
    first_revision = study.history.earliest()
    diff = client.get(
        f"/admin/studies/study/{study.pk}/history/compare/", {"old": first_revision.history_id, "new": old_ids[0]}
    )
    assert diff.status_code == 200
    diff_text = text_of(diff)
    assert "First title" in diff_text and "Second title" in diff_text and "With a new line." in diff_text

    revert_url = f"/admin/studies/study/{study.pk}/history/{first_revision.history_id}/"
    page = client.get(revert_url)
    assert page.status_code == 200
    values = form_values(page, "historicalstudy_form")
    assert values["title"] == ["First title"]
    assert client.post(revert_url, values).status_code == 302
    study.refresh_from_db()
    assert study.title == "First title" and study.summary == "First summary."
    assert study.version == 3  # the restore is a new revision, not a rewind
    assert study.history.count() == 3
    assert study.history.latest().history_change_reason == f"Restored from revision {first_revision.history_id}"


def test_compare_with_unknown_revisions_is_404(editor, login):
    study = StudyFactory(draft=True)
    other = StudyFactory(draft=True)
    client = login(editor)
    response = client.get(
        f"/admin/studies/study/{study.pk}/history/compare/",
        {"old": other.history.get().history_id, "new": study.history.get().history_id},
    )
    assert response.status_code == 404
    assert client.get(f"/admin/studies/study/{study.pk}/history/compare/", {"old": "x", "new": "y"}).status_code == 404


# --- moderation queue -------------------------------------------------------


def test_queue_lists_entries_in_review_oldest_submission_first(editor, moderator, login):
    from editorial import workflow

    # The paper dates run the other way: the queue must not list by them.
    newer = StudyFactory(draft=True, title="Submitted second", year=2024)
    older = StudyFactory(draft=True, title="Submitted first", year=2001)
    StudyFactory(draft=True, title="Still a draft")
    workflow.submit(older, user=editor)
    workflow.submit(newer, user=editor)
    response = login(moderator).get("/admin/k2site/reviewqueueentry/")
    assert response.status_code == 200
    rows = [
        row.select_one(".field-entry_title").get_text(strip=True)
        for row in BeautifulSoup(response.content, "html.parser").select("#result_list tbody tr")
    ]
    assert rows == ["Submitted first", "Submitted second"]
    assert f"/preview/studies/{older.pk}/" in response.content.decode()


# Statements of one admin save that changes a published study's title and
# tags (as a moderator, who may retag a live entry): the form, its version
# lock, the revision, the tag links, and one listing-index sync at the end.
# Before the sync was deferred to the end of the save it ran three times.
# (49: one more since the change page looks for a pending revision; 50: the
# sync reads the category tree to post the entry under its tags' ancestors;
# 52: the year-by-design counts of the evidence timeline, gains and losses.)
ADMIN_SAVE_QUERIES = 52


def test_an_admin_save_with_a_tag_change_syncs_the_listing_index_once(moderator, login):
    bone, calcium, heart = (TagFactory(name=name) for name in ("Bone", "Calcium", "Heart"))
    study = StudyFactory(title="Before", tags=[bone, calcium])
    client = login(moderator)
    url, data = change_form(client, study)
    data["title"] = ["After"]
    data["tags"] = [str(calcium.pk), str(heart.pk)]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, data)
    assert response.status_code == 302, text_of(response)
    entry_table = connection.ops.quote_name(Entry._meta.db_table)
    entry_updates = [q["sql"] for q in queries if q["sql"].startswith(f"UPDATE {entry_table}")]
    assert len(entry_updates) == 1, entry_updates
    assert len(queries) == ADMIN_SAVE_QUERIES, "\n".join(q["sql"] for q in queries)
    entry = Entry.objects.get(study=study)
    assert entry.title == "After"
    assert set(EntryTag.objects.filter(entry=entry).values_list("tag__name", flat=True)) == {"Calcium", "Heart"}
    counts = dict(Tag.objects.values_list("name", "entry_count"))
    assert counts == {"Bone": 0, "Calcium": 1, "Heart": 1}
