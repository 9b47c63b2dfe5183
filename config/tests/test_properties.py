"""Properties over every parser of typed input (Hypothesis): whatever comes in, the
answer is a clear error or a valid value, never an exception."""

import unicodedata
from datetime import date

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from core.pagination import MAX_ID, MAX_SIZE, Cursor, CursorForm, keyset_page
from core.text import check_text
from members import services as members
from members.forms import NicknameForm, SignupForm
from members.models import Member
from members.tests.mothers import PASSWORD
from posts import services as posts
from posts.forms import CalendarPageForm, CalendarRangeForm, PostForm
from posts.models import Post

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text as people and attackers type it: any code point, with the tricky ones often.
TRICKY = st.sampled_from(
    list("\u200b\u200d\u3164\u2800\u202e\u2066\t\n\r\x00 \u1100\u1161\u11a8\u0301가a")
)
TYPED = st.one_of(st.text(max_size=30), st.text(TRICKY, max_size=15))
DIGITS_AND_SO_ON = st.one_of(
    st.text(max_size=25),
    st.text(st.sampled_from(list("0123456789-_+ ٣５e.")), max_size=22),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def assert_clean_text(value: str, *, max_length: int, multiline: bool) -> None:
    assert value == unicodedata.normalize("NFC", value)
    assert value == value.strip()
    assert 1 <= len(value) <= max_length
    assert "\r" not in value
    check_text(value, multiline=multiline)  # raises if not


@FAST
@given(TYPED)
def test_a_nickname_is_refused_clearly_or_clean(nickname):
    form = NicknameForm({"nickname": nickname})
    if form.is_valid():
        assert_clean_text(form.cleaned_data["nickname"], max_length=10, multiline=False)
    else:
        assert form.errors["nickname"]


@FAST
@given(st.one_of(st.text(max_size=520), st.text(TRICKY, max_size=40)))
def test_post_contents_are_refused_clearly_or_clean(contents):
    form = PostForm({"contents": contents})
    if form.is_valid():
        assert_clean_text(form.cleaned_data["contents"], max_length=500, multiline=True)
    else:
        assert form.errors["contents"]


@FAST
@given(
    st.fixed_dictionaries({}, optional={k: DIGITS_AND_SO_ON for k in ("before", "after", "size")})
)
def test_cursors_parse_within_bounds_or_say_why(params):
    form = CursorForm(params)
    if form.is_valid():
        cursor = form.cursor()
        assert cursor.before is None or 1 <= cursor.before <= MAX_ID
        assert cursor.after is None or 0 <= cursor.after <= MAX_ID
        assert 1 <= cursor.size <= MAX_SIZE
        assert cursor.before is None or cursor.after is None
    else:
        assert form.errors


@FAST
@given(st.fixed_dictionaries({}, optional={"month": DIGITS_AND_SO_ON, "year": DIGITS_AND_SO_ON}))
def test_calendar_pages_parse_or_say_why(params):
    form = CalendarPageForm(params)
    if form.is_valid():
        month, year = form.cleaned_data["month"], form.cleaned_data["year"]
        assert month is None or (isinstance(month, date) and month.day == 1)
        assert year is None or isinstance(year, int)
    else:
        assert form.errors


@FAST
@given(st.fixed_dictionaries({"start": DIGITS_AND_SO_ON, "end": DIGITS_AND_SO_ON}))
def test_calendar_ranges_parse_or_say_why(params):
    form = CalendarRangeForm(params)
    if form.is_valid():
        assert form.cleaned_data["start"] <= form.cleaned_data["end"]
    else:
        assert form.errors


class TestWrites(TestCase):
    """Through the services and the database: a refusal writes nothing."""

    @classmethod
    def setUpTestData(cls):
        cls.member = members.member_register(
            email="prop@example.com", nickname="prop", birthdate=date(1990, 1, 1), password=None
        )

    @FAST
    @given(contents=TYPED)
    def test_a_post_is_written_normalised_or_refused(self, contents):
        try:
            post = posts.post_write(member_id=self.member.pk, contents=contents)
        except ValidationError:
            assert not Post.objects.exists()
        else:
            post.refresh_from_db()
            assert_clean_text(post.contents, max_length=500, multiline=True)

    @FAST
    @given(nickname=TYPED)
    def test_a_nickname_change_is_stored_normalised_or_refused(self, nickname):
        before = Member.objects.get(pk=self.member.pk).nickname
        try:
            members.member_change_nickname(member_id=self.member.pk, nickname=nickname)
        except ValidationError:
            assert Member.objects.get(pk=self.member.pk).nickname == before
        else:
            stored = Member.objects.get(pk=self.member.pk).nickname
            assert_clean_text(stored, max_length=10, multiline=False)

    @settings(max_examples=40, deadline=None)
    @given(
        email=st.one_of(st.emails(), st.text(max_size=40), st.text(TRICKY, max_size=10)),
        nickname=TYPED,
        birthdate=DIGITS_AND_SO_ON,
    )
    def test_signup_stores_a_valid_member_or_says_why(self, email, nickname, birthdate):
        form = SignupForm(
            {
                "email": email,
                "nickname": nickname,
                "birthdate": birthdate,
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
        )
        if not form.is_valid():
            assert form.errors
            return
        data = form.cleaned_data
        member = members.member_register(
            email=data["email"],
            nickname=data["nickname"],
            birthdate=data["birthdate"],
            password=None,
        )
        member.refresh_from_db()
        assert member.email == member.email.lower()
        assert_clean_text(member.nickname, max_length=10, multiline=False)
        member.delete()

    @settings(max_examples=40, deadline=None)
    @given(
        before=st.one_of(st.none(), st.integers(1, MAX_ID)),
        after=st.one_of(st.none(), st.integers(0, MAX_ID)),
        size=st.integers(1, 5),
    )
    def test_every_offered_link_parses(self, before, after, size):
        if Post.objects.count() < 7:
            for i in range(7):
                posts.post_write(member_id=self.member.pk, contents=f"post {i}")
        cursor = Cursor(before=before, after=None if before is not None else after, size=size)
        page = keyset_page(Post.objects.all(), cursor)
        for link in (page.older, page.newer):
            if link is None:
                continue
            params = {k: v for k, v in vars(link).items() if v is not None}
            assert CursorForm({k: str(v) for k, v in params.items()}).is_valid(), link
