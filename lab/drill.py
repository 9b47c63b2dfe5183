"""The drill (`make drill`): break each part of the running cluster under load, then
prove that nothing was lost.

A bounded load goes through nginx the whole time: members (each signed up through
the real form) read their home timeline, the timelines and the JSON, write posts
and like posts; anonymous readers read the timelines. One part at a time is then
broken and brought back:

- an app server is killed (SIGKILL to its whole process group);
- the replica is killed; it comes back and catches up (GTID);
- Redis is killed; it comes back empty;
- a worker is killed while it fans a post out to thousands of followers;
- the broker is stopped (SIGTERM, as a shutdown nobody asked for);
- the replica hangs (SIGSTOP) rather than dies, then goes on (SIGCONT): the database
  timeouts and the router's fallback to the primary must hold.

Nobody brings a part back: supervisord restarts what died, and the drill times it
(from the break until the part answers again). For each part it also checks with
Prometheus that the part's alert fired, and that it cleared once the part was back,
and times both.

Every request counts: a 5xx, a connection error or a member sent to the login page
is a failure. A write whose request was cut (its app server died under it) is an
*interrupted write*: it must then exist once or not at all. Afterwards the drill
checks what was acknowledged and what the derived data say: every acknowledged post
exists once, every post is in every follower's feed once, every count equals its
source, every welcome mail was delivered once and none was refused, and the replica
holds exactly what the primary holds.

Runs against the cluster described by ``.cluster/env`` (``manage.py drill``).
"""

from __future__ import annotations

import json
import random
import signal
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from core.outbox import outbox_backlog, outbox_pending
from core.testing.http import Browser
from deploy import cluster
from deploy.smtp_standin import read_mailbox, read_stats
from feeds import services as feed_services
from feeds.models import FeedEntry
from follows import services as follows
from lab import seeding
from likes import services as likes
from members.models import Member, OutboundMail
from posts import services as posts
from posts.models import Post

NGINX = cluster.url_of("nginx")
PASSWORD = "drill-password-1"  # noqa: S105 - throw-away members of the drill


# --- one member's browser ------------------------------------------------------------


def browser() -> Browser:
    """A visitor of the cluster, through nginx."""
    return Browser(NGINX)


def signed_up(visitor: Browser, email: str) -> bool:
    response = visitor.signup(email=email, password=PASSWORD, nickname="d" + uuid.uuid4().hex[:8])
    return response.status == 302 and "sessionid" in visitor.cookies


# --- the load -----------------------------------------------------------------------------


@dataclass
class Tally:
    requests: int = 0
    failures: Counter = field(default_factory=Counter)
    interrupted: list[str] = field(default_factory=list)  # contents of cut post requests

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


class Load:
    """Members and anonymous readers in threads, each request counted in the current phase."""

    def __init__(self, *, members: list[Browser], readers: int, pause: float) -> None:
        self.members = members
        self.readers = readers
        self.pause = pause
        self.phase = "warm-up"
        self.tallies: dict[str, Tally] = {}
        self.acknowledged: list[str] = []  # contents of posts answered with a redirect
        self.signups: list[str] = []  # emails signed up successfully
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.post_ids: list[int] = []

    def start(self) -> None:
        for browser in self.members:
            self.threads.append(threading.Thread(target=self._member, args=(browser,)))
        for _ in range(self.readers):
            self.threads.append(threading.Thread(target=self._reader))
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _count(self, failure: str | None = None, interrupted: str | None = None) -> None:
        with self.lock:
            tally = self.tallies.setdefault(self.phase, Tally())
            tally.requests += 1
            if interrupted is not None:
                tally.interrupted.append(interrupted)
            elif failure:
                tally.failures[failure] += 1

    def _get(self, browser: Browser, path: str, member: bool) -> bytes | None:
        try:
            response = browser.get(path)
        except OSError as exc:
            self._count(f"GET {type(exc).__name__}")
            return None
        if response.status >= 500:
            self._count(f"GET {response.status}")
        elif member and response.status == 302 and "/login/" in response.location:
            self._count("logged out")
        else:
            self._count()
        return response.body

    def _reader(self) -> None:
        visitor = browser()
        while not self.stopping.is_set():
            self._get(visitor, random.choice(["/posts/", "/api/posts", "/posts/?size=50"]), False)
            time.sleep(self.pause)

    def _member(self, browser: Browser) -> None:
        n = 0
        while not self.stopping.is_set():
            n += 1
            roll = random.random()
            if roll < 0.1:
                self._write_post(browser, f"drill {uuid.uuid4().hex} #{n}")
            elif roll < 0.2 and self.post_ids:
                self._like(browser, random.choice(self.post_ids[-200:]))
            else:
                path = random.choice(["/home/", "/posts/", "/api/me/home", "/me/"])
                content = self._get(browser, path, True)
                if content and path == "/api/me/home":
                    try:
                        ids = [p["id"] for p in json.loads(content)["posts"]]
                    except (ValueError, KeyError):
                        ids = []
                    with self.lock:
                        self.post_ids.extend(ids[:3])
            time.sleep(self.pause)

    def _write_post(self, browser: Browser, contents: str) -> None:
        try:
            status = browser.post("/posts/new/", {"contents": contents}).status
        except OSError:
            self._count(interrupted=contents)
            return
        if status == 302:
            self._count()
            with self.lock:
                self.acknowledged.append(contents)
        elif status in (502, 504):
            self._count(interrupted=contents)  # nginx lost the app server under it
        else:
            self._count(f"POST {status}")

    def _like(self, browser: Browser, post_id: int) -> None:
        try:
            status = browser.post(f"/posts/{post_id}/like/").status
        except OSError:
            self._count(interrupted="like")
            return
        if status in (302, 404):  # 404: a post deleted meanwhile
            self._count()
        elif status in (502, 504):
            self._count(interrupted="like")
        else:
            self._count(f"LIKE {status}")


