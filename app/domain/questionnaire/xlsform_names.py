"""Names in XLSForm workbooks as Ankieta reads them: languages, ids and list names.

XLSForm names a language in a column header as people write it (``label::English``,
``label::Polski (pl)``, ``label::Kiswahili``); Ankieta keeps languages by code. A form's id
comes from the file name when the settings have none, as pyxform does.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import PurePath

from app.domain.questionnaire.build import LANGUAGE_PATTERN

_LANGUAGE_IN_NAME = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)\s*$")
# Languages' own names as people write them in headers (Babel adds the English names).
_OWN_LANGUAGE_NAMES = {
    "polski": "pl",
    "deutsch": "de",
    "français": "fr",
    "francais": "fr",
    "español": "es",
    "espanol": "es",
    "italiano": "it",
    "português": "pt",
    "portugues": "pt",
    "kiswahili": "sw",
    "українська": "uk",
    "русский": "ru",
    "čeština": "cs",
    "slovenčina": "sk",
    "lietuvių": "lt",
    "беларуская": "be",
    "العربية": "ar",
    "हिन्दी": "hi",
    "bahasa indonesia": "id",
    "af soomaali": "so",
    "አማርኛ": "am",
    "tiếng việt": "vi",
    "中文": "zh",
}


def language_code(name: str) -> str | None:
    """``pl`` for ``Polski (pl)``, ``pl``, ``Polski`` or ``Polish``; None for a name that
    is no known language."""
    match = _LANGUAGE_IN_NAME.search(name)
    if match:
        return match.group(1).lower()
    written = name.strip()
    if LANGUAGE_PATTERN.match(written):
        return written
    return language_names().get(written.casefold())


@cache
def language_names() -> dict[str, str]:
    """Language names (casefolded) to codes: the languages' own names people write in
    headers, then every English name Babel knows (``Swahili`` -> ``sw``)."""
    from babel import Locale

    names = {
        english.casefold(): code
        for code, english in Locale("en").languages.items()
        if LANGUAGE_PATTERN.match(code)
    }
    return {**names, **_OWN_LANGUAGE_NAMES}


def unknown_language_code(name: str, taken: set[str]) -> str:
    """A code for a language whose name says none: ``und-`` (undetermined) and the name's
    first letters, unlike the codes already ``taken``."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    letters = re.sub(r"[^a-z0-9]", "", folded)[:8].ljust(2, "x")
    code, number = f"und-{letters}", 1
    while code in taken:
        number += 1
        code = f"und-{letters[:6]}{number:02d}"
    return code


def file_stem(filename: str) -> str:
    """The file's name without its folder and extension (pyxform's fallback form name)."""
    return PurePath(filename).stem or "form"


def as_id(text: str, prefix: str = "form") -> str:
    """``text`` as an id: lowercase ASCII letters, digits and ``_``, starting with a letter
    (``prefix`` put before it when it does not)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "_", folded).strip("_")
    if not words or not words[0].isalpha():
        words = f"{prefix}_{words}".rstrip("_")
    return words
