"""Seed a small demo community, once, so a fresh ``make run`` has something to show.

A handful of members writing in Korean and English over the last 90 days: enough
for the timelines to page, the calendar to have busy and quiet days, one member
to have a nickname history, follows in both directions (so the home timelines
have something) and likes. Everything goes in one transaction (one commit, not
one per post), and the home feeds are built once at the end from the posts and
follows, instead of fanning out each post, so it takes about a second.

It lives on the top floor (``social``) because it composes every domain.
"""

import random
from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from feeds import services as feeds
from follows import services as follows
from likes import services as likes
from members import services as members
from posts import services as posts

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - a published demo login, local only
DEMO_DAYS = 90

# (email local part, nickname, later nicknames, birth year, posts a day on average)
PEOPLE = [
    ("demo", "데모", ["새벽산책", "demo"], 1990, 1.2),
    ("minji", "민지", [], 1996, 0.9),
    ("alex", "Alex", [], 1988, 0.6),
    ("seojun", "서준", ["서준🏃"], 1993, 0.7),
    ("hana", "하나", [], 2001, 1.0),
    ("sam", "Sam K.", [], 1985, 0.4),
    ("jiwoo", "지우", [], 1999, 0.5),
]

SENTENCES_KO = [
    "오늘 아침 한강에서 뛰었는데 바람이 정말 시원했어요.",
    "점심으로 김치찌개 먹었습니다. 역시 비 오는 날엔 찌개죠.",
    "퇴근길 지하철에서 책 한 챕터 읽었다. 요즘 읽는 건 '데이터 중심 애플리케이션 설계'.",
    "인덱스 하나 바꿨더니 쿼리가 40초에서 0.1초로… 믿기지 않네요.",
    "주말에 북한산 다녀왔어요. 단풍이 절정이었습니다 🍁",
    "새로 생긴 동네 빵집 소금빵 맛집 인정합니다.",
    "고양이가 키보드 위에서 자고 있어서 일을 못 하는 중.",
    "오랜만에 친구들이랑 보드게임 했는데 시간 가는 줄 몰랐어요.",
    "오늘은 일찍 자야지… 라고 말한 지 세 시간째.",
    "커피를 줄이려고 했는데 벌써 두 잔째입니다 ☕",
    "비 오는 날 듣는 재즈 플레이리스트 추천 받아요.",
    "드디어 이사 끝! 박스 정리는 내일의 나에게 맡깁니다.",
    "페이지네이션은 OFFSET 말고 커서로. 오늘의 교훈.",
    "동생이 만든 떡볶이가 생각보다 훨씬 맛있었다.",
    "출근길에 본 하늘이 너무 예뻐서 사진 찍었어요.",
    "오늘 회의만 다섯 개… 퇴근하고 떡볶이 먹으러 갑니다.",
    "도서관에서 빌린 책 반납일이 내일이네. 오늘 밤에 다 읽어야지.",
    "엄마가 보내준 김장 김치 도착! 이번 겨울은 든든합니다.",
    "새벽 다섯 시에 일어나는 습관 3일째. 아직은 버틸 만해요.",
    "요즘 배우는 기타, 드디어 F 코드가 소리 납니다 🎸",
    "버스 놓쳐서 한 정거장 걸었는데 오히려 기분이 좋아졌어요.",
    "첫눈 예보가 있던데 진짜 올까요?",
    "오늘 점심은 회사 앞 칼국수. 국물이 끝내줬다.",
    "화분에 새싹이 났어요 🌱 매일 물 준 보람이 있네요.",
    "주말 동안 밀린 드라마 정주행 완료.",
]

SENTENCES_EN = [
    "Morning run along the river. Cold, but worth it.",
    "Finally fixed the flaky test. It was the time zone. It is always the time zone.",
    "Trying a new ramen place near the office tomorrow. Recommendations welcome!",
    "Read two chapters on the train today. Slow, good progress.",
    "The cat has claimed my chair again. I work standing now, apparently.",
    "Sunday plan: laundry, a long walk, and absolutely no email.",
    "Keyset pagination: page 100,000 as fast as page 1. Still feels like magic.",
    "Made kimchi pancakes for the first time. Flipping them was the hard part.",
    "Rainy afternoon, lo-fi playlist, and a big pot of tea.",
    "Learning Korean: today's word is 산책 (a walk). Fitting.",
    "Our team shipped the new calendar page today 🎉",
    "Autumn leaves in the park are at their best this week 🍂",
    "Tried the bakery on the corner. The salt bread lives up to the hype.",
    "Deployed on a Friday. Everything is fine. Probably.",
    "Finished the jigsaw puzzle. One piece missing, naturally.",
    "Cold brew season is over; back to hot coffee ☕",
    "Walked home the long way. Needed the quiet.",
    "Spent the evening fixing my bike's chain. Hands still black.",
    "Board game night went three hours over. Worth it.",
    "First frost this morning. Gloves are officially back.",
]

