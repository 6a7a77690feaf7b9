"""An editor's change to a published entry waits for a moderator: until it
is approved, no public surface shows it (compared byte for byte)."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Transition, WorkflowAction
from editorial import revisions
from editorial.models import PendingRevision, RevisionStatus
from tests.factories import ArticleFactory, StudyFactory, TagFactory

from .helpers import change_form, form_values, text_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SURFACES = [
    "/",
    "/articles/",
    "/studies/",
    "/studies/?tag=bone",
    "/tags/",
    "/tags/bone/",
    "/tags/calcium/",
    "/tags/bone+vitamin-k2/",
    "/feed/",
    "/tags/bone/feed/",
    "/search/?q=menaquinone",
    "/search/?q=zanzibar",
    "/sitemap-entries.xml",
    "/sitemap-tags.xml",
    "/tags/bone/cite.ris",
    "/studies/live-study/",
    "/studies/live-study/cite.bib",
    "/studies/live-study/cite.json",
    "/studies/live-study/pdf/",
    "/articles/live-article/",
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def live():
    k2, bone, calcium = (TagFactory(name=name) for name in ("Vitamin K2", "Bone", "Calcium"))
    k2.slug, bone.slug, calcium.slug = "vitamin-k2", "bone", "calcium"
    for tag in (k2, bone, calcium):
        tag.save()
    StudyFactory(title="Calcium neighbour", tags=[calcium])
    study = StudyFactory(
        title="Menaquinone and bone",
        slug="live-study",
        tags=[k2, bone],
        summary="Old highlights.",
        abstract="menaquinone",
    )
    study.pdf.save("paper.pdf", ContentFile(PDF), save=True)
    article = ArticleFactory(
        title="Live article", slug="live-article", tags=[k2, bone], body="Old body about menaquinone."
    )
    return {"study": study, "article": article, "calcium": calcium, "bone": bone, "k2": k2}


def snapshot(client):
    pages = {}
    for path in SURFACES:
        cache.clear()
        response = client.get(path)
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        pages[path] = body
    return pages


def propose_edits(client, live):
    url, data = change_form(client, live["study"])
    data["title"] = ["Zanzibar new headline"]
    data["summary"] = ["New highlights.\n\n[[list calcium]]"]
    data["tags"] = [str(live["k2"].pk), str(live["calcium"].pk)]
    data["pdf"] = SimpleUploadedFile("new.pdf", PDF + b"%new", content_type="application/pdf")
    assert client.post(url, data).status_code == 302
    url, data = change_form(client, live["article"])
    data["body"] = ["Zanzibar body."]
    assert client.post(url, data).status_code == 302


def test_nothing_public_changes_until_a_moderator_approves(
    client, live, editor, moderator, login, django_capture_on_commit_callbacks
):
    before = snapshot(client)
    editor_client = login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        propose_edits(editor_client, live)
    assert PendingRevision.objects.pending().count() == 2
    after = snapshot(client)
    assert [path for path in SURFACES if before[path] != after[path]] == []
    # Moderators were told; the change page says it waits.
    assert any("Changes to review" in message.subject for message in mail.outbox)
    assert "wait for a moderator" in text_of(editor_client.get(f"/admin/studies/study/{live['study'].pk}/change/"))
    history = text_of(editor_client.get(f"/admin/studies/study/{live['study'].pk}/history/"))
    assert "Changes proposed for review" in history and "Calcium, Vitamin K2" in history

    # The queue lists both, oldest first, with a link to the review.
    moderator_client = login(moderator)
    queue = text_of(moderator_client.get("/admin/k2site/reviewqueueentry/"))
    assert queue.index("Menaquinone and bone") < queue.index("Live article") and "Review of changes" in queue
    review = moderator_client.get(f"/admin/studies/study/{live['study'].pk}/revision/")
    review_text = text_of(review)
    assert "Zanzibar new headline" in review_text and "Menaquinone and bone" in review_text
    assert "Calcium" in review_text  # the tags, live and proposed

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            f"/admin/studies/study/{live['study'].pk}/revision/", {"decision": "approve", "reason": "Thanks."}
        )
    assert response.status_code == 302
    cache.clear()
    page = client.get("/studies/live-study/").content.decode()
    assert "Zanzibar new headline" in page and "New highlights." in page and "Calcium neighbour" in page
    assert "Zanzibar new headline" in client.get("/tags/calcium/").content.decode()
    assert "Zanzibar new headline" not in client.get("/tags/bone/").content.decode()
    assert b"".join(client.get("/studies/live-study/pdf/").streaming_content) == PDF + b"%new"
    study = live["study"]
    study.refresh_from_db()
    assert study.history.latest().history_change_reason.startswith("Approved revision")
    assert Transition.objects.filter(object_id=study.pk, action=WorkflowAction.APPROVE).exists()
    assert [message.to for message in mail.outbox] == [[editor.email]]
    # The article's change is still waiting: still the old body.
    article_page = client.get("/articles/live-article/").content.decode()
    assert "Zanzibar body." not in article_page and "Old body about menaquinone." in article_page


def test_a_rejected_change_leaves_everything_and_tells_the_author(
    client, live, editor, moderator, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        propose_edits(login(editor), live)
    before = snapshot(client)
    revision = PendingRevision.objects.pending().of(live["study"]).get()
    uploaded = revision.changes["pdf"]
    assert default_storage.exists(uploaded)
    moderator_client = login(moderator)
    url = f"/admin/studies/study/{live['study'].pk}/revision/"
    moderator_client.post(url, {"decision": "reject", "reason": ""})
    assert PendingRevision.objects.pending().of(live["study"]).exists()  # a reason is required
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(url, {"decision": "reject", "reason": "The headline overstates the result."})
    revision.refresh_from_db()
    assert revision.status == RevisionStatus.REJECTED
    assert snapshot(client) == before
    assert not default_storage.exists(uploaded)
    (message,) = mail.outbox
    assert message.to == [editor.email] and "overstates" in message.body


def test_editors_cannot_approve_and_may_withdraw_their_own(client, live, editor, other_editor, login):
    propose_edits(login(editor), live)
    url = f"/admin/articles/article/{live['article'].pk}/revision/"
    with pytest.raises(Exception):  # noqa: B017  (PermissionDenied → 403 through the client)
        revisions.approve(PendingRevision.objects.pending().of(live["article"]).get(), user=editor)
    assert login(editor).post(url, {"decision": "approve"}).status_code == 403
    assert login(other_editor).post(url, {"decision": "withdraw"}).status_code == 403
    assert PendingRevision.objects.pending().of(live["article"]).exists()
    login(editor).post(url, {"decision": "withdraw"})
    assert not PendingRevision.objects.pending().of(live["article"]).exists()


def test_a_moderators_own_edit_goes_live_at_once(client, live, moderator, login):
    url, data = change_form(login(moderator), live["article"])
    data["body"] = ["Moderated body."]
    assert login(moderator).post(url, data).status_code == 302
    assert "Moderated body." in client.get("/articles/live-article/").content.decode()
    assert not PendingRevision.objects.exists()


def test_a_newer_change_replaces_a_pending_one(live, editor, login):
    client = login(editor)
    for title in ("First try", "Second try"):
        url, data = change_form(client, live["article"])
        data["title"] = [title]
        client.post(url, data)
    (pending,) = PendingRevision.objects.pending()
    assert pending.changes["title"] == "Second try"
    assert PendingRevision.objects.filter(status=RevisionStatus.SUPERSEDED).count() == 1


def test_an_editors_restore_of_a_published_entry_waits_too(client, live, editor, moderator, login):
    study = live["study"]
    # A moderator's edit makes a second revision to go back from.
    url, data = change_form(login(moderator), study)
    data["title"] = ["Moderated headline"]
    login(moderator).post(url, data)
    first = study.history.earliest()
    editor_client = login(editor)
    restore_url = f"/admin/studies/study/{study.pk}/history/{first.history_id}/"
    values = form_values(editor_client.get(restore_url), "historicalstudy_form")
    values["tags"] = [str(live["calcium"].pk)]
    assert editor_client.post(restore_url, values).status_code == 302
    study.refresh_from_db()
    assert study.title == "Moderated headline"
    assert sorted(tag.name for tag in study.tags.all()) == ["Bone", "Vitamin K2"]
    proposal = PendingRevision.objects.pending().of(study).get()
    assert proposal.changes["title"] == "Menaquinone and bone"
    assert proposal.relations["tags"] == [live["calcium"].pk]
