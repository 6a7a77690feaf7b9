"""The listing row carries a study's notice (retracted, corrected, expression of concern)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("k2site", "0009_tag_year_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="entry",
            name="notice",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No notice"),
                    ("retracted", "Retracted"),
                    ("corrected", "Corrected"),
                    ("concern", "Expression of concern"),
                ],
                max_length=16,
            ),
        ),
    ]
