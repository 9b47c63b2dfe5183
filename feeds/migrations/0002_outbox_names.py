# The fan-out outbox takes the names every outbox shares (core.outbox.Outbox).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("feeds", "0001_initial")]

    operations = [
        migrations.RenameField("fanoutjob", "sent_at", "queued_at"),
        migrations.AlterField(
            "fanoutjob",
            "queued_at",
            models.DateTimeField(blank=True, null=True, verbose_name="last queued at"),
        ),
        migrations.RenameIndex(
            "fanoutjob", new_name="feeds_fanoutjob_pending", old_name="fanout_job_pending"
        ),
    ]
