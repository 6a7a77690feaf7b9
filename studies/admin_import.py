"""The admin's "Import studies" page: upload → preview (a dry run) → confirm.

Between the preview and the confirmation the upload waits in a private
temporary directory under a random name; the confirm form carries only a
signed token naming that file, the user and the options, so nothing the
browser sends back can point the import at another file or change what was
previewed. Tokens expire after an hour; older files are swept on each upload.
"""

import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .importing import FORMAT_NAMES, MAX_FILE_BYTES, ImportRefused, can_publish, study_import
from .models import Study

TOKEN_SALT = "studies.admin_import"
TOKEN_MAX_AGE = 60 * 60
UPLOAD_NAME = re.compile(r"^[0-9a-f]{32}$")
PREVIEW_ROWS = 500


def upload_dir():
    path = Path(tempfile.gettempdir()) / "k2site-imports"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=f"RIS, BibTeX, CSL-JSON or PubMed MEDLINE (.nbib), at most {MAX_FILE_BYTES // 1024 // 1024} MB."
    )
    format = forms.ChoiceField(
        choices=[("auto", "Recognise it"), *FORMAT_NAMES.items()], initial="auto", required=False
    )
    tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated. Added to every imported study.")
    publish = forms.BooleanField(required=False, help_text="Publish now. Otherwise new studies arrive as drafts.")
    skip_invalid = forms.BooleanField(
        label="Skip records that can't be read",
        required=False,
        help_text="Import the other records and list the skipped ones. Otherwise one such record stops the import.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {MAX_FILE_BYTES // 1024 // 1024} MB."
            )
        return upload

    def clean_tags(self):
        return [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]


@require_http_methods(["GET", "POST"])
def study_import_view(request):
    """Wrapped in admin.site.admin_view (staff login) in k2site/urls.py."""
    if not request.user.has_perm("studies.add_study"):
        raise PermissionDenied
    may_publish = can_publish(request.user)
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, may_publish)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            if form.cleaned_data["publish"] and not may_publish:
                raise PermissionDenied("Only moderators may publish.")
            return _preview(request, form, may_publish)
    else:
        form = ImportForm()
    if not may_publish:
        del form.fields["publish"]
    return _render(request, {"form": form, "may_publish": may_publish})


def _render(request, context, status=200):
    return TemplateResponse(
        request,
        "admin/studies/study/import.html",
        {
            **admin.site.each_context(request),
            "opts": Study._meta,
            "title": "Import studies",
            "changelist_url": reverse("admin:studies_study_changelist"),
            **context,
        },
        status=status,
    )


def _preview(request, form, may_publish):
    _sweep()
    upload = form.cleaned_data["file"]
    name = secrets.token_hex(16)
    path = upload_dir() / name
    with open(path, "wb") as stored:
        for chunk in upload.chunks():
            stored.write(chunk)
    options = {
        "fmt": form.cleaned_data["format"] or "auto",
        "tags": form.cleaned_data["tags"],
        "publish": form.cleaned_data["publish"],
        "skip_invalid": form.cleaned_data["skip_invalid"],
    }
    try:
        report = study_import(source=path, dry_run=True, user=request.user, source_name=upload.name, **options)
    except ImportRefused as refused:
        path.unlink(missing_ok=True)
        if not may_publish:
            del form.fields["publish"]
        return _render(
            request,
            {"form": form, "refused": refused.message, "report": refused.report, **_rows(refused.report)},
            status=400,
        )
    token = signing.dumps(
        {"file": name, "user": request.user.pk, "name": upload.name, **options}, salt=TOKEN_SALT, compress=True
    )
    return _render(request, {"report": report, "token": token, "options": options, **_rows(report)})


def _confirm(request, may_publish):
    try:
        payload = signing.loads(request.POST["token"], salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return _start_again(request, "That preview has expired or is not valid. Upload the file again.")
    if payload.get("user") != request.user.pk:
        raise PermissionDenied
    if payload["publish"] and not may_publish:
        raise PermissionDenied("Only moderators may publish.")
    name = str(payload.get("file", ""))
    path = upload_dir() / name
    if not UPLOAD_NAME.match(name) or not path.exists():
        return _start_again(request, "The uploaded file is no longer there. Upload it again.")
    try:
        report = study_import(
            source=path,
            fmt=payload["fmt"],
            tags=payload["tags"],
            publish=payload["publish"],
            skip_invalid=payload.get("skip_invalid", False),
            dry_run=False,
            user=request.user,
            source_name=payload["name"],
        )
    except ImportRefused as refused:
        # The studies changed since the preview, or the file was refused after all.
        return _render(
            request,
            {"form": _form(may_publish), "refused": refused.message, "report": refused.report, **_rows(refused.report)},
            status=400,
        )
    finally:
        path.unlink(missing_ok=True)
    counts = report.counts
    skipped = f", {counts['skipped']} skipped (can't be read)" if counts["skipped"] else ""
    messages.success(
        request,
        f"Imported {payload['name']}: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged{skipped}." + ("" if payload["publish"] else " New studies are drafts."),
    )
    return redirect("admin:studies_study_changelist")


def _start_again(request, message):
    messages.error(request, message)
    return redirect("admin_study_import")


def _form(may_publish):
    form = ImportForm()
    if not may_publish:
        del form.fields["publish"]
    return form


def _rows(report):
    if report is None:
        return {}
    return {"rows": report.outcomes[:PREVIEW_ROWS], "more_rows": max(0, len(report.outcomes) - PREVIEW_ROWS)}


def _sweep():
    """Drop uploads whose preview was never confirmed (older than the token)."""
    cutoff = time.time() - TOKEN_MAX_AGE - 60
    for entry in os.scandir(upload_dir()):
        try:
            if UPLOAD_NAME.match(entry.name) and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
        except OSError:
            pass
