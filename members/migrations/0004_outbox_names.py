# The welcome mail outbox takes the names every outbox shares (core.outbox.Outbox):
# sent_at becomes done_at, and a mail refused for good is done too.

from django.db import migrations, models


def refused_are_done(apps, schema_editor):
    WelcomeMail = apps.get_model("members", "WelcomeMail")
    WelcomeMail.objects.filter(failed_at__isnull=False, done_at__isnull=True).update(
        done_at=models.F("failed_at")
    )


class Migration(migrations.Migration):
    dependencies = [("members", "0003_welcome_mail")]

    operations = [
        migrations.RemoveIndex("welcomemail", "welcome_mail_pending"),
        migrations.RenameField("welcomemail", "sent_at", "done_at"),
        migrations.AlterField(
            "welcomemail",
            "done_at",
            models.DateTimeField(blank=True, null=True, verbose_name="done at"),
        ),
        migrations.AddIndex(
            "welcomemail",
            models.Index(fields=["done_at", "id"], name="members_welcomemail_pending"),
        ),
        migrations.RunPython(refused_are_done, migrations.RunPython.noop),
    ]