ENGLISH_FIRST = {"alex", "sam"}  # these write mostly in English, the others mostly in Korean

# Who follows whom: most follow a few, and minji is followed by almost everyone.
FOLLOWS = {
    "demo": ["minji", "alex", "seojun", "hana"],
    "minji": ["demo", "hana", "jiwoo"],
    "alex": ["minji", "sam", "demo"],
    "seojun": ["minji", "demo"],
    "hana": ["minji", "seojun", "jiwoo"],
    "sam": ["alex", "minji"],
    "jiwoo": ["minji", "hana"],
}


class Command(BaseCommand):
    help = (
        "Create a small demo community (the demo member, a superuser, and a few others "
        "with posts in Korean and English over the last 90 days), unless it exists."
    )

    def handle(self, *args, **options):
        if members.member_public_by_email(email=DEMO_EMAIL) is not None:
            self.stdout.write("The demo community is already there.")
            return
        with transaction.atomic():
            ids: dict[str, int] = {}
            planned = [post for person in PEOPLE for post in self._person(*person, ids=ids)]
            # In time order across members: timelines are ordered by id, so ids must follow time.
            written = [
                posts.post_write(member_id=member_id, contents=contents, at=at)
                for at, member_id, contents in sorted(planned)
            ]
            for name, followees in FOLLOWS.items():
                for followee in followees:
                    follows.follow_add(follower_id=ids[name], followee_id=ids[followee])
            liked = self._likes(written, list(ids.values()))
            for member_id in ids.values():
                feeds.feed_rebuild(member_id=member_id)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created the demo community: {len(PEOPLE)} members, {len(written)} posts, "
                f"{sum(len(f) for f in FOLLOWS.values())} follows, {liked} likes."
            )
        )

    def _likes(self, written, member_ids: list[int]) -> int:
        """A few likes on about half the posts, never by their authors."""
        rng = random.Random("likes")
        made = 0
        for post in written:
            others = [m for m in member_ids if m != post.member_id]
            for member_id in rng.sample(others, k=rng.choice([0, 0, 0, 1, 1, 2, 3, 5])):
                likes.like_add(member_id=member_id, post_id=post.pk)
                made += 1
        return made

    def _person(self, name: str, nickname: str, renames: list[str], year: int, rate: float, *, ids):
        """Register one member (into ``ids``); return their posts, as (at, member id, text)."""
        rng = random.Random(name)  # the same community every time
        is_demo = name == "demo"
        tz = timezone.get_default_timezone()
        now = timezone.now()
        first_day = timezone.localdate(now, timezone=tz) - timedelta(days=DEMO_DAYS)
        member = members.member_register(
            email=DEMO_EMAIL if is_demo else f"{name}@example.com",
            nickname=nickname,
            birthdate=date(year, rng.randrange(1, 13), rng.randrange(1, 29)),
            # Only the demo member can log in; hashing the others' would only cost time.
            password=DEMO_PASSWORD if is_demo else None,
            is_staff=is_demo,
            is_superuser=is_demo,
            at=datetime.combine(first_day - timedelta(days=rng.randrange(3, 60)), time(20), tz),
        )
        ids[name] = member.pk
        for n, new in enumerate(renames, start=1):
            renamed = datetime.combine(first_day + timedelta(days=30 * n), time(22, 10 * n), tz)
            members.member_change_nickname(member_id=member.pk, nickname=new, at=renamed)
        english_first = name in ENGLISH_FIRST
        planned = []
        for offset in range(DEMO_DAYS + 1):
            day = first_day + timedelta(days=offset)
            # Most days quiet, some busy: a count drawn around the member's rate.
            n = sum(rng.random() < rate / 3 for _ in range(3)) + (rng.random() < 0.05) * 3
            for minute in sorted(rng.sample(range(7 * 60, 24 * 60), n)):
                at = datetime.combine(day, time(minute // 60, minute % 60), tz)
                english = rng.random() < (0.8 if english_first else 0.25)
                contents = rng.choice(SENTENCES_EN if english else SENTENCES_KO)
                if at <= now:  # today's posts stay in the past
                    planned.append((at, member.pk, contents))
        return planned
