"""Translations outside a request (the command line), from the same catalogues as the web."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue for ``language`` (untranslated if it is not compiled)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language])
