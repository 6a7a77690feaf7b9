"""Fill from DOI or PMID: Crossref and PubMed answers as they really come
(recorded responses replayed by a local HTTP server; tests/studies/samples/
lookup/SOURCES.md says where each came from), and every way a lookup fails
explained to the editor — never a 500, never a request to the internet."""

import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from studies.forms import AuthorsField
from studies.lookup import LookupFailed, lookup
from studies.models import Study
from tests.browser import browser  # noqa: F401  (fixture)
from tests.conftest import PASSWORD, make_user
from tests.editorial.test_browser_workflow import log_in

SAMPLES = Path(__file__).parent / "samples" / "lookup"
LOOKUP_URL = "/admin/studies/study/lookup/"
SLOW_SECONDS = 2.0
TIMEOUT = 0.3


def sample(name):
    return (SAMPLES / name).read_bytes()


# DOI → (status, content type, body): Crossref's answers, recorded.
CROSSREF = {
    "10.1136/jclinpath-2020-206745": (200, "application/json", "crossref-10.1136-jclinpath-2020-206745.json"),
    "10.1002/jor.1100150407": (200, "application/json", "crossref-10.1002-jor.1100150407.json"),
}
# PMID → file: PubMed efetch answers, recorded (one answers for two PMIDs).
PUBMED = {
    "28731372": "pubmed-28731372.xml",
    "11748933": "pubmed-11748933-11700088.xml",
    "11700088": "pubmed-11748933-11700088.xml",
    "24794070": "pubmed-24794070.xml",
    "20301577": "pubmed-20301577-book-chapter.xml",
    "37909814": "pubmed-37909814-empty.xml",
}
# Identifiers the server answers badly, on purpose.
GARBAGE_DOI = "10.9999/garbage"
SLOW_DOI = "10.9999/slow"
BUSY_DOI = "10.9999/busy"
CUT_DOI = "10.9999/cut"
BROKEN_PMID = "99999901"


