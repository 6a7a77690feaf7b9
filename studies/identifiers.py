"""A paper's identifiers, one canonical form wherever they enter (the admin
form, every import format, fill-from-DOI): so a DOI typed with its prefix and
the same DOI in a reference file are one study, and its link is right."""

import re

DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE)
PMID_PREFIX = re.compile(r"^(?:pmid:?\s*|https?://pubmed\.ncbi\.nlm\.nih\.gov/)", re.IGNORECASE)
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
PMID = re.compile(r"^\d{1,10}$")


def normalise_doi(value):
    """'https://doi.org/10.3390/NU13041222', 'doi: 10.3390/nu13041222 ' → '10.3390/nu13041222'
    (DOIs are case-insensitive; spaces never belong in one)."""
    doi = DOI_PREFIX.sub("", (value or "").strip()).strip()
    return re.sub(r"\s+", "", doi).lower()


def normalise_pmid(value):
    """'PMID: 33919123', 'https://pubmed.ncbi.nlm.nih.gov/33919123/' → '33919123'."""
    return PMID_PREFIX.sub("", (value or "").strip()).strip().strip("/").strip()


def is_doi(value):
    return bool(DOI.match(value))


def is_pmid(value):
    return bool(PMID.match(value))
