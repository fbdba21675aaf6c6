"""The recap page is one self-contained file: nothing to fetch, every chart with a text alternative, names
escaped, the play rule and the time zone printed, Spotify's own figures set beside ours when its file exists."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from tests.report.conftest import ERIN_ZONE, SYNTH_ZONE, TRICKY_ARTIST, TRICKY_TRACK
from tutti.insights.recap import Recap
from tutti.report.html import javascript_bundle, render_recap_html, write_recap_html

URL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data", "srcset", "xlink:href", "background"}


@dataclass
class Page(HTMLParser):
    """What a test needs from a page: elements with attributes, text outside scripts, script bodies."""

    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    scripts: list[tuple[dict[str, str], str]] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    _open: tuple[str, dict[str, str]] | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag in ("script", "style"):
            self._open = (tag, attributes)

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is None:
            self.text.append(data)
        elif self._open[0] == "script":
            self.scripts.append((self._open[1], data))
        else:
            self.styles.append(data)

    def by_id(self, element_id: str) -> dict[str, str]:
        [found] = [attrs for _, attrs in self.elements if attrs.get("id") == element_id]
        return found

    @property
    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(page: str) -> Page:
    parsed = Page()
    parsed.feed(page)
    parsed.close()
    return parsed


def assert_self_contained(page: str) -> None:
    parsed = parse(page)
    for tag, attrs in parsed.elements:
        assert tag not in ("link", "iframe", "object", "embed", "base"), f"<{tag}> would load something"
        for name, value in attrs.items():
            if name in URL_ATTRIBUTES:
                assert value.startswith(("#", "data:")), f"<{tag} {name}={value!r}>"
            assert not URL.search(value) or name in ("aria-label", "title", "alt"), f"<{tag} {name}={value!r}>"
            assert "url(" not in value.replace(" ", "").lower() or "url(data:" in value.replace(" ", "").lower()
    for attrs, body in parsed.scripts:
        if attrs.get("type") == "application/json":
            continue  # chart data: listeners' names, not fetched
        assert not URL.search(body), URL.search(body)
    for css in parsed.styles:
        assert not URL.search(css) and "@import" not in css and "url(" not in css
    metas = [attrs for tag, attrs in parsed.elements if tag == "meta"]
    [policy] = [attrs["content"] for attrs in metas if attrs.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy


def assert_charts_have_text_alternatives(page: str) -> list[str]:
    """Every chart container is an image labelled by a caption, with its numbers as a table and a spec."""
    parsed = parse(page)
    containers = [attrs for tag, attrs in parsed.elements if "data-spec" in attrs]
    assert containers
    specs = {attrs["id"]: json.loads(body) for attrs, body in parsed.scripts if attrs.get("type") == "application/json"}
    keys = []
    for attrs in containers:
        key = attrs["id"].removeprefix("chart-")
        keys.append(key)
        assert attrs["role"] == "img"
        assert parsed.by_id(attrs["aria-labelledby"])  # the caption exists...
        caption = re.search(rf'<figcaption id="{attrs["aria-labelledby"]}">([^<]+)</figcaption>', page)
        assert caption and len(caption[1].strip()) > 20  # ...and says something
        spec = specs[attrs["data-spec"]]
        assert spec["description"] == html.unescape(caption[1])
        assert "$schema" not in spec
        figure = page.split(f'id="{attrs["id"]}"', 1)[1].split("</figure>", 1)[0]
        assert "<table>" in figure and figure.count("<tr>") >= 2, f"chart {key} has no table of its numbers"
    return keys


def test_synthetic_page_is_self_contained_and_tells_how_it_counted(synthetic_recap: Recap) -> None:
    page = render_recap_html(synthetic_recap)
    assert_self_contained(page)
    text = parse(page).visible_text
    assert "default-v1" in text and synthetic_recap.rule_description in text
    assert SYNTH_ZONE in text
    assert "Aurora Fields was the sound of 2024" in text
    assert "Spotify's" not in text and "Spotify says" not in text  # no service file, no comparison
    # the history ends on 14 March 2024: the page says how much of the year it stands on, in the header
    assert "Your Spotify data ends on 14 Mar 2024: this recap covers 74 of 366 days." in text
    assert "data 1 Jan – 14 Mar 2024 · 74 of 366 days" in text
    keys = assert_charts_have_text_alternatives(page)
    assert {"clock", "monthly", "daily", "devices"} <= set(keys)  # skips over time need two months


def test_names_are_escaped_in_the_page_and_in_chart_data(synthetic_recap: Recap) -> None:
    page = render_recap_html(synthetic_recap)
    assert "<script>alert(1)</script>" not in page
    assert TRICKY_ARTIST not in page  # the raw "<" never reaches the page...
    text = parse(page).visible_text
    assert TRICKY_ARTIST in text and TRICKY_TRACK in text  # ...but the reader sees the names as they are


def test_page_structure_is_accessible(synthetic_recap: Recap) -> None:
    page = render_recap_html(synthetic_recap)
    parsed = parse(page)
    tags = [tag for tag, _ in parsed.elements]
    assert tags.count("h1") == 1 and tags.count("main") == 1
    assert '<html lang="en">' in page and 'name="viewport"' in page
    sections = re.findall(r'<(?:section|footer) class="card[^"]*" aria-labelledby="([^"]+)"', page)
    assert sections and all(parsed.by_id(label) for label in sections)
    for _, attrs in parsed.elements:
        assert not attrs.get("style", "").startswith("color")  # colours come from the stylesheet's checked palette


@pytest.mark.samples
def test_sample_page_has_spotify_figures_beside_ours(erin_recap: Recap, tmp_path: Path) -> None:
    path = write_recap_html(erin_recap, tmp_path / "recap.html")
    page = path.read_text(encoding="utf-8")
    assert_self_contained(page)
    assert_charts_have_text_alternatives(page)
    text = parse(page).visible_text
    assert "default-v1" in text and ERIN_ZONE in text
    assert erin_recap.top_artists[0].name in text
    assert "Spotify's own 2023 figures, beside ours" in text
    assert "Wrapped2023.json" in text
    for figure in erin_recap.service_recaps[0].figures:
        assert (figure.theirs or "not in the file") in text and (figure.ours or "not counted by Tutti") in text
    # Spotify gives its top artists and tracks as URIs: never shown as such, and nothing missing is shown as 0.
    assert "spotify:" not in text
    assert "listened more than" not in text or "more than 69.9% of listeners worldwide" in text
    # our feature is a recap: Spotify's name for its own appears only as the name of its file
    assert not re.search(r"Wrapped(?!\d{4}\.json)", text)


def test_page_is_told_in_plays_when_exports_do_not_time_them(synthetic_recap: Recap) -> None:
    timed = parse(render_recap_html(synthetic_recap)).visible_text
    assert "minutes listened" in timed and "Minutes for each hour" in timed
    scrobbled = replace(synthetic_recap, measure="plays")
    text = parse(render_recap_html(scrobbled)).visible_text
    assert "minutes listened" not in text and "Plays for each hour" in text


def test_bundle_has_no_url_and_no_closing_script_tag() -> None:
    bundle = javascript_bundle()
    assert "vegaEmbed" in bundle
    assert not re.search(r"https?://", bundle)
    assert "</script" not in bundle.lower()


def _luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_palette_text_contrast_is_at_least_aa() -> None:
    css = (resources.files("tutti.report") / "templates" / "recap.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", css))
    for text in ("ink", "muted", "indigo", "coral", "teal", "plum"):  # text on cards and on the page
        for ground in ("card", "paper"):
            assert _contrast(colours[text], colours[ground]) >= 4.5, (text, ground)
    for ground in ("indigo", "indigo-deep", "coral", "teal", "plum"):  # white text on the bold cards and tiles
        assert _contrast("#ffffff", colours[ground]) >= 4.5, ground
    assert not re.search(r"(?<![-a-z])color: rgba\(255, 255, 255, \.[0-8]", css)  # no faded white text on colour