# --- the parts ------------------------------------------------------------------------------


def wait(what: str, check, timeout: float, log) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    log(f"  ! {what}: not within {timeout:.0f} s")
    return False


def _log_offsets() -> dict[str, int]:
    return {
        role: cluster.log_file(role).stat().st_size if cluster.log_file(role).exists() else 0
        for role in cluster.worker_roles()
    }


def _worker_with_fanout(offsets: dict[str, int]) -> str | None:
    for role, start in offsets.items():
        with open(cluster.log_file(role), "rb") as f:
            f.seek(start)
            if b"feeds.tasks.fanout" in f.read():
                return role
    return None


def outboxes_empty() -> bool:
    return not any(backlog.pending for backlog in outbox_backlog())


@dataclass
class FanoutKill:
    post_id: int | None = None
    followers: int = 0
    at_kill: int = 0
    worker: str | None = None


def kill_worker_mid_fanout(author: Browser, author_id: int, followers: int, log) -> FanoutKill:
    """Post as the author, find the worker that fans it out, kill it half-way."""
    result = FanoutKill(followers=followers)
    offsets = _log_offsets()
    before = posts.latest_post_ids(member_id=author_id, limit=1)
    author.post("/posts/new/", {"contents": f"to {followers} followers"})
    latest = posts.latest_post_ids(member_id=author_id, limit=1)
    if not latest or latest == before:
        log("  ! the author's post was not written")
        return result
    result.post_id = latest[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held = feed_entries(result.post_id)
        worker = _worker_with_fanout(offsets)
        # Well into it: the author's own row and a first chunk are not "mid-fan-out".
        if held >= followers // 5 and worker:
            result.worker = worker
            cluster.kill_role(worker)
            result.at_kill = feed_entries(result.post_id)
            return result
        time.sleep(0.01)
    log("  ! no worker took the fan-out")
    return result


def feed_entries(post_id: int) -> int:
    return FeedEntry.objects.filter(post_id=post_id).count()


# --- breaking a part, and watching it come back --------------------------------------------

# How long a part may take to come back, and its alert to fire and to clear.
BACK_SECONDS = 90
ALERT_SECONDS = 60
# A hung part stays hung at least this long (and until its alert fires).
HANG_SECONDS = 8
# An alert counts as cleared once none of the part's has fired for this long after
# the part came back (a restart's alert may fire only at the first scrape after it).
QUIET_SECONDS = 6
# The alerts the drill watches, for each kind of part.
DRILL_ALERTS = {
    "AppServerDown",
    "ReplicaDown",
    "RedisDown",
    "BrokerDown",
    "WorkersMissing",
    "PartRestarted",
}


@dataclass
class Phase:
    name: str
    role: str  # the part broken ("worker-*": whichever worker had the fan-out)
    tally: Tally
    note: str = ""
    back: float | None = None  # seconds from the break until it answered again
    fired: float | None = None  # seconds from the break until its alert fired
    alert: str = ""  # the alert that fired
    cleared: float | None = None  # seconds from its coming back until its alerts stopped

    @property
    def ok(self) -> bool:
        return (
            self.tally.failed == 0
            and self.back is not None
            and self.fired is not None
            and self.cleared is not None
        )


def part_alerts(role: str, names: set[str]) -> list[str]:
    """The alerts among ``names`` that fire now for ``role`` (or, with no instance,
    for the whole cluster)."""
    try:
        firing = cluster.firing_alerts()
    except (OSError, ValueError, KeyError):
        return []
    return sorted(
        {
            a["alertname"]
            for a in firing
            if a["alertname"] in names and a.get("instance", role) == role
        }
    )


def _back(role: str, pid: int | None, hang: bool) -> bool:
    """The part answers again: for a part that died, a new process of it."""
    now = cluster.pid_of(role)
    return now is not None and (hang or now != pid) and cluster.part_answers(role)


def break_and_watch(phase: Phase, alerts: set[str], breaking, *, hang: bool, log) -> str:
    """Break the part, then time its return (by itself) and its alert's firing and
    clearing. A hung part is let go (SIGCONT) once its alert fired."""
    roles = cluster.worker_roles() if phase.role == "worker-*" else [phase.role]
    pids = {role: cluster.pid_of(role) for role in roles}
    started = time.monotonic()
    note = breaking() or ""
    if phase.role == "worker-*":
        # The worker that had the fan-out, named in the note.
        phase.role = next((r for r in roles if note.startswith(r + " ")), roles[0])
    role, pid = phase.role, pids.get(phase.role)

    def elapsed() -> float:
        return time.monotonic() - started

    released = not hang
    back_at = None
    last_firing = None
    while elapsed() < BACK_SECONDS + ALERT_SECONDS:
        firing = part_alerts(role, alerts)
        if firing:
            last_firing = time.monotonic()
            if phase.fired is None:
                phase.fired, phase.alert = elapsed(), ", ".join(firing)
            elif not set(firing) <= set(phase.alert.split(", ")):
                phase.alert = ", ".join(sorted(set(firing) | set(phase.alert.split(", "))))
        if not released and phase.fired is not None and elapsed() >= HANG_SECONDS:
            cluster.signal_role(role, signal.SIGCONT)
            released = True
            log(f"  {role} let go after {elapsed():.1f} s")
        if released and back_at is None and _back(role, pid, hang):
            back_at = time.monotonic()
            phase.back = back_at - started
        now = time.monotonic()
        if (
            back_at is not None
            and phase.fired is not None
            and now - max(back_at, last_firing) >= QUIET_SECONDS
        ):
            phase.cleared = max(0.0, last_firing - back_at)
            break
        if not released and elapsed() > ALERT_SECONDS:
            cluster.signal_role(role, signal.SIGCONT)
            released = True
        time.sleep(0.25)
    if not released:
        cluster.signal_role(role, signal.SIGCONT)
    for what, value in (("back", phase.back), ("alert fired", phase.fired)):
        if value is None:
            log(f"  ! {role}: never {what}")
    if phase.back is not None and phase.fired is not None and phase.cleared is None:
        log(f"  ! {role}: its alert never cleared")
    return note


# --- the checks ------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    lost: int
    detail: str


def check_posts(load: Load) -> list[Check]:
    acknowledged = Counter(
        Post.objects.filter(contents__in=load.acknowledged).values_list("contents", flat=True)
    )
    missing = [c for c in load.acknowledged if acknowledged[c] == 0]
    twice = [c for c, n in acknowledged.items() if n > 1]
    cut = [c for t in load.tallies.values() for c in t.interrupted]
    interrupted = [c for c in cut if c != "like"]
    likes = len(cut) - len(interrupted)  # idempotent: the like counts' check covers them
    found = Counter(
        Post.objects.filter(contents__in=interrupted).values_list("contents", flat=True)
    )
    bad_interrupted = [c for c in interrupted if found[c] > 1]
    return [
        Check(
            "acknowledged posts",
            len(missing) + len(twice),
            f"{len(load.acknowledged)} acknowledged, {len(missing)} missing, {len(twice)} twice",
        ),
        Check(
            "interrupted writes",
            len(bad_interrupted),
            f"{len(interrupted)} posts cut in flight: {sum(found[c] == 1 for c in interrupted)} "
            f"committed whole, {sum(found[c] == 0 for c in interrupted)} not at all, "
            f"{len(bad_interrupted)} twice; {likes} likes cut (counts checked below)",
        ),
    ]


def check_feeds(first_post_id: int) -> Check:
    post_ids = list(Post.objects.filter(id__gt=first_post_id).values_list("id", flat=True))
    bad, entries = [], 0
    for post_id in post_ids:
        reach = feed_services.post_reach(post_id=post_id)
        if reach is None:
            continue
        entries += reach.held
        if reach.missing or reach.twice or reach.pending:
            bad.append(post_id)
    return Check(
        "home feeds",
        len(bad),
        f"{len(post_ids)} posts in {entries:,} feeds; {len(bad)} missing somewhere or twice",
    )


def check_counts() -> Check:
    differences = {
        "follow counts": len(follows.follow_counts_differences()),
        "like counts": len(likes.like_counts_differences()),
        "daily post counts": len(posts.daily_counts_differences()),
    }
    return Check(
        "counters",
        sum(differences.values()),
        ", ".join(f"{name} {n} off" for name, n in differences.items()),
    )


def check_mail(first_member_id: int, acknowledged_emails: list[str]) -> list[Check]:
    mailbox = read_mailbox(cluster.mailbox_path())
    delivered = Counter(to for message in mailbox for to in message["to"])
    emails = list(
        OutboundMail.objects.filter(member_id__gt=first_member_id).values_list("to", flat=True)
    )
    acknowledged = set(acknowledged_emails)
    missing = [e for e in acknowledged if delivered[e] == 0]
    twice = [e for e in emails if delivered[e] > 1]
    stats = read_stats(cluster.mailbox_path())
    return [
        Check(
            "welcome mails",
            len(missing) + len(twice),
            f"{len(acknowledged)} sign-ups acknowledged, {len(emails)} mails queued, "
            f"{sum(delivered[e] > 0 for e in emails)} delivered, {len(missing)} missing, "
            f"{len(twice)} twice",
        ),
        Check(
            "mail provider",
            stats.get("refused", 0),
            f"accepted {stats.get('accepted', 0)}, refused {stats.get('refused', 0)}, "
            f"repeated Message-IDs {stats.get('duplicates', 0)}",
        ),
    ]


def check_replica() -> Check:
    tables = cluster.sql("primary", "SHOW TABLES FROM sns").split()
    statement = "CHECKSUM TABLE " + ", ".join(f"sns.{t}" for t in tables)

    def checksums(role: str) -> dict[str, str]:
        rows = (line.split("\t") for line in cluster.sql(role, statement).splitlines())
        return {name: value for name, value in rows}

    primary, replica = checksums("primary"), checksums("replica")
    differ = [t for t in primary if primary[t] != replica.get(t)]
    return Check(
        "replica",
        len(differ),
        f"{len(primary)} tables checksummed; {len(differ)} differ"
        + (f" ({', '.join(differ[:5])})" if differ else ""),
    )


# --- the drill ------------------------------------------------------------------------------


@dataclass
class Result:
    phases: list[Phase]
    checks: list[Check]
    signup: dict[str, float]

    @property
    def ok(self) -> bool:
        return all(c.lost == 0 for c in self.checks) and all(p.ok for p in self.phases)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def signup_burst(count: int, threads: int, run: str) -> tuple[list[str], list[float]]:
    emails = [f"burst-{run}-{i}@example.com" for i in range(count)]
    done: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    queue = list(emails)

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                email = queue.pop()
            start = time.perf_counter()
            try:
                ok = signed_up(browser(), email)
            except OSError:  # timed out on a saturated machine: not acknowledged
                ok = False
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if ok:
                    done.append(email)
                latencies.append(elapsed)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return done, latencies


def run(*, members: int, readers: int, followers: int, burst: int, log) -> Result:
    run_id = uuid.uuid4().hex[:6]
    first_post_id = Post.objects.order_by("-id").values_list("id", flat=True).first() or 0
    first_member_id = Member.objects.order_by("-id").values_list("id", flat=True).first() or 0
    emails: list[str] = []  # signed up successfully

    log(f"Signing up {members} members and an author with {followers:,} followers ...")
    browsers = []
    for i in range(members):
        visitor = browser()
        email = f"drill-{run_id}-{i}@example.com"
        if not signed_up(visitor, email):
            raise RuntimeError("sign-up through nginx failed: is the cluster up?")
        emails.append(email)
        browsers.append(visitor)
    author = browser()
    author_email = f"drill-{run_id}-author@example.com"
    if not signed_up(author, author_email):
        raise RuntimeError("sign-up through nginx failed")
    emails.append(author_email)
    author_id = Member.objects.get(email=author_email).pk
    seeding.follows_seed_followers(
        member_id=author_id, count=followers, seed=random.randrange(1 << 30)
    )

    # Sign-up latency without and with a burst queued behind the provider's rate limit.
    # Sign-up latency one at a time with no mail waiting, then a burst (8 at a
    # time) that outruns the provider's rate limit, then one at a time again while
    # the burst's mails still wait their turn in the queue.
    quiet, quiet_ms = signup_burst(20, 1, f"{run_id}q")
    log(f"Burst of {burst} sign-ups ...")
    start = time.monotonic()
    burst_done, burst_ms = signup_burst(burst, 8, run_id)
    burst_seconds = time.monotonic() - start
    backlog_at = len(outbox_pending(OutboundMail))
    behind, behind_ms = signup_burst(20, 1, f"{run_id}b")
    emails += quiet + burst_done + behind
    wait("welcome mails", lambda: not outbox_pending(OutboundMail), 300, log)
    signup = {
        "quiet p50": statistics.median(quiet_ms),
        "burst p50": statistics.median(burst_ms),
        "burst p95": percentile(burst_ms, 0.95),
        "backlog p50": statistics.median(behind_ms),
        "backlog": backlog_at,
        "burst seconds": burst_seconds,
        "mail seconds": time.monotonic() - start,
    }

    load = Load(members=browsers, readers=readers, pause=0.02)
    load.start()
    phases: list[Phase] = []

    def phase(name: str, role: str, alerts: set[str], breaking, hang: bool = False) -> None:
        load.phase = name
        log(f"{name}: load on, breaking ...")
        time.sleep(2)
        result = Phase(name=name, role=role, tally=load.tallies.setdefault(name, Tally()))
        result.note = break_and_watch(result, alerts, breaking, hang=hang, log=log)
        time.sleep(2)
        phases.append(result)

    def kill(role: str):
        return lambda: cluster.kill_role(role) and ""

    try:
        app = cluster.app_roles()[-1]
        phase(f"app server ({app} killed)", app, {"AppServerDown", "PartRestarted"}, kill(app))
        phase("replica (killed)", "replica", {"ReplicaDown", "PartRestarted"}, kill("replica"))
        wait("replica", cluster.caught_up, 60, log)
        phase("redis (killed)", "redis", {"RedisDown", "PartRestarted"}, kill("redis"))

        def worker_breaks() -> str:
            kill_ = kill_worker_mid_fanout(author, author_id, followers, log)
            return (
                f"{kill_.worker} killed with post {kill_.post_id} in {kill_.at_kill:,} "
                f"of {kill_.followers:,} feeds"
            )

        phase(
            "worker (killed mid-fan-out)",
            "worker-*",
            {"WorkersMissing"},
            worker_breaks,
        )
        phase(
            "broker (stopped)",
            "broker",
            {"BrokerDown", "PartRestarted"},
            lambda: cluster.signal_role("broker", signal.SIGTERM) and "",
        )
        phase(
            "replica (hangs: SIGSTOP)",
            "replica",
            {"ReplicaDown"},
            lambda: cluster.signal_role("replica", signal.SIGSTOP) and "",
            hang=True,
        )
    finally:
        load.stop()
    log("Waiting for the outboxes to drain and the replica to catch up ...")
    wait("outboxes", outboxes_empty, 180, log)
    wait("replica", cluster.caught_up, 60, log)

    checks = [
        *check_posts(load),
        check_feeds(first_post_id),
        check_counts(),
        *check_mail(first_member_id, emails),
        check_replica(),
    ]
    return Result(phases=phases, checks=checks, signup=signup)
