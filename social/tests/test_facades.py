import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.pagination import Cursor
from core.testing.queries import assert_no_join_offset_or_count
from members import services as members
from posts.tests.mothers import a_member, a_post
from social import facades

pytestmark = pytest.mark.django_db


class TestTimeline:
    def test_entries_carry_each_authors_current_nickname(self):
        kim, lee = a_member(nickname="kim"), a_member(nickname="lee")
        first, second = a_post(kim), a_post(lee)
        members.member_change_nickname(member_id=kim.pk, nickname="kim2")

        page = facades.timeline(cursor=Cursor())

        assert [(e.id, e.nickname) for e in page.entries] == [
            (second.pk, "lee"),
            (first.pk, "kim2"),
        ]
        assert page.card is None

    def test_one_members_timeline(self):
        kim, lee = a_member(nickname="kim"), a_member(nickname="lee")
        mine = a_post(kim)
        a_post(lee)

        page = facades.timeline(cursor=Cursor(), member_id=kim.pk)

        assert [e.id for e in page.entries] == [mine.pk]
        assert page.card.member == members.PublicMember(kim.pk, "kim")

    def test_unknown_member(self):
        with pytest.raises(facades.MemberNotFound):
            facades.timeline(cursor=Cursor(), member_id=999_999)

    @pytest.mark.parametrize("member_timeline", [False, True])
    def test_constant_queries_whatever_the_size_and_no_join(self, member_timeline):
        authors = [a_member() for _ in range(5)]
        for i in range(60):
            a_post(authors[i % 5])
        member_id = authors[0].pk if member_timeline else None
        counts = []
        for size in (2, 5, 10):
            with CaptureQueriesContext(connection) as ctx:
                page = facades.timeline(cursor=Cursor(size=size), member_id=member_id)
                facades.timeline(cursor=page.older, member_id=member_id)
            assert_no_join_offset_or_count(ctx.captured_queries)
            counts.append(len(ctx.captured_queries))
        assert counts[0] == counts[1] == counts[2]