class Replay(BaseHTTPRequestHandler):
    """Crossref under /crossref, E-utilities under /eutils."""

    def do_GET(self):
        self.server.requests.append({"path": self.path, "user_agent": self.headers.get("User-Agent", "")})
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/crossref/works/"):
            self.crossref(urllib.parse.unquote(url.path[len("/crossref/works/") :]))
        elif url.path == "/eutils/efetch.fcgi":
            self.pubmed(urllib.parse.parse_qs(url.query).get("id", [""])[0])
        else:
            self.answer(404, "text/plain", b"Not here.")

    def crossref(self, doi):
        if doi == SLOW_DOI:
            time.sleep(SLOW_SECONDS)
            self.answer(200, "application/json", sample(CROSSREF["10.1002/jor.1100150407"][2]))
        elif doi == GARBAGE_DOI:
            # What a captive portal or a proxy's error page looks like.
            self.answer(200, "text/html", b"<html><body><h1>Welcome to the hotel Wi-Fi</h1></body></html>")
        elif doi == CUT_DOI:
            # Promises more than it sends, then hangs up.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(sample(CROSSREF["10.1002/jor.1100150407"][2])[:100])
            self.close_connection = True
        elif doi == BUSY_DOI:
            self.answer(503, "text/html", b"<html><body>Service Unavailable</body></html>")
        elif doi in CROSSREF:
            status, kind, name = CROSSREF[doi]
            self.answer(status, kind, sample(name))
        else:
            # Crossref's own answer for a DOI it doesn't know (recorded).
            self.answer(404, "text/plain", sample("crossref-404-notarealdoi.txt"))

    def pubmed(self, pmid):
        if pmid == BROKEN_PMID:
            whole = sample("pubmed-28731372.xml")
            self.answer(200, "text/xml", whole[: len(whole) // 2])  # cut off mid-answer
        elif pmid in PUBMED:
            self.answer(200, "text/xml; charset=UTF-8", sample(PUBMED[pmid]))
        else:
            self.answer(200, "text/xml; charset=UTF-8", sample("pubmed-37909814-empty.xml"))

    def answer(self, status, kind, body):
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up waiting (the time-out test)

    def log_message(self, *args):
        pass


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass


@pytest.fixture
def replay():
    server = ReplayServer(("127.0.0.1", 0), Replay)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def closed_port_url():
    """A local address nothing listens on: a connection is refused, as with no network."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def services(settings, replay):
    """Both services point at the replay server: nothing reaches the internet."""
    settings.CROSSREF_API_URL = replay.url + "/crossref"
    settings.PUBMED_EUTILS_URL = replay.url + "/eutils"
    settings.LOOKUP_TIMEOUT = TIMEOUT
    settings.SITE_NAME = "K2 Site"
    settings.DEFAULT_FROM_EMAIL = "K2 Editors <editors@k2.example.org>"
    return replay


# -- what a lookup finds ------------------------------------------------------------------------


def test_a_doi_fills_from_crossref(services):
    fields = lookup("https://doi.org/10.1136/JCLINPATH-2020-206745 ")

    title = (
        "Construction of a reference material panel for detecting KRAS / NRAS / EGFR / BRAF / MET mutations in "
        "plasma ctDNA"
    )
    assert fields["paper_title"] == fields["title"] == title  # <i> markup gone
    assert len(fields["authors"]) == 15
    assert fields["authors"][:3] == [
        {"family": "Xu", "given": "Jun"},
        {"family": "Qu", "given": "Shoufang"},
        {"family": "Sun", "given": "Nan"},
    ]
    assert fields["authors"][-1] == {"family": "Huang", "given": "Jie"}
    # The print date (May 2021), not the earlier online one (Aug 2020).
    assert (fields["journal"], fields["year"], fields["month"]) == ("Journal of Clinical Pathology", 2021, 5)
    assert (fields["volume"], fields["issue"], fields["pages"]) == ("74", "5", "314-320")
    assert fields["doi"] == "10.1136/jclinpath-2020-206745"
    # JATS sections as paragraphs, no markup left.
    paragraphs = fields["abstract"].split("\n\n")
    assert paragraphs[:2] == [
        "Background",
        "The absence of high-quality next-generation sequencing (NGS) reference material (RM) has impeded the "
        "clinical use of liquid biopsies with plasma cell-free DNA (cfDNA) in China.",
    ]
    assert "Objective" in paragraphs and "Methods" in paragraphs
    assert "<" not in fields["abstract"] and "jats" not in fields["abstract"]
    # A journal article says nothing of the kind of study: the editor decides.
    assert "study_type" not in fields and "pmid" not in fields

    # One request, to the works endpoint, saying who asks (Crossref's etiquette).
    (request,) = services.requests
    assert request["path"] == "/crossref/works/10.1136/jclinpath-2020-206745"
    assert request["user_agent"] == "K2 Site (mailto:editors@k2.example.org)"


def test_a_crossref_abstract_loses_its_heading_and_entities(services):
    fields = lookup("doi:10.1002/jor.1100150407")
    assert fields["abstract"].startswith("Twenty‐two beagles were divided into two equal groups")
    assert "(p < 0.001)" in fields["abstract"] and "&lt;" not in fields["abstract"]
    assert "\n" not in fields["abstract"]  # one paragraph
    assert (fields["year"], fields["month"], fields["pages"]) == (1997, 7, "519-527")
    assert fields["authors"][0] == {"family": "Lieber", "given": "Richard L."}


def test_a_pmid_fills_from_pubmed_with_labelled_sections(services):
    fields = lookup("PMID: 28731372")

    assert fields["title"] == (
        "Exploring the effect of vitamin D3 supplementation on the anti-EBV antibody response in "
        "relapsing-remitting multiple sclerosis."
    )
    assert fields["authors"][:4] == [
        {"family": "Rolf", "given": "Linda"},
        {"family": "Muris", "given": "Anne-Hilde"},
        {"family": "Mathias", "given": "Amandine"},
        {"family": "Du Pasquier", "given": "Renaud"},
    ]
    assert len(fields["authors"]) == 11
    assert fields["journal"] == "Multiple sclerosis (Houndmills, Basingstoke, England)"
    assert (fields["year"], fields["month"], fields["volume"], fields["issue"]) == (2018, 9, "24", "10")
    assert fields["pages"] == "1280-1287"
    # The paper's own DOI, not one of its references' identifiers.
    assert (fields["doi"], fields["pmid"]) == ("10.1177/1352458517722646", "28731372")
    assert fields["study_type"] == "rct"  # PublicationType "Randomized Controlled Trial"
    sections = fields["abstract"].split("\n\n")
    assert [section.split(":")[0] for section in sections] == [
        "BACKGROUND",
        "OBJECTIVES",
        "METHODS",
        "RESULTS",
        "CONCLUSION",
    ]
    assert sections[1].startswith("OBJECTIVES: To investigate the effect of high-dose vitamin D3 supplements")
    assert "<sub>" not in fields["abstract"]

    (request,) = services.requests
    path, _, query = request["path"].partition("?")
    assert path == "/eutils/efetch.fcgi"
    assert urllib.parse.parse_qs(query) == {
        "db": ["pubmed"],
        "id": ["28731372"],
        "retmode": ["xml"],
        "tool": ["K2-Site"],
        "email": ["editors@k2.example.org"],
    }
    assert request["user_agent"] == "K2 Site (mailto:editors@k2.example.org)"


def test_pubmed_short_page_ranges_are_expanded_and_initials_kept(services):
    # One efetch answer holding two articles: each PMID finds its own.
    first = lookup("11748933")
    assert first["pages"] == "244-255"  # MedlinePgn "244-55"
    assert first["authors"][:2] == [{"family": "Taddei", "given": "AR"}, {"family": "Barbato", "given": "F"}]
    assert first["authors"][5:7] == [{"family": "Rana", "given": "KJ"}, {"family": "Fausto", "given": "AM"}]
    assert (first["journal"], first["year"], first["month"]) == ("Cryobiology", 2001, 6)
    assert first["doi"] == "10.1006/cryo.2001.2328"
    assert "study_type" not in first  # "Journal Article", "Research Support, Non-U.S. Gov't"

    second = lookup("11700088")
    assert second["pages"] == "117-123"
    assert second["authors"][-1] == {"family": "De Luca", "given": "F"}
    assert (second["year"], second["month"], second["doi"]) == (2001, 11, "10.1006/jmre.2001.2429")

    review = lookup("https://pubmed.ncbi.nlm.nih.gov/24794070/")
    assert (review["pages"], review["study_type"], review["year"]) == ("264-296", "review", 2014)
    assert "month" not in review  # PubDate has the year only
    assert review["authors"][2] == {"family": "Mahalaxmi", "given": "M"}


def test_a_pubmed_bookshelf_chapter_is_a_chapter_of_its_book(services):
    fields = lookup("20301577")
    assert fields["title"] == "CACNA1C-Related Disorders"
    assert (fields["journal"], fields["publisher"]) == ("GeneReviews®", "University of Washington, Seattle")
    # The chapter's authors, not the book's editors; its own date, not the book's (1993).
    assert fields["authors"] == [{"family": "Napolitano", "given": "Carlo"}, {"family": "Priori", "given": "Silvia G"}]
    assert (fields["year"], fields["month"]) == (2006, 2)
    assert fields["abstract"].startswith("CLINICAL CHARACTERISTICS: The clinical manifestations of CACNA1C-related")


def test_authors_go_into_the_form_as_lines_it_reads_back(editor, login):
    answer = login(editor).get(LOOKUP_URL, {"id": "11748933"})
    assert answer.status_code == 200
    data = answer.json()
    assert data["source"] == "PubMed"
    lines = data["fields"]["authors"]
    assert lines.splitlines()[:2] == ["Taddei AR", "Barbato F"]
    assert AuthorsField().clean(lines) == lookup("11748933")["authors"]
    assert (data["fields"]["month"], data["fields"]["year"], data["fields"]["pages"]) == ("6", "2001", "244-255")

    crossref = login(editor).get(LOOKUP_URL, {"id": "10.1136/jclinpath-2020-206745"}).json()
    assert crossref["source"] == "Crossref"
    assert crossref["fields"]["authors"].splitlines()[:2] == ["Xu, Jun", "Qu, Shoufang"]


# -- when it fails -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "status", "message"),
    [
        ("10.1371/notarealdoi", 404, "Crossref has no record of the DOI 10.1371/notarealdoi."),
        ("37909814", 404, "PubMed has no record with the PMID 37909814."),
        (GARBAGE_DOI, 502, "Crossref answered something that can't be read."),
        (BROKEN_PMID, 502, "PubMed answered something that can't be read."),
        (CUT_DOI, 502, "Crossref answered something that can't be read."),
        (BUSY_DOI, 502, "Crossref is not answering properly right now (HTTP 503)."),
        (SLOW_DOI, 504, "Crossref did not answer within 0.3 seconds."),
        ("bone density", 400, "“bone density” is neither a DOI"),
        ("", 400, "Type a DOI or a PubMed ID first."),
    ],
)
def test_a_failed_lookup_says_why(editor, login, identifier, status, message):
    started = time.monotonic()
    answer = login(editor).get(LOOKUP_URL, {"id": identifier})
    assert answer.status_code == status
    assert answer["Content-Type"] == "application/json"
    assert message in answer.json()["error"]
    assert "fields" not in answer.json()
    assert time.monotonic() - started < SLOW_SECONDS  # the time limit holds

    with pytest.raises(LookupFailed) as failure:
        lookup(identifier)
    assert failure.value.status == status and message in failure.value.message


@pytest.mark.parametrize(
    ("identifier", "service"), [("10.1136/jclinpath-2020-206745", "Crossref"), ("28731372", "PubMed")]
)
def test_no_network_says_so(settings, editor, login, identifier, service):
    settings.CROSSREF_API_URL = closed_port_url()
    settings.PUBMED_EUTILS_URL = closed_port_url()
    answer = login(editor).get(LOOKUP_URL, {"id": identifier})
    assert answer.status_code == 502
    assert answer.json()["error"].startswith(f"No network: {service} could not be reached.")


# -- who may ask ---------------------------------------------------------------------------------


def test_only_staff_who_may_add_or_change_studies_may_ask(db, login, editor, services):
    url = f"{LOOKUP_URL}?id=10.1136/jclinpath-2020-206745"
    anonymous = login(None).get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")

    visitor = User.objects.create_user("vera", email="vera@example.org", is_staff=False)
    not_staff = login(visitor).get(url)
    assert not_staff.status_code == 302 and not_staff["Location"].startswith("/admin/login/")

    staff_without_rights = make_user("sam")  # staff, in no group
    refused = login(staff_without_rights).get(url)
    assert refused.status_code == 403 and refused.json() == {"error": "You may not add or change studies."}
    assert services.requests == []  # none of them reached Crossref

    assert login(editor).post(url).status_code in (403, 405)  # GET only (POST: CSRF or 405)
    assert login(editor).get(url).status_code == 200


def test_the_form_loads_the_script(editor, login):
    page = login(editor).get("/admin/studies/study/add/")
    assert b"k2site/admin/fill_from_identifier" in page.content


# -- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_editor_fills_a_study_from_its_doi(live_server, browser, settings):  # noqa: F811
    from playwright.sync_api import expect

    settings.LOOKUP_TIMEOUT = 5  # the live server is slower than the test client
    make_user("edith", "Editors", password=PASSWORD)
    base = live_server.url
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, "edith")
    page.goto(base + "/admin/studies/study/add/")

    # The editor types a headline of their own and the DOI as copied.
    page.fill("#id_title", "Reference material for ctDNA tests")
    page.fill("#id_volume", "74")  # the same as Crossref's: not asked about
    page.fill("#id_doi", "https://doi.org/10.1136/JCLINPATH-2020-206745")
    dialogs, answers = [], ["dismiss", "accept"]

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        getattr(dialog, answers.pop(0))()

    page.on("dialog", on_dialog)
    status = page.locator("#fill-from-identifier-status")
    button = page.get_by_role("button", name="Fill from DOI or PMID")

    button.click()
    expect(status).to_contain_text("Filled from Crossref")
    expect(status).to_contain_text("Kept what you typed: Title.")
    assert len(dialogs) == 1
    assert "Title: “Reference material for ctDNA tests” → “Construction of a reference material" in dialogs[0]
    assert "Volume" not in dialogs[0]
    # The empty fields are filled; the typed title is kept.
    assert page.input_value("#id_title") == "Reference material for ctDNA tests"
    assert page.input_value("#id_paper_title").startswith("Construction of a reference material panel")
    assert page.input_value("#id_journal") == "Journal of Clinical Pathology"
    assert page.input_value("#id_year") == "2021"
    assert page.input_value("#id_month") == "5"
    assert (page.input_value("#id_issue"), page.input_value("#id_pages")) == ("5", "314-320")
    assert page.input_value("#id_authors").splitlines()[:3] == ["Xu, Jun", "Qu, Shoufang", "Sun, Nan"]
    assert page.input_value("#id_abstract").startswith("Background\n\nThe absence of high-quality")
    assert page.input_value("#id_doi") == "10.1136/jclinpath-2020-206745"  # the same DOI, canonical

    # Asked again, the editor lets Crossref's title replace theirs.
    button.click()
    expect(status).to_contain_text("Replaced: Title.")
    assert len(dialogs) == 2 and "Title:" in dialogs[1] and "Journal" not in dialogs[1]
    assert page.input_value("#id_title").startswith("Construction of a reference material panel")

    # A DOI Crossref doesn't know: the message shows, nothing changes.
    page.fill("#id_doi", "10.1371/notarealdoi")
    button.click()
    expect(status).to_contain_text("Crossref has no record of the DOI 10.1371/notarealdoi.")
    assert page.input_value("#id_journal") == "Journal of Clinical Pathology"
    assert len(dialogs) == 2

    # The filled form saves as it is.
    page.fill("#id_doi", "10.1136/jclinpath-2020-206745")
    page.fill("#id_slug", "reference-material-ctdna")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    page.wait_for_load_state("networkidle")
    context.close()  # no request of the page's left running in the live server
    study = Study.objects.get(slug="reference-material-ctdna")
    assert (study.year, study.month, study.pages, study.doi) == (2021, 5, "314-320", "10.1136/jclinpath-2020-206745")
    assert study.authors[0] == {"family": "Xu", "given": "Jun"} and len(study.authors) == 15
