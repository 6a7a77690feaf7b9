"""Who may do what: groups after migrate, and the permission matrix
(anonymous, editor, moderator, superuser × each workflow action) through the
service, the workflow endpoint, the change form and the bulk actions."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied

from catalog.models import Entry, Status, Transition, WorkflowAction
from editorial import workflow
from editorial.roles import ROLES, restore_missing_groups
from tests.factories import ArticleFactory, StudyFactory

from .helpers import change_form, status_options

pytestmark = pytest.mark.django_db

# An entry state each action starts from.
START = {
    WorkflowAction.SUBMIT: Status.DRAFT,
    WorkflowAction.WITHDRAW: Status.IN_REVIEW,
    WorkflowAction.APPROVE: Status.IN_REVIEW,
    WorkflowAction.REJECT: Status.IN_REVIEW,
    WorkflowAction.PUBLISH: Status.DRAFT,
    WorkflowAction.UNPUBLISH: Status.PUBLISHED,
    WorkflowAction.ARCHIVE: Status.PUBLISHED,
}
ALLOWED = {
    None: set(),
    "editor": {WorkflowAction.SUBMIT, WorkflowAction.WITHDRAW},
    "moderator": set(WorkflowAction),
    "superuser": set(WorkflowAction),
}
ROLE_NAMES = list(ALLOWED)


@pytest.fixture
def people(editor, moderator, superuser):
    return {None: None, "editor": editor, "moderator": moderator, "superuser": superuser}


def test_groups_exist_after_migrate_with_their_permissions():
    editors = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Editors").permissions.select_related("content_type")
    }
    moderators = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Moderators").permissions.select_related("content_type")
    }
    assert "k2site.submit_entry" in editors and "k2site.moderate_entry" not in editors
    assert "articles.change_article" in editors and "studies.delete_study" not in editors
    assert {"k2site.moderate_entry", "k2site.change_tag", "k2site.delete_tag", "studies.delete_study"} <= moderators
    assert editors < moderators


def test_a_missing_group_is_restored_after_migrate_or_flush():
    from django.apps import apps

    Group.objects.filter(name="Moderators").delete()
    editors = Group.objects.get(name="Editors")
    editors.permissions.remove(Permission.objects.get(codename="view_transition"))
    restore_missing_groups(sender=apps.get_app_config("k2site"))
    assert set(ROLES) <= set(Group.objects.values_list("name", flat=True))
    assert Group.objects.get(name="Moderators").permissions.filter(codename="moderate_entry").exists()
    # An existing group someone edited is left as it is.
    assert not editors.permissions.filter(codename="view_transition").exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("action", list(WorkflowAction))
def test_service_permission_matrix(people, role, action):
    study = StudyFactory(status=START[action])
    user = people[role]
    comment = "Needs a source for the second claim." if action == WorkflowAction.REJECT else ""
    if action in ALLOWED[role]:
        workflow.transition(study, action, user=user, comment=comment)
        study.refresh_from_db()
        assert study.status == workflow.RULES[action].target
        assert Transition.objects.filter(object_id=study.pk, action=action).count() == 1
    else:
        with pytest.raises(PermissionDenied):
            workflow.transition(study, action, user=user, comment=comment)
        study.refresh_from_db()
        assert study.status == START[action]
        assert not Transition.objects.exists()


@pytest.mark.parametrize("role", ROLE_NAMES)
@pytest.mark.parametrize("action", list(WorkflowAction))
@pytest.mark.parametrize("factory", [StudyFactory, ArticleFactory], ids=["study", "article"])
def test_workflow_endpoint_permission_matrix(people, login, role, action, factory):
    entry = factory(status=START[action])
    opts = entry._meta
    version = entry.version
    response = login(people[role]).post(
        f"/admin/{opts.app_label}/{opts.model_name}/{entry.pk}/workflow/",
        {"action": action.value, "comment": "Reason given.", "version": version},
    )
    entry.refresh_from_db()
    if role is None:
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert entry.status == START[action]
    elif action in ALLOWED[role]:
        assert response.status_code == 302
        assert entry.status == workflow.RULES[action].target
        assert entry.version == version + 1
    else:
        assert response.status_code == 403
        assert entry.status == START[action] and entry.version == version
        assert not Transition.objects.exists()


@pytest.mark.parametrize("role", ["editor", "moderator", "superuser"])
def test_status_choices_in_the_change_form_follow_the_role(people, login, role):
    study = StudyFactory(draft=True)
    options = status_options(login(people[role]), study)
    if role == "editor":
        assert options == [Status.DRAFT, Status.IN_REVIEW]
    else:
        assert options == [Status.DRAFT, Status.IN_REVIEW, Status.PUBLISHED, Status.ARCHIVED]


@pytest.mark.parametrize("factory", [StudyFactory, ArticleFactory], ids=["study", "article"])
def test_editor_posting_status_published_in_the_change_form_changes_nothing(editor, login, factory):
    entry = factory(draft=True, title="Draft under edit")
    client = login(editor)
    url, data = change_form(client, entry)
    data["status"] = [Status.PUBLISHED]
    data["title"] = ["Sneakily published"]
    response = client.post(url, data)
    entry.refresh_from_db()
    assert response.status_code in {200, 403}
    if response.status_code == 200:
        assert "Select a valid choice" in response.content.decode()
    assert entry.status == Status.DRAFT and entry.title == "Draft under edit"
    assert not Entry.objects.published().exists()
    assert not Transition.objects.exists()


def test_save_model_refuses_a_status_the_form_let_through(editor, rf):
    """Defence in depth: even if a form offered "published", the save refuses."""
    from django.contrib import admin

    from studies.models import Study

    study = StudyFactory(draft=True)
    model_admin = admin.site._registry[Study]
    request = rf.post("/")
    request.user = editor

    class FakeForm:
        stored_status = Status.DRAFT
        cleaned_data = {"edited_version": study.version, "workflow_comment": ""}

    study.status = Status.PUBLISHED
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, study, FakeForm(), change=True)
    study.refresh_from_db()
    assert study.status == Status.DRAFT


@pytest.mark.parametrize(
    "action", ["publish_selected", "unpublish_selected", "archive_selected", "add_tag", "remove_tag"]
)
def test_editor_posting_a_moderator_bulk_action_gets_403(editor, login, action):
    study = StudyFactory(status=Status.IN_REVIEW if action == "publish_selected" else Status.PUBLISHED, tags=[])
    before = (study.status, study.version)
    response = login(editor).post(
        "/admin/studies/study/", {"action": action, "_selected_action": [study.pk], "index": 0, "tag": "Bone"}
    )
    assert response.status_code == 403
    study.refresh_from_db()
    assert (study.status, study.version) == before


def test_editor_may_submit_in_bulk(editor, login):
    drafts = [StudyFactory(draft=True) for _ in range(3)]
    response = login(editor).post(
        "/admin/studies/study/", {"action": "submit_selected", "_selected_action": [s.pk for s in drafts], "index": 0}
    )
    assert response.status_code == 302
    assert {s.status for s in type(drafts[0]).objects.all()} == {Status.IN_REVIEW}


def test_editor_cannot_change_the_schedule_and_their_changes_to_a_published_entry_wait(editor, login):
    from editorial.models import PendingRevision
    from tests.factories import TagFactory

    bone, calcium = TagFactory(name="Bone"), TagFactory(name="Calcium")
    study = StudyFactory(tags=[bone])
    client = login(editor)
    url, data = change_form(client, study)
    assert "expire_at_0" not in data
    data["tags"] = [str(calcium.pk)]
    data["expire_at_0"], data["expire_at_1"] = ["2000-01-01"], ["00:00:00"]
    data["title"] = ["Title fixed by an editor"]
    response = client.post(url, data)
    assert response.status_code == 302
    study.refresh_from_db()
    # Nothing changed on the live study: the title and tags wait for a moderator.
    assert study.title != "Title fixed by an editor"
    assert [t.name for t in study.tags.all()] == ["Bone"] and study.expire_at is None
    assert Entry.objects.published().filter(study=study).exists()
    revision = PendingRevision.objects.pending().get()
    assert revision.changes == {"title": "Title fixed by an editor"}
    assert revision.relations == {"tags": [calcium.pk]}


def test_preview_and_queue_are_closed_to_non_moderators(editor, login):
    assert login(editor).get("/admin/k2site/reviewqueueentry/").status_code == 403
    assert login(None).get("/admin/k2site/reviewqueueentry/").status_code == 302
