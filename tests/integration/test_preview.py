"""`synthfeed preview` as a browser shows it: headless Chromium loads the page without a
console error and finds one panel per field and the episodes, with their ids as hover text."""

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import PROFILES, run_synthfeed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="chromium missing (scripts/setup installs it)")

COLD_CHAIN_FIELDS = ["temp_c", "humidity_pct", "compressor_kw"]


def chromium(page: Path, profile_dir: Path, *flags: str) -> subprocess.CompletedProcess:
    """Loads `page` in headless Chromium with console messages logged to stderr."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
         f"--user-data-dir={profile_dir}", "--enable-logging=stderr", "--v=0", *flags,
         page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True)


def console_lines(stderr: str) -> list[str]:
    """Chromium's log lines for what a page wrote to its console or an uncaught error."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line]


class PreviewDom(HTMLParser):
    """The panels, episode bands and their hover titles of a rendered page."""

    def __init__(self):
        super().__init__()
        self.panels: list[str] = []
        self.episodes: list[dict] = []
        self.titles: list[str] = []
        self.external: list[str] = []
        self._in_episode_title = False
        self._in_episode = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "g" and a.get("class") == "panel":
            self.panels.append(a["data-field"])
        if tag == "rect" and a.get("class") == "episode":
            self.episodes.append(a)
            self._in_episode = True
        if tag == "title" and self._in_episode:
            self._in_episode_title = True
        for name in ("src", "href", "xlink:href"):
            if name in a:
                self.external.append(f"{tag} {name}={a[name]}")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_episode_title = False
        if tag == "rect":
            self._in_episode = False

    def handle_data(self, data):
        if self._in_episode_title:
            self.titles.append(data)


def test_console_errors_are_caught(tmp_path):
    """The check below would see an error: a page that logs one shows in stderr."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('planted-error');"
                    "</script></body></html>")
    result = chromium(page, tmp_path / "chromium", "--dump-dom")
    assert any("planted-error" in line for line in console_lines(result.stderr)), result.stderr


def test_preview_page_loads_cleanly_with_panels_and_episodes(synthfeed_bin, tmp_path):
    out = tmp_path / "preview.html"
    result = run_synthfeed(synthfeed_bin, "preview", PROFILES / "cold_chain.toml",
                           "--duration", "3d", "--out", out, check=0)
    assert result.stdout == f"preview: wrote {out}\n"

    loaded = chromium(out, tmp_path / "chromium", "--dump-dom")
    assert console_lines(loaded.stderr) == []
    dom = PreviewDom()
    dom.feed(loaded.stdout)
    assert dom.panels == COLD_CHAIN_FIELDS
    assert dom.external == []
    kinds = {e["data-kind"] for e in dom.episodes}
    assert {"level_shift", "spike"} <= kinds, kinds
    assert {e["data-class"] for e in dom.episodes} <= {"value", "transport", "fraud", "drift"}
    # Every band's hover text names its kind and the ids of its episodes.
    assert len(dom.titles) == len(dom.episodes)
    for episode, title in zip(dom.episodes, dom.titles):
        assert title.startswith(episode["data-kind"] + " ("), title
        ids = episode["data-episodes"].split()
        assert 1 <= len(ids) <= int(episode["data-count"])
        for episode_id in ids:
            assert re.fullmatch(r"reefer-00000:\d+:\d+", episode_id), episode_id
            assert episode_id in title


def test_preview_screenshot_is_drawn(synthfeed_bin, tmp_path):
    """The SVG output renders too: Chromium paints it to a non-trivial PNG."""
    out = tmp_path / "preview.svg"
    run_synthfeed(synthfeed_bin, "preview", PROFILES / "cold_chain.toml", "--duration", "1d",
                  "--out", out, check=0)
    shot = tmp_path / "shot.png"
    loaded = chromium(out, tmp_path / "chromium", f"--screenshot={shot}",
                      "--window-size=1200,900")
    assert console_lines(loaded.stderr) == []
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
