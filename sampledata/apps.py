from django.apps import AppConfig


class SampledataConfig(AppConfig):
    """The load_demo and seed_bench commands."""

    name = "sampledata"
