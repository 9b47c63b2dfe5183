# Each feed's floor (feeds.models.FeedFloor): how far down it is whole. A feed that
# exists now may have been trimmed, so it starts whole from its oldest entry up
# (`rebuild_feeds` makes each exact).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def whole_above_their_oldest(apps, schema_editor):
    FeedEntry = apps.get_model("feeds", "FeedEntry")
    FeedFloor = apps.get_model("feeds", "FeedFloor")
    oldest = FeedEntry.objects.order_by().values("owner_id").annotate(first=models.Min("post_id"))
    FeedFloor.objects.bulk_create(
        [FeedFloor(owner_id=row["owner_id"], post_id=row["first"] - 1) for row in oldest.iterator()],
        batch_size=5_000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feeds", "0003_pull_authors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedFloor",
            fields=[
                (
                    "owner",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
                ("post_id", models.BigIntegerField(verbose_name="whole above post")),
            ],
            options={"verbose_name": "feed floor", "verbose_name_plural": "feed floors"},
        ),
        migrations.RunPython(whole_above_their_oldest, migrations.RunPython.noop),
    ]
