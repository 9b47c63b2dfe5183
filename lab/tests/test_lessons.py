"""docs/lessons.md and its Korean twin stay in step, and show the committed run's charts."""

import re
from pathlib import Path

from lab.tests.svg import assert_svg

DOCS = Path(__file__).resolve().parents[2] / "docs"
CHART = re.compile(r"!\[[^\]]*\]\(((?:\.\./)?lab-run/\w+\.svg)\)")


def sections_and_charts(page: Path) -> tuple[int, list[str]]:
    text = page.read_text(encoding="utf-8")
    charts = [Path(c).name for c in CHART.findall(text)]
    return len(re.findall(r"^## ", text, re.M)), charts


def test_the_korean_lessons_have_every_section_and_chart_of_the_english():
    english = sections_and_charts(DOCS / "lessons.md")
    korean = sections_and_charts(DOCS / "ko" / "lessons.md")
    assert korean == english
    assert len(english[1]) >= 6  # a chart for every lab


def test_every_chart_the_lessons_show_is_a_committed_svg():
    _, charts = sections_and_charts(DOCS / "lessons.md")
    for name in charts:
        assert_svg(DOCS / "lab-run" / name)
