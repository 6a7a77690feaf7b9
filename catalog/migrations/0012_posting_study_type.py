"""Each posting carries its entry's study design, beside its date, so a
design or year filter on a tag or intersection page is answered from the
posting index (issue 16: a faceted intersection read the entry of every
posting it skipped). Filled from the entries in one statement; the index is
built after the copy, not kept up during it."""

from django.db import migrations, models


def copy_study_types(apps, schema_editor):
    schema_editor.execute(
        "UPDATE k2site_entrytag SET study_type = k2site_entry.study_type "
        "FROM k2site_entry WHERE k2site_entry.id = k2site_entrytag.entry_id AND k2site_entry.study_type <> ''"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("k2site", "0011_entry_published_at_index"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="entrytag", name="entrytag_tag_date_idx"),
        migrations.AddField(
            model_name="entrytag",
            name="study_type",
            field=models.CharField(blank=True, default="", max_length=20),
        ),
        migrations.RunPython(copy_study_types, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="entrytag",
            index=models.Index(
                fields=["tag", "-sort_date", "-entry"],
                include=("id", "inherited", "study_type"),
                name="entrytag_tag_date_idx",
            ),
        ),
    ]
