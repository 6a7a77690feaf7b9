"""The study's admin form: authors typed as people type them, identifiers in
one canonical form (studies.identifiers), PDFs checked by content."""

import re

from django import forms

from editorial.admin.entries import EntryAdminForm

from .identifiers import is_doi, is_pmid, normalise_doi, normalise_pmid
from .models import initials
from .validators import validate_pdf

# "Knapen MH": a family name and up to four capital initials, as PubMed writes them.
PUBMED_STYLE = re.compile(r"^(?P<family>.+?)\s+(?P<initials>[A-Z]{1,4})$")


def parse_author(line, number):
    """One line → {"family", "given"}; a ValidationError naming the line."""
    line = " ".join(line.split())
    if line.startswith("{") and line.endswith("}"):
        return {"family": line[1:-1].strip(), "given": ""}  # a group author, as BibTeX writes one
    if "," in line:
        family, _, given = (part.strip() for part in line.partition(","))
        if not family or not given or "," in given:
            raise forms.ValidationError(f"Line {number}: “{line}” — write “Family, Given”, one author per line.")
        return {"family": family, "given": given}
    match = PUBMED_STYLE.match(line)
    if match:
        return {"family": match["family"], "given": match["initials"]}
    if " " not in line:
        return {"family": line, "given": ""}
    raise forms.ValidationError(
        f"Line {number}: “{line}” — write “Family, Given” (Knapen, Marjo) or “Family Initials” "
        "(Knapen MH); a group author goes in braces: {EPIC Study Group}."
    )


class AuthorsField(forms.CharField):
    """The ordered author list as lines of text; stored as [{"family", "given"}]."""

    widget = forms.Textarea(attrs={"rows": 6, "cols": 60})

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "One author per line, in the paper's order: “Family, Given” (Knapen, Marjo H J) or, as PubMed "
            "writes them, “Family Initials” (Knapen MH). A group author in braces: {EPIC Study Group}.",
        )
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(_author_line(author) for author in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        lines = [line for line in (value or "").splitlines() if line.strip()]
        return [parse_author(line, number) for number, line in enumerate(lines, 1)]

    def has_changed(self, initial, data):
        return self.to_python(initial or []) != self._safe(data)

    def _safe(self, data):
        try:
            return self.to_python(data)
        except forms.ValidationError:
            return None


def _author_line(author):
    family, given = author.get("family", ""), author.get("given", "")
    if not given:
        return f"{{{family}}}" if " " in family else family
    if initials(given) == given:
        return f"{family} {given}"
    return f"{family}, {given}"


class StudyAdminForm(EntryAdminForm):
    authors = AuthorsField()

    def clean_doi(self):
        doi = normalise_doi(self.cleaned_data.get("doi"))
        if doi and not is_doi(doi):
            raise forms.ValidationError(
                f"“{doi}” is not a DOI: a DOI starts with 10. and has a /, e.g. 10.3390/nu13041222."
            )
        return doi

    def clean_pmid(self):
        pmid = normalise_pmid(self.cleaned_data.get("pmid"))
        if pmid and not is_pmid(pmid):
            raise forms.ValidationError(f"“{pmid}” is not a PubMed ID: digits only, e.g. 33919123.")
        return pmid

    def clean_pdf(self):
        upload = self.cleaned_data.get("pdf")
        # Only a new upload is checked; an unchanged field holds the stored file.
        if upload and hasattr(upload, "content_type"):
            validate_pdf(upload)
        return upload
