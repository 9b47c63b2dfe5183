# The pulled authors get a table of their own (feeds.models.PullAuthor); those over
# the limit now were pulled already, so their rows start settled.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def pulled_already(apps, schema_editor):
    FollowCount = apps.get_model("follows", "FollowCount")
    PullAuthor = apps.get_model("feeds", "PullAuthor")
    over = FollowCount.objects.filter(followers__gt=settings.FEED_FANOUT_LIMIT)
    now = timezone.now()
    PullAuthor.objects.bulk_create(
        [PullAuthor(member_id=m, pulled_from=now) for m in over.values_list("member_id", flat=True)]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0002_outbox_names"),
        ("members", "0004_outbox_names"),
        ("posts", "0002_visible_contents"),
        ("follows", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="PullAuthor",
            fields=[
                (
                    "member",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="author",
                    ),
                ),
                ("pulled_from", models.DateTimeField(verbose_name="pulled from")),
                (
                    "pushback_job_id",
                    models.BigIntegerField(blank=True, null=True, verbose_name="push-back job"),
                ),
            ],
            options={
                "verbose_name": "pulled author",
                "verbose_name_plural": "pulled authors",
            },
        ),
        migrations.RemoveConstraint(
            model_name="fanoutjob",
            name="fanout_job_kind_fields",
        ),
        migrations.AlterField(
            model_name="fanoutjob",
            name="kind",
            field=models.CharField(
                choices=[
                    ("post", "a new post into its author's followers' feeds"),
                    ("follow", "a followee's recent posts into a new follower's feed"),
                    ("refill", "a feed topped up after an unfollow emptied part of it"),
                    ("pushback", "an author back under the limit: their posts into every feed"),
                ],
                max_length=8,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="fanoutjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "post"), ("post__isnull", False)),
                    models.Q(("kind__in", ["follow", "refill"]), ("member_id__isnull", False)),
                    ("kind", "pushback"),
                    _connector="OR",
                ),
                name="fanout_job_kind_fields",
            ),
        ),
        migrations.RunPython(pulled_already, migrations.RunPython.noop),
    ]
