import pytest
from django.contrib.auth import get_user_model

from lab import like_lab
from lab.models import LabCounter, LabCounterSlot, LabLike
from likes.models import Like
from posts.models import Post

# The threads have connections of their own: they see only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

EXACT = [s for s in like_lab.STRATEGIES if s.name != "read-modify-write"]


def test_every_strategy_but_read_modify_write_ends_exact():
    results = like_lab.measure(threads=4, likes_per_thread=5, strategies=EXACT)

    assert [r.strategy for r in results] == [s.name for s in EXACT]
    for r in results:
        assert (r.attempted, r.like_rows, r.stored, r.lost) == (20, 20, 20, 0), r
        assert r.count_equals_rows
        assert len(r.latencies) == 20


def test_read_modify_write_reports_what_it_lost():
    [r] = like_lab.measure(threads=4, likes_per_thread=5, strategies=like_lab.STRATEGIES[:1])

    assert r.like_rows == 20
    assert r.lost == 20 - r.stored
    assert r.count_equals_rows is (r.stored == 20)


SHARDED = next(s for s in like_lab.STRATEGIES if s.name.endswith("(product)"))
PRODUCT = like_lab.STRATEGIES[-1]


def test_repeat_adds_the_runs_up_and_the_scratch_tables_are_left_empty():
    [r] = like_lab.measure(threads=2, likes_per_thread=3, repeat=3, strategies=[SHARDED])

    assert (r.attempted, r.like_rows, r.stored) == (18, 18, 18)
    assert not LabLike.objects.exists()
    assert LabCounter.objects.count() == 1
    assert LabCounterSlot.objects.count() == like_lab.SLOTS


def test_the_sharded_count_is_the_sum_over_the_slots():
    counter_id = like_lab.reset()
    for member_id in (1, 2, 17, 33):  # slots 1, 2, 1, 1
        like_lab.like_with_sharded_counter(counter_id, member_id)

    slots = dict(
        LabCounterSlot.objects.filter(counter_id=counter_id, likes__gt=0).values_list(
            "slot", "likes"
        )
    )
    assert slots == {1: 3, 2: 1}
    assert like_lab.stored_count(counter_id, sharded=True) == 4


def test_percentiles():
    r = like_lab.Result("x", attempted=100, seconds=2.0, latencies=[i / 1000 for i in range(100)])
    assert r.throughput == 50
    assert r.p50_ms == pytest.approx(49.5)
    assert r.p99_ms == pytest.approx(98)


@pytest.mark.mysql
def test_sixteen_threads_on_mariadb():
    results = {r.strategy: r for r in like_lab.measure(threads=16, likes_per_thread=10)}

    for strategy in EXACT:
        r = results[strategy.name]
        assert (r.like_rows, r.stored, r.lost) == (160, 160, 0), r
    unlocked = results["read-modify-write"]
    assert unlocked.like_rows == 160  # every like row is there; only the count can be short
    assert unlocked.lost == 160 - unlocked.stored


def test_the_product_row_likes_a_real_post_and_leaves_nothing_behind():
    [r] = like_lab.measure(threads=4, likes_per_thread=5, strategies=[PRODUCT])

    assert r.strategy == "likes.services (the product, through Django)"
    assert (r.attempted, r.like_rows, r.stored, r.lost) == (20, 20, 20, 0), r
    assert not get_user_model().objects.exists()
    assert not Post.objects.exists()
    assert not Like.objects.exists()
