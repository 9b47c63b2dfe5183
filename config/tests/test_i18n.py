"""Korean and English: the language follows Accept-Language, or the switcher's cookie."""

import gettext
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from members.tests.mothers import a_member
from posts.tests.mothers import posts_on_days

pytestmark = pytest.mark.django_db

KO = {"HTTP_ACCEPT_LANGUAGE": "ko-KR,ko;q=0.9,en;q=0.5"}


def test_english_by_default(client):
    response = client.get("/signup/")
    assert '<html lang="en">' in response.text
    assert "Sign up" in response.text


def test_korean_from_accept_language(client):
    response = client.get("/signup/", **KO)
    assert '<html lang="ko">' in response.text
    assert "회원가입" in response.text
    assert "1~10자." in response.text  # help text beside the field


def test_the_switcher_sets_the_language(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/posts/"})
    assert (response.status_code, response.url) == (302, "/posts/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ko"
    assert "타임라인" in client.get("/posts/").text
    client.post("/i18n/setlang/", {"language": "en", "next": "/posts/"}, **KO)
    assert "Timeline" in client.get("/posts/", **KO).text


def test_every_page_offers_the_switcher(client):
    text = client.get("/posts/").text
    assert 'action="/i18n/setlang/"' in text
    assert 'value="ko"' in text
    assert "한국어" in text


def test_errors_and_dates_in_korean(client):
    member = a_member(nickname="kim", birthdate=date(1990, 5, 17))
    client.force_login(member)

    # Nicknames are not unique: the same one again is "yours already", not "taken".
    error = client.post("/me/nickname/", {"nickname": "kim"}, **KO).text
    assert "지금 쓰고 있는 닉네임과 같습니다." in error
    assert "사용 중" not in error

    profile = client.get("/me/", **KO).text
    assert "1990년 5월 17일" in profile

    posts_on_days(member, {date(2025, 3, 5): 3})
    month = client.get("/me/calendar/?month=2025-03", **KO).text
    assert "2025년 3월" in month
    assert "2025년 3월 5일: 게시물 3개" in month
    assert "이번 달 게시물 3개" in month
    year = client.get("/me/calendar/?year=2025", **KO).text
    assert 'title="2025년 3월 5일: 게시물 3개"' in year


def _po_fields(entry: str) -> dict[str, str]:
    """An entry's msgid, msgstr, ... with long strings' continuation lines joined."""
    fields: dict[str, str] = {}
    key = None
    for line in entry.splitlines():
        if match := re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line):
            key = match.group(1)
            fields[key] = match.group(2)
        elif line.startswith('"') and key is not None:
            fields[key] += line[1:-1]
    return fields


def test_the_korean_catalogue_is_complete_and_compiled():
    folder = Path(settings.BASE_DIR) / "locale/ko/LC_MESSAGES"
    entries = [
        _po_fields(entry)
        for entry in (folder / "django.po").read_text("utf-8").split("\n\n")[1:]  # no header
    ]
    msgids = [fields["msgid"].replace('\\"', '"') for fields in entries]
    untranslated = [
        msgid
        for msgid, fields in zip(msgids, entries, strict=True)
        if any(value == "" for key, value in fields.items() if key.startswith("msgstr"))
    ]
    assert untranslated == []
    # The committed .mo holds every message of the .po: the set-up needs no gettext.
    with (folder / "django.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)._catalog
    compiled = {key[0] if isinstance(key, tuple) else key for key in catalog}
    assert [m for m in msgids if m not in compiled] == []


@pytest.mark.parametrize(
    ("headers", "texts"),
    [
        ({}, ["SNS administration", "Login throttle", "Access attempts"]),
        (KO, ["SNS 관리", "로그인 제한", "로그인 시도 기록", "로그인 실패 기록"]),
    ],
)
def test_the_admin_names_the_site_and_the_login_throttle(client, headers, texts):
    client.force_login(a_member(is_staff=True, is_superuser=True))
    index = client.get("/admin/", **headers).text
    for text in texts:
        assert text in index
    assert "Django" not in index.split("<title>")[1].split("</title>")[0]
    assert ">Axes<" not in index
    changelist = client.get("/admin/axes/accessattempt/", **headers).text
    assert ("시도 시각" in changelist) == (headers == KO)
