"""A study's retraction, correction or expression of concern (issue 14).

Adding NOT NULL columns makes Django rebuild studies_study on SQLite
(_remake_table), which drops the full-text search triggers of studies 0008:
they are created again after the new columns, and again after the columns
go when migrating back.
"""

from importlib import import_module

from django.db import migrations, models

search = import_module("studies.migrations.0008_search_index_and_words")
TRIGGER_NAMES = ["studies_study_search_insert", "studies_study_search_delete", "studies_study_search_update"]


def recreate_search_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in TRIGGER_NAMES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
    for statement in search.TRIGGERS:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("studies", "0008_search_index_and_words"),
    ]

    operations = [
        # Migrating back: the columns go (a rebuild on SQLite), then this puts the triggers back.
        migrations.RunPython(migrations.RunPython.noop, recreate_search_triggers, elidable=False),
        migrations.AddField(
            model_name="historicalstudy",
            name="notice",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No notice"),
                    ("retracted", "Retracted"),
                    ("corrected", "Corrected"),
                    ("concern", "Expression of concern"),
                ],
                help_text="Retracted, corrected (an erratum or correction was published) or under an expression of concern.",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="historicalstudy",
            name="notice_citation",
            field=models.TextField(
                blank=True,
                help_text="The notice as PubMed cites it, e.g. “Retraction in: J Nutr. 2021;151(3):700. doi: 10.1093/jn/nxab001. PMID: 33000001.”",
                verbose_name="notice's citation",
            ),
        ),
        migrations.AddField(
            model_name="historicalstudy",
            name="notice_url",
            field=models.URLField(
                blank=True,
                help_text="Where the notice is, e.g. https://doi.org/10.1093/…",
                max_length=500,
                verbose_name="notice's link",
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="notice",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No notice"),
                    ("retracted", "Retracted"),
                    ("corrected", "Corrected"),
                    ("concern", "Expression of concern"),
                ],
                help_text="Retracted, corrected (an erratum or correction was published) or under an expression of concern.",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="notice_citation",
            field=models.TextField(
                blank=True,
                help_text="The notice as PubMed cites it, e.g. “Retraction in: J Nutr. 2021;151(3):700. doi: 10.1093/jn/nxab001. PMID: 33000001.”",
                verbose_name="notice's citation",
            ),
        ),
        migrations.AddField(
            model_name="study",
            name="notice_url",
            field=models.URLField(
                blank=True,
                help_text="Where the notice is, e.g. https://doi.org/10.1093/…",
                max_length=500,
                verbose_name="notice's link",
            ),
        ),
        migrations.AddIndex(
            model_name="study",
            index=models.Index(
                condition=models.Q(("notice", ""), _negated=True), fields=["notice"], name="study_notice_idx"
            ),
        ),
        migrations.RunPython(recreate_search_triggers, migrations.RunPython.noop, elidable=False),
    ]
