# Accounts a member can manage: the welcome mail outbox becomes the one outbound mail
# outbox (a kind, and the site a link points to), a member's removal is an outbox of its
# own, and the session generation lets a member log out everywhere.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("members", "0004_outbox_names")]

    operations = [
        migrations.AddField(
            model_name="member",
            name="session_generation",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, verbose_name="session generation"
            ),
        ),
        migrations.RenameModel("WelcomeMail", "OutboundMail"),
        migrations.RenameIndex(
            "outboundmail",
            new_name="members_outboundmail_pending",
            old_name="members_welcomemail_pending",
        ),
        migrations.AlterModelOptions(
            name="outboundmail",
            options={"verbose_name": "outbound email", "verbose_name_plural": "outbound emails"},
        ),
        migrations.AddField(
            model_name="outboundmail",
            name="kind",
            field=models.CharField(
                choices=[("welcome", "welcome"), ("reset", "password reset")],
                db_default="welcome",
                default="welcome",
                max_length=8,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="outboundmail",
            name="site",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="site"
            ),
        ),
        migrations.AddConstraint(
            model_name="outboundmail",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "reset"), ("site", ""), _negated=True),
                name="outbound_mail_reset_has_site",
            ),
        ),
        migrations.CreateModel(
            name="MemberRemoval",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="created at"
                    ),
                ),
                (
                    "queued_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last queued at"),
                ),
                ("done_at", models.DateTimeField(blank=True, null=True, verbose_name="done at")),
                ("member_id", models.BigIntegerField(db_index=True, verbose_name="member")),
            ],
            options={
                "verbose_name": "member removal",
                "verbose_name_plural": "member removals",
                "abstract": False,
                "indexes": [
                    models.Index(fields=["done_at", "id"], name="members_memberremoval_pending")
                ],
            },
        ),
    ]
