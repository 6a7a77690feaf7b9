"""Uploaded study PDFs: a PDF by its content, not only its name, and not too big."""

import os

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

PDF_MAX_BYTES = 20 * 1024 * 1024
# Every PDF starts with this header (ISO 32000-1, 7.5.2).
PDF_MAGIC = b"%PDF-"


def validate_pdf(upload):
    """Refuse anything that is not a PDF of at most PDF_MAX_BYTES.

    The extension matters too: media is served with a type guessed from the
    name, so "page.html" holding "%PDF-" would reach browsers as HTML."""
    name = os.path.basename(getattr(upload, "name", "") or "the file")
    if upload.size > PDF_MAX_BYTES:
        raise ValidationError(
            "“%(name)s” is %(size)s; a PDF may be at most %(limit)s.",
            code="pdf_too_large",
            params={"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(PDF_MAX_BYTES)},
        )
    position = upload.tell()
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(position)
    if not head.startswith(PDF_MAGIC) or not name.lower().endswith(".pdf"):
        raise ValidationError(
            "“%(name)s” is not a PDF: upload the paper as a .pdf file (its content must begin with %%PDF-).",
            code="not_a_pdf",
            params={"name": name},
        )
