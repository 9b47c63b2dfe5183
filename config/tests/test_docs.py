"""Every path, link and dotted name that the README and docs/ give exists in the tree, so a
reader who follows one finds what it names."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PACKAGES = "config|core|members|posts|follows|likes|feeds|social|lab"
TOP = PACKAGES + "|templates|static|docs|deploy|e2e|loadtest|locale"
# A path into the tree: a file with its extension, or a folder with its slash.
PATH = re.compile(rf"(?<![\w./-])((?:{TOP})/[\w./-]*(?:\.\w+|/))(?![\w/])")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# A dotted name in code quotes: a module, or a name in one (`feeds.services.post_reach`).
DOTTED = re.compile(rf"`((?:{PACKAGES})(?:\.\w+)+)")


def _pages():
    return [pytest.param(page, id=str(page.relative_to(ROOT))) for page in PAGES]


@pytest.mark.parametrize("page", _pages())
def test_every_path_exists(page):
    text = page.read_text()
    missing = sorted({p for p in PATH.findall(text) if not (ROOT / p.split("::")[0]).exists()})
    assert missing == []


@pytest.mark.parametrize("page", _pages())
def test_every_relative_link_exists(page):
    links = [link for link in LINK.findall(page.read_text()) if "://" not in link]
    missing = sorted({link for link in links if not (page.parent / link).exists()})
    assert missing == []


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


@pytest.mark.parametrize("page", _pages())
def test_every_dotted_name_imports(page):
    names = set(DOTTED.findall(page.read_text()))
    assert sorted(n for n in names if not _resolves(n)) == []
