import datetime

import factory
from django.utils import timezone

from articles.models import Article
from catalog.models import Status, Tag
from studies.models import Study, StudyType


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.LazyAttribute(lambda tag: tag.name.lower().replace(" ", "-"))


class PublishableFactory(factory.django.DjangoModelFactory):
    status = Status.PUBLISHED
    publish_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)

    class Params:
        draft = factory.Trait(status=Status.DRAFT, publish_at=None)


class StudyFactory(PublishableFactory):
    class Meta:
        model = Study
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Vitamin K2 study number {n}")
    slug = factory.Sequence(lambda n: f"study-{n}")
    authors = factory.LazyFunction(
        lambda: [{"family": "Schurgers", "given": "Leon J"}, {"family": "Vermeer", "given": "Cees"}]
    )
    journal = "Nutrients"
    year = 2020
    month = 5
    volume = "12"
    issue = "3"
    pages = "100-110"
    study_type = StudyType.RCT
    abstract = "Menaquinone-7 supplementation and arterial stiffness."


class ArticleFactory(PublishableFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Explainer number {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    lead = "What the studies say."
    body = "## First section\n\nText.\n\n## Second section\n\nMore text."
    first_published_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=2))
