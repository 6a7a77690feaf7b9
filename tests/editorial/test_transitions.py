"""Transitions, their log and revisions, notifications, and scheduling."""

import datetime
import time

import pytest
from django.core import mail
from django.utils import timezone

from catalog.indexing import refresh_scheduled
from catalog.models import Entry, Status, Tag, Transition, WorkflowAction
from editorial import workflow
from tests.factories import ArticleFactory, StudyFactory, TagFactory

from .helpers import text_of

pytestmark = pytest.mark.django_db


def test_the_full_path_is_logged_with_who_when_from_to_and_comment(
    editor, moderator, django_capture_on_commit_callbacks
):
    article = ArticleFactory(draft=True, first_published_at=None, author=editor)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(article, user=editor, comment="Ready, I think.")
        workflow.reject(article, user=moderator, reason="Cite the 2021 meta-analysis.")
        workflow.submit(article, user=editor)
        workflow.approve(article, user=moderator)
        workflow.unpublish(article, user=moderator, comment="Outdated figures.")
        workflow.publish(article, user=moderator)
        workflow.archive(article, user=moderator)
    steps = list(Transition.objects.order_by("created_at", "id"))
    assert [(s.action, s.from_status, s.to_status, s.actor) for s in steps] == [
        ("submit", "draft", "in_review", editor),
        ("reject", "in_review", "draft", moderator),
        ("submit", "draft", "in_review", editor),
        ("approve", "in_review", "published", moderator),
        ("unpublish", "published", "draft", moderator),
        ("publish", "draft", "published", moderator),
        ("archive", "published", "archived", moderator),
    ]
    assert steps[1].comment == "Cite the 2021 meta-analysis."
    assert all(s.created_at <= timezone.now() and s.title == article.title for s in steps)
    # Every step is a revision too, with the step as its reason and its author.
    revisions = list(article.history.order_by("history_date", "history_id"))
    assert [r.status for r in revisions][-7:] == [
        "in_review",
        "draft",
        "in_review",
        "published",
        "draft",
        "published",
        "archived",
    ]
    assert revisions[-6].history_change_reason == "Reject: Cite the 2021 meta-analysis."
    assert revisions[-6].history_user == moderator
    assert article.version == 8


def test_approval_sets_first_publication_once_and_publishes_now(editor, moderator):
    article = ArticleFactory(draft=True, first_published_at=None)
    workflow.submit(article, user=editor)
    before = timezone.now()
    workflow.approve(article, user=moderator)
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
    assert before <= article.publish_at <= timezone.now()
    first = article.first_published_at
    assert first == article.publish_at
    workflow.unpublish(article, user=moderator)
    workflow.publish(article, user=moderator)
    article.refresh_from_db()
    assert article.first_published_at == first
    assert Entry.objects.published().filter(article=article).exists()


def test_rejection_needs_a_reason_and_mails_it_to_the_author(editor, moderator, django_capture_on_commit_callbacks):
    article = ArticleFactory(draft=True, author=editor)
    workflow.submit(article, user=editor)
    with pytest.raises(workflow.TransitionError):
        workflow.reject(article, user=moderator, reason="   ")
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        workflow.reject(article, user=moderator, reason="The dose is wrong: 180 µg, not 180 mg.")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [editor.email]
    assert "180 µg, not 180 mg" in message.body and article.title in message.subject


def test_submission_mails_moderators_and_approval_mails_the_submitter(
    editor, moderator, superuser, django_capture_on_commit_callbacks
):
    study = StudyFactory(draft=True)  # studies have no author: the submitter hears back
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(study, user=editor)
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([moderator.email, superuser.email])
    assert f"/admin/studies/study/{study.pk}/change/" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve(study, user=moderator)
    assert mail.outbox[1].to == [editor.email]
    assert "approved" in mail.outbox[1].body


def test_mail_leaves_only_once_the_transition_is_committed(editor, moderator, django_capture_on_commit_callbacks):
    study = StudyFactory(draft=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow.submit(study, user=editor)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "state,action",
    [
        (Status.DRAFT, WorkflowAction.APPROVE),
        (Status.PUBLISHED, WorkflowAction.SUBMIT),
        (Status.ARCHIVED, WorkflowAction.ARCHIVE),
        (Status.DRAFT, WorkflowAction.UNPUBLISH),
    ],
)
def test_impossible_transitions_are_refused(moderator, state, action):
    study = StudyFactory(status=state)
    with pytest.raises(workflow.TransitionError):
        workflow.transition(study, action, user=moderator, comment="x")
    study.refresh_from_db()
    assert study.status == state and not Transition.objects.exists()


