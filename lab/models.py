"""The like lab's scratch tables: one counter, its likes, its slots.

The lab owns these rows and resets them before every run. Member and counter
ids are plain integers, not foreign keys: the lab needs no members, and a
foreign key's shared lock on the counter row would be a lesson of its own.
"""

from django.db import models


class LabCounter(models.Model):
    likes = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=0)  # the optimistic lock's check

    def __str__(self) -> str:
        return f"counter {self.pk}: {self.likes}"


class LabLike(models.Model):
    counter_id = models.BigIntegerField()
    member_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    # The buffered strategy: a like not yet added to the counter (the flush adds it).
    pending = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["counter_id", "member_id"], name="lab_like_once"),
        ]
        indexes = [models.Index(fields=["counter_id", "pending"], name="lab_like_pending")]

    def __str__(self) -> str:
        return f"member {self.member_id} likes counter {self.counter_id}"


class LabCounterSlot(models.Model):
    """One of the counter's shards: the count is the sum over its slots."""

    counter_id = models.BigIntegerField()
    slot = models.SmallIntegerField()
    likes = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["counter_id", "slot"], name="lab_counter_slot"),
        ]

    def __str__(self) -> str:
        return f"counter {self.counter_id} slot {self.slot}: {self.likes}"
