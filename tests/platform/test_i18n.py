"""Every string in code and templates is translated into Polish, and pages render in Polish."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from app.models.users import Role
from tests.support import page_text

PROJECT = Path(__file__).resolve().parents[2]
PO_FILE = PROJECT / "app" / "translations" / "pl" / "LC_MESSAGES" / "messages.po"


def _extract(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-k",
            "lazy_gettext",
            "-k",  # the command line's say("...") and fail("...") (app/platform/cli.py)
            "say",
            "-k",
            "fail",
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with pot.open("rb") as handle:
        return read_po(handle)


def test_polish_catalogue_translates_every_extracted_string(tmp_path: Path) -> None:
    extracted = _extract(tmp_path)
    with PO_FILE.open("rb") as handle:
        polish = read_po(handle, locale="pl")
    missing, empty, fuzzy = [], [], []
    for message in extracted:
        if not message.id:
            continue
        translated = polish.get(message.id)
        if translated is None:
            missing.append(message.id)
        elif translated.fuzzy:
            fuzzy.append(message.id)
        elif isinstance(translated.string, tuple):
            if not all(translated.string):
                empty.append(message.id)
        elif not translated.string:
            empty.append(message.id)
    assert missing == [], "run `make extract-messages` and translate"
    assert empty == []
    assert fuzzy == []


def test_placeholders_survive_translation() -> None:
    import re

    with PO_FILE.open("rb") as handle:
        polish = read_po(handle, locale="pl")
    for message in polish:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0]))
        for string in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", string)) == wanted, message.id


def test_every_page_renders_in_polish(app, client, login_as) -> None:
    login_as(Role.ADMIN)
    pages = ["/", "/admin/users", "/admin/users/1", "/surveys/", "/password"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert '<html lang="pl">' in html, url
        text = page_text(response)
        assert "Przejdź do treści" in text, url  # the skip link, translated
        for english in ("Home", "Log out", "Users", "Surveys", "Password"):
            assert f" {english} " not in f" {text} ", (url, english)


def test_the_polish_catalogue_defines_each_message_once() -> None:
    """Two definitions of one msgid (branches both adding it) compile silently, the later
    one winning; msgfmt calls it a fatal error. Each entry is defined once."""
    path = Path(__file__).resolve().parents[2] / "app/translations/pl/LC_MESSAGES/messages.po"
    keys: list[str] = []
    current: list[str] = []
    collecting = False
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith(("msgctxt", "msgid ")):
            if line.startswith("msgctxt") or not collecting:
                current = []
            collecting = True
            current.append(line)
        elif line.startswith('"') and collecting:
            current.append(line)
        elif collecting:
            keys.append("\n".join(current))
            collecting = False
    duplicates = sorted({key for key in keys if keys.count(key) > 1 and key != 'msgid ""'})
    assert duplicates == []