def test_a_stale_button_press_is_refused(moderator, editor):
    study = StudyFactory(status=Status.IN_REVIEW)
    seen = study.version
    study.title = "Changed after the moderator loaded the page"
    study.version += 1
    study.save()
    with pytest.raises(workflow.StaleVersion):
        workflow.transition(study, "approve", user=moderator, expected_version=seen)
    study.refresh_from_db()
    assert study.status == Status.IN_REVIEW


def test_bulk_publish_resyncs_the_listing_index_and_logs_each(moderator, client):
    bone = TagFactory(name="Bone", slug="bone")
    drafts = [StudyFactory(draft=True, tags=[bone], title=f"Bulk draft {n}") for n in range(3)]
    already = StudyFactory(tags=[bone], title="Already live")
    bone.refresh_from_db()
    assert bone.entry_count == 1
    from studies.models import Study

    changed, skipped = workflow.bulk_transition(
        Study.objects.filter(pk__in=[d.pk for d in drafts] + [already.pk]), "publish", user=moderator
    )
    assert len(changed) == 3 and skipped == 1
    bone.refresh_from_db()
    assert bone.entry_count == 4
    assert Transition.objects.filter(action="publish").count() == 3
    assert all(
        s.history.latest().history_change_reason == "Publish"
        for s in Study.objects.filter(pk__in=[d.pk for d in drafts])
    )
    page = text_of(client.get("/tags/bone/"))
    assert all(f"Bulk draft {n}" in page for n in range(3))
    workflow.bulk_transition(Study.objects.all(), "unpublish", user=moderator)
    bone.refresh_from_db()
    assert bone.entry_count == 0
    assert "Bulk draft" not in text_of(client.get("/tags/bone/"))


# --- scheduling --------------------------------------------------------------


def test_published_q_at_the_exact_boundaries():
    start = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=1)
    end = start + datetime.timedelta(days=1)
    study = StudyFactory(publish_at=start, expire_at=end)
    tick = datetime.timedelta(microseconds=1)
    from studies.models import Study

    assert not Study.objects.published(at=start - tick).filter(pk=study.pk).exists()
    assert Study.objects.published(at=start).filter(pk=study.pk).exists()
    assert Study.objects.published(at=end - tick).filter(pk=study.pk).exists()
    assert not Study.objects.published(at=end).filter(pk=study.pk).exists()
    assert not Entry.objects.published(at=start - tick).filter(study=study).exists()
    assert Entry.objects.published(at=start).filter(study=study).exists()


def test_a_scheduled_approval_appears_on_time_without_a_cron_job(editor, moderator, client):
    bone = TagFactory(name="Bone", slug="bone")
    article = ArticleFactory(draft=True, first_published_at=None, title="Scheduled explainer", tags=[bone])
    workflow.submit(article, user=editor)
    when = timezone.now() + datetime.timedelta(seconds=2)
    workflow.approve(article, user=moderator, publish_at=when)
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED and article.publish_at == when
    assert article.first_published_at == when
    assert client.get(f"/articles/{article.slug}/").status_code == 404
    assert "Scheduled explainer" not in text_of(client.get("/tags/bone/"))
    time.sleep(max(0.0, (when - timezone.now()).total_seconds()) + 0.05)
    # The page is right at once; the precomputed count catches up on the
    # middleware's next check (here called directly).
    assert client.get(f"/articles/{article.slug}/").status_code == 200
    assert refresh_scheduled() == 1
    assert Tag.objects.get(pk=bone.pk).entry_count == 1
    assert "Scheduled explainer" in text_of(client.get("/tags/bone/"))


def test_expiry_hides_again(moderator, client):
    study = StudyFactory(expire_at=timezone.now() + datetime.timedelta(seconds=1), title="Expiring study")
    assert client.get(f"/studies/{study.slug}/").status_code == 200
    assert "Expiring study" in text_of(client.get("/studies/"))
    time.sleep(1.1)
    # The middleware's periodic check (every few seconds; here called
    # directly) drops cached pages and takes the entry out of the counts.
    assert refresh_scheduled() == 1
    assert client.get(f"/studies/{study.slug}/").status_code == 404
    assert "Expiring study" not in text_of(client.get("/studies/"))
