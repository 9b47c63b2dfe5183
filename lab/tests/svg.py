"""What the labs' tests ask of a chart: a well-formed SVG document with its text as text."""

from pathlib import Path
from xml.etree import ElementTree

SVG = "{http://www.w3.org/2000/svg}"


def assert_svg(path: Path, *, contains: tuple[str, ...] = ()) -> None:
    # The lab's own file, not untrusted input; parsing raises if it is not well-formed XML.
    root = ElementTree.parse(path).getroot()  # noqa: S314
    assert root.tag == f"{SVG}svg", root.tag
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert texts.strip(), "no text in the chart"
    for word in contains:
        assert word in texts, (word, texts[:300])
