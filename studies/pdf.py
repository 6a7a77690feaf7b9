"""A study's PDF: stored under a name nobody can guess, served only through
``studies.views.study_pdf`` (published studies; staff see all), and deleted
from storage when replaced or when its study is deleted.

Who sends the bytes is a setting, ``PRIVATE_MEDIA_SERVER``: "django" (the
view streams the file; the default, and what the tests exercise), "nginx"
(an ``X-Accel-Redirect`` to the internal location
``PRIVATE_MEDIA_INTERNAL_URL`` that only nginx may serve) or "apache"
(``X-Sendfile`` with the file's path, for mod_xsendfile). The permission
check is Django's either way.
"""

import logging
import secrets
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse

logger = logging.getLogger(__name__)

PDF_DIRECTORY = "studies/pdf"


def pdf_upload_path(study, filename):
    """An unguessable name: the uploader's file name says nothing of it."""
    return f"{PDF_DIRECTORY}/{secrets.token_urlsafe(24)}.pdf"


def is_unguessable(name):
    """Whether a stored name is one ``pdf_upload_path`` made."""
    stem = name.removeprefix(f"{PDF_DIRECTORY}/").removesuffix(".pdf")
    return name.startswith(f"{PDF_DIRECTORY}/") and "/" not in stem and len(stem) == 32


def pdf_response(study, *, shared):
    """The PDF as an attachment (never rendered in the site's origin).
    ``shared``: whether caches may keep it (a published study's)."""
    name = study.pdf.name
    download_name = f"{study.slug}.pdf"
    server = getattr(settings, "PRIVATE_MEDIA_SERVER", "django")
    if server == "django":
        try:
            handle = study.pdf.open("rb")
        except (FileNotFoundError, OSError) as error:
            logger.warning("PDF of study %s is missing from storage: %s", study.pk, error)
            raise Http404("No PDF.") from error
        response = FileResponse(handle, as_attachment=True, filename=download_name, content_type="application/pdf")
    else:
        response = HttpResponse(content_type="application/pdf")
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
        if server == "nginx":
            internal = settings.PRIVATE_MEDIA_INTERNAL_URL.rstrip("/")
            response["X-Accel-Redirect"] = f"{internal}/{quote(name)}"
        else:
            response["X-Sendfile"] = study.pdf.path
    response["X-Content-Type-Options"] = "nosniff"
    # Belt and braces: even if a browser opened it inline, it gets no script.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "public, max-age=300" if shared else "private, no-store"
    return response


def remember_stored_pdf(instance):
    """Called as a study is loaded: the PDF name now in the database."""
    instance._stored_pdf_name = instance.pdf.name if instance.pdf else ""


def delete_after_commit(storage, name):
    """Delete a file once the change that dropped it has committed (a rolled
    back save keeps it)."""
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def pdf_replaced(sender, instance, raw=False, **kwargs):
    """post_save: the file a study no longer points to is deleted."""
    old = getattr(instance, "_stored_pdf_name", "")
    new = instance.pdf.name if instance.pdf else ""
    if not raw and old and old != new:
        delete_after_commit(instance.pdf.storage, old)
    instance._stored_pdf_name = new


def study_deleted(sender, instance, **kwargs):
    """post_delete: the study's file goes with it."""
    if instance.pdf:
        delete_after_commit(instance.pdf.storage, instance.pdf.name)
