import pytest
from django.contrib.auth import get_user_model

from lab import like_lab
from lab.models import LabCounter, LabCounterSlot, LabLike
from likes.models import Like
from posts.models import Post

# The threads have connections of their own: they see only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

EXACT = [s for s in like_lab.STRATEGIES if s.key != "rmw"]


def test_every_strategy_but_read_modify_write_ends_exact():
    results = like_lab.measure(threads=4, likes_per_thread=5, strategies=EXACT)

    assert [r.strategy for r in results] == [s.name for s in EXACT]
    for r in results:
        assert (r.attempted, r.like_rows, r.stored, r.lost) == (20, 20, 20, 0), r
        assert r.count_equals_rows
        assert len(r.latencies) == 20


def test_read_modify_write_reports_what_it_lost():
    [r] = like_lab.measure(threads=4, likes_per_thread=5, strategies=[like_lab.strategy("rmw")])

    assert r.like_rows == 20
    assert r.lost == 20 - r.stored
    assert r.count_equals_rows is (r.stored == 20)


SHARDED = like_lab.strategy("sharded")
PRODUCT = like_lab.strategy("service")


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
    assert like_lab.stored_count(counter_id, count="slots") == 4


def test_percentiles():
    r = like_lab.Result("x", attempted=100, seconds=2.0, latencies=[i / 1000 for i in range(100)])
    assert r.throughput == 50
    assert r.p50_ms == pytest.approx(49.5)
    assert r.p99_ms == pytest.approx(98)


@pytest.mark.mysql
def test_sixteen_threads_on_mariadb():
    results = {
        r.strategy: r for r in like_lab.measure(threads=16, likes_per_thread=10, processes=2)
    }

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


def test_the_buffered_count_is_exact_before_and_after_its_flush():
    counter_id = like_lab.reset()
    for member_id in (1, 2, 3):
        like_lab.like_buffered(counter_id, member_id)

    assert like_lab.stored_count(counter_id, count="counter") == 0  # nothing flushed yet
    assert like_lab.buffered_count(counter_id) == 3  # the read adds what is pending
    assert like_lab.flush_buffered(counter_id) == 3
    assert like_lab.flush_buffered(counter_id) == 0  # each like is added once
    assert like_lab.stored_count(counter_id, count="counter") == 3
    assert like_lab.buffered_count(counter_id) == 3
    like_lab.like_buffered(counter_id, 4)
    assert like_lab.buffered_count(counter_id) == 4


def test_clients_in_processes_give_the_same_results_as_threads():
    chosen = [like_lab.strategy("pessimistic"), like_lab.strategy("buffered")]
    threads = like_lab.measure(threads=4, likes_per_thread=3, strategies=chosen)
    processes = like_lab.measure(threads=4, likes_per_thread=3, strategies=chosen, processes=2)

    for a, b in zip(threads, processes, strict=True):
        assert (a.attempted, a.like_rows, a.stored, a.lost) == (12, 12, 12, 0), a
        assert (b.attempted, b.like_rows, b.stored, b.lost) == (12, 12, 12, 0), b
        assert len(b.latencies) == 12
        assert b.seconds > 0


@pytest.mark.parametrize(("threads", "processes", "sizes"), [(5, 2, [3, 2]), (2, 4, [1, 1])])
def test_clients_are_spread_over_the_processes(threads, processes, sizes):
    groups = like_lab._spread(threads, min(processes, threads))
    assert [len(g) for g in groups] == sizes
    assert [n for g in groups for n in g] == list(range(threads))


def _result(key: str, seconds: float, *, stored: int = 10, rows: int = 10) -> like_lab.Result:
    name = like_lab.strategy(key).name
    return like_lab.Result(name, attempted=10, seconds=seconds, stored=stored, like_rows=rows)


@pytest.mark.django_db(transaction=False)
def test_the_best_exact_strategy_is_the_fastest_that_kept_every_like():
    pessimistic, sharded = _result("pessimistic", 1.0), _result("sharded", 0.5)
    buffered_lost = _result("buffered", 0.1, stored=9)  # fastest, but lost a like
    counter_doubled = _result("counter", 0.2, rows=11)  # a like row written twice
    rmw, service = _result("rmw", 0.05), _result("service", 0.05)

    results = [pessimistic, sharded, buffered_lost, counter_doubled, rmw, service]
    assert like_lab.best_exact(results) is sharded
    assert like_lab.best_exact([rmw, service]) is None
    assert like_lab.best_exact([]) is None
