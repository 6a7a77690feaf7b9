import pytest

from tests.factories import ArticleFactory, StudyFactory, TagFactory


@pytest.fixture
def tags():
    return (
        TagFactory(name="Vitamin K2", slug="vitamin-k2"),
        TagFactory(name="Bone", slug="bone"),
        TagFactory(name="Calcium", slug="calcium"),
    )


@pytest.fixture
def site(tags):
    """A few published entries of each kind, and drafts and a scheduled and
    an expired entry that must never show."""
    import datetime

    from django.utils import timezone

    k2, bone, calcium = tags
    now = timezone.now()
    return {
        "rct": StudyFactory(
            title="Menaquinone-7 and bone density",
            slug="mk7-bone",
            tags=[k2, bone],
            year=2013,
            month=3,
            journal="Osteoporosis International",
            abstract="Low-dose menaquinone-7 improved bone mineral density in postmenopausal women.",
            authors=[{"family": "Knapen", "given": "Marjo H J"}, {"family": "Drummen", "given": "Nadja E"}],
        ),
        "review": StudyFactory(
            title="Vitamin K and calcium – a review",
            slug="k-calcium-review",
            tags=[k2, bone, calcium],
            year=2017,
            month=10,
            study_type="review",
            journal="Nutrients",
            abstract="Warfarin and vascular calcification: what vitamin K2 does to arteries.",
        ),
        "old": StudyFactory(
            title="Natto intake and hip fractures",
            slug="natto-fractures",
            tags=[bone],
            year=2001,
            month=None,
            study_type="cohort",
            journal="Nutrition",
            abstract="Fermented soybeans rich in menaquinone-7.",
        ),
        "undated": StudyFactory(title="An undated case report", slug="undated", tags=[k2], year=None, month=None, study_type="case_report", journal="", abstract="A single patient."),
        "article": ArticleFactory(
            title="Vitamin K2 and circulatory system",
            slug="k2-circulation",
            tags=[k2, calcium],
            lead="How menaquinone keeps calcium out of arteries.",
            body="## Arteries\n\nMatrix Gla protein needs vitamin K2.",
        ),
        "draft": StudyFactory(title="Secret draft study about bone", slug="secret-draft", tags=[k2, bone], draft=True,
                              abstract="menaquinone bone warfarin"),
        "draft_article": ArticleFactory(title="Secret draft article about bone", slug="secret-draft-article", tags=[k2, bone], draft=True,
                                        body="menaquinone bone"),
        "scheduled": StudyFactory(title="Secret scheduled study", slug="secret-scheduled", tags=[k2, bone],
                                  publish_at=now + datetime.timedelta(days=3), abstract="menaquinone bone"),
        "expired": ArticleFactory(title="Secret expired article", slug="secret-expired", tags=[k2, bone],
                                  expire_at=now - datetime.timedelta(hours=1), body="menaquinone bone"),
    }


SECRETS = ["Secret", "secret-"]


def assert_no_secrets(content):
    text = content.decode() if isinstance(content, bytes) else content
    for marker in SECRETS:
        assert marker not in text
