"""Which existing study a record is: the same DOI, else the same PMID, else
the same normalised title and year, unless their DOIs or PMIDs differ. Also
the repeats within one file."""

from django.db import connection
from django.db.models.fields.json import KeyTextTransform

from studies.models import Study

from .formats import title_key


class Candidate:
    """A study found by DOI or PMID, as far as matching and deciding whether a
    record brings anything new read it (the importer loads the study when it
    does): most of a re-import's time went on reading whole studies it then
    left alone, and then on making model instances of the rest."""

    __slots__ = ("doi", "import_digest", "pk", "pmid", "status", "title")

    def __init__(self, pk, doi, pmid, title, status, import_digest):
        self.pk, self.doi, self.pmid, self.title, self.status = pk, doi, pmid, title, status
        self.import_digest = import_digest


def _light(studies):
    """A Candidate's columns, in its order."""
    return (
        studies.annotate(import_digest=KeyTextTransform("digest", "import_record"))
        .order_by()
        .values_list("pk", "doi", "pmid", "title", "status", "import_digest")
    )


# _light(…by_doi).union(_light(…by_pmid)) on PostgreSQL, with arrays.
LIGHT_BY_IDENTIFIERS = """
    SELECT id, doi, pmid, title, status, import_record ->> 'digest' AS import_digest
      FROM studies_study WHERE doi = ANY(%s) AND doi <> ''
    UNION ALL
    SELECT id, doi, pmid, title, status, import_record ->> 'digest' AS import_digest
      FROM studies_study WHERE pmid = ANY(%s) AND pmid <> '' AND NOT doi = ANY(%s)
"""


def conflicts(a, b):
    """Two identifiers that are both known and differ."""
    return bool(a and b and a != b)


class Matcher:
    """Matching state carried across the batches of one import."""

    def __init__(self):
        # Identifiers seen earlier in this file: doi/pmid → record number,
        # (title key, year) → [(record number, doi, pmid)].
        self.seen_doi, self.seen_pmid, self.seen_title = {}, {}, {}
        self.matched_studies = {}  # study id → record number
        self._title_index = None

    def earlier_in_file(self, record):
        """(record number, "DOI"/"PMID"/"title and year") of an earlier
        record of this file that is the same paper, or None (and remember
        this one)."""
        fields = record.fields
        if fields["doi"] and fields["doi"] in self.seen_doi:
            return self.seen_doi[fields["doi"]], "DOI"
        if fields["pmid"] and fields["pmid"] in self.seen_pmid:
            return self.seen_pmid[fields["pmid"]], "PMID"
        for number, doi, pmid in self.seen_title.get((record.title_key, fields["year"]), ()):
            if not conflicts(doi, fields["doi"]) and not conflicts(pmid, fields["pmid"]):
                return number, "title and year"
        if fields["doi"]:
            self.seen_doi[fields["doi"]] = record.number
        if fields["pmid"]:
            self.seen_pmid[fields["pmid"]] = record.number
        self.seen_title.setdefault((record.title_key, fields["year"]), []).append(
            (record.number, fields["doi"], fields["pmid"])
        )
        return None

    def match(self, records):
        """{record number: Study (a Candidate when found by DOI or PMID), or a
        message when the record conflicts}; unmatched records are absent."""
        dois = [r.fields["doi"] for r in records if r.fields["doi"]]
        pmids = [r.fields["pmid"] for r in records if r.fields["pmid"]]
        by_doi, by_pmid = {}, {}
        if dois or pmids:
            for study in self._by_identifiers(dois, pmids):
                if study.doi:
                    by_doi[study.doi] = study
                if study.pmid:
                    by_pmid[study.pmid] = study
        matches, by_title = {}, {}
        for record in records:
            doi, pmid = record.fields["doi"], record.fields["pmid"]
            study = by_doi.get(doi) if doi else None
            if study is None and pmid:
                study = by_pmid.get(pmid)
            if study is not None:
                owner = by_pmid.get(pmid) if pmid else None
                if owner is not None and owner.pk != study.pk:
                    matches[record.number] = (
                        f"its DOI is study {study.pk} (“{study.title[:60]}”) but its PMID {pmid} is "
                        f"study {owner.pk} (“{owner.title[:60]}”)."
                    )
                else:
                    matches[record.number] = study
            else:
                by_title[record.number] = record
        if by_title:
            self._match_titles(by_title, matches)
        for number, study in list(matches.items()):
            if not isinstance(study, str):
                if study.pk in self.matched_studies:
                    matches[number] = (
                        f"it matches study {study.pk} (“{study.title[:60]}”), which record "
                        f"{self.matched_studies[study.pk]} already matched."
                    )
                else:
                    self.matched_studies[study.pk] = number
        return matches

    @staticmethod
    def _by_identifiers(dois, pmids):
        """The studies with one of ``dois`` or ``pmids``, in one query: a UNION
        of one lookup per identifier, each naming its unique index's condition
        (``<> ''``) so the partial index serves it. An OR of the two lists is
        planned as a scan of the whole table when statistics are missing (a
        fresh table, rows written earlier in this import's transaction): one
        scan per batch."""
        if connection.vendor == "postgresql":
            # Each list as one array: building and quoting IN lists of
            # 2,000 values took Django longer than the query took the server.
            with connection.cursor() as cursor:
                cursor.execute(LIGHT_BY_IDENTIFIERS, [dois, pmids, dois])
                rows = cursor.fetchall()
        else:
            by_doi = Study.objects.filter(doi__in=dois).exclude(doi="")
            # Each study once: the PMID lookup leaves out those the DOI lookup finds.
            by_pmid = Study.objects.filter(pmid__in=pmids).exclude(pmid="").exclude(doi__in=dois)
            rows = _light(by_doi).union(_light(by_pmid), all=True)
        return [Candidate(*row) for row in rows]

    def _match_titles(self, records, matches):
        index = self._titles()
        wanted = {}
        for number, record in records.items():
            key = hash((record.title_key, record.fields["year"]))
            if key in index:
                wanted[number] = index[key]
        if not wanted:
            return
        ids = {pk for pks in wanted.values() for pk in pks}
        candidates = Study.objects.in_bulk(ids)
        for number, pks in wanted.items():
            record = records[number]
            for pk in pks:
                study = candidates.get(pk)
                if (
                    study is not None
                    and title_key(study.citation_title) == record.title_key
                    and study.year == record.fields["year"]
                    and not conflicts(study.doi, record.fields["doi"])
                    and not conflicts(study.pmid, record.fields["pmid"])
                ):
                    matches[number] = study
                    break

    def _titles(self):
        """hash((title key, year)) → [study ids], built once per import on first
        need: title matching can't use an index (the key is computed), and one
        pass over the studies costs less than a scan per batch. About 100 bytes
        per existing study."""
        if self._title_index is None:
            index = {}
            rows = Study.objects.values_list("pk", "paper_title", "title", "year")
            for pk, paper_title, title, year in rows.iterator(chunk_size=5000):
                index.setdefault(hash((title_key(paper_title or title), year)), []).append(pk)
            self._title_index = index
        return self._title_index
