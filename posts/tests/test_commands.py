import pytest
from django.core.management import call_command

from members import services as members

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_demo_member_once(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    out = capsys.readouterr().out
    assert out.count("Created the demo member.") == 1
    assert out.count("Demo login: demo@example.com / demo-password") == 2
    demo = members.member_public_by_email(email="demo@example.com")
    assert demo is not None
    assert members.member_get(member_id=demo.id).check_password("demo-password")
