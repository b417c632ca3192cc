from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("curation", "0014_phi_findings_and_scans"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="interruptions",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="release",
            name="restarts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
