"""Translations outside a request (the command line), from the same catalogues as the web."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from babel import Locale, UnknownLocaleError
from babel.support import NullTranslations, Translations
from flask import g, has_app_context
from flask_babel import get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

if TYPE_CHECKING:
    from flask import Flask

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


# --- the templates' gettext ------------------------------------------------------------------

_TEMPLATE_TRANSLATIONS = "_ankieta_template_translations"


def _request_translations() -> NullTranslations:
    """Flask-Babel's translations for the current locale, looked up once per request and
    locale instead of once per message.

    Flask-Babel resolves the request's context nine times per look-up, and a respondent's
    page says 20–30 messages. The catalogue is remembered together with the locale object
    it was found for, so a locale forced for a while (``force_locale``) or refreshed gets
    its own catalogue, and the remembered one serves only while that very locale is current.
    """
    if not has_app_context():  # Flask-Babel answers (untranslated)
        return cast(NullTranslations, get_translations())
    here = g._get_current_object()  # (the request's own g: one context look-up, not four)
    state = getattr(here, "_flask_babel", None)  # Flask-Babel's per-request state
    locale = getattr(state, "babel_locale", None)
    remembered = getattr(here, _TEMPLATE_TRANSLATIONS, None)
    if locale is not None and remembered is not None and remembered[0] is locale:
        return cast(NullTranslations, remembered[1])
    translations = cast(NullTranslations, get_translations())  # (settles the locale too)
    state = getattr(here, "_flask_babel", None)
    setattr(here, _TEMPLATE_TRANSLATIONS, (getattr(state, "babel_locale", None), translations))
    return translations


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    """The templates' ``_``/``gettext``: as jinja2.ext.i18n's "newstyle" one (escaped
    when the template is, always %-formatted), in one call instead of three."""
    text = _request_translations().ugettext(string)
    if eval_ctx.autoescape:
        return Markup(text) % variables  # noqa: S704 - a catalogue's text, as jinja2.ext does
    return text % variables


def install_template_gettext(app: Flask) -> None:
    """Give ``app``'s templates ``_``/``gettext`` and friends that look the catalogue up
    once per request (``_request_translations``); call after Flask-Babel's init_app."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # jinja2.ext.i18n
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["gettext"] = _template_gettext
