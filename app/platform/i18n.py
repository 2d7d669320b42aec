"""Translations outside a request (the command line), from the same catalogues as the web."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parents[1] / "translations"
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}
# the session key of the questionnaire language a respondent picked (it may be one the
# application itself is not translated into: a questionnaire's own language)
SURVEY_LANGUAGE_KEY = "survey_lang"


def language_name(code: str) -> str:
    """A language's name in that language ("Polski", "Українська"); the code if unknown."""
    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name()
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue for ``language`` (untranslated if it is not compiled)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language])


def translate(msgid: str, language: str) -> str:
    """``msgid`` in ``language``, whatever the current locale is (inside an app context)."""
    from flask_babel import force_locale, gettext

    with force_locale(language):
        return str(gettext(msgid))
