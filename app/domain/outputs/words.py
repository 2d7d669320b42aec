"""The fixed words of the response files (workbook and CSV) in each language they are
written in: sheet names, column headers and the coded values of the fixed columns.

Polish is the default; English on request (the export's ``language`` ``en``). The names are
identifiers more than prose — analysts' formulas, macros and scripts refer to them — so
they are kept here as fixed data, one set per language, and not in the translators'
catalogue, where an edit of a translation would silently rename a column. Column headers
are single words joined by ``_`` (no spaces: they become variable names in R, SPSS or
pandas); sheet names are words as people write them.

What never changes with the language: the questionnaire's variable names (the codebook's
names), choice codes, XLSForm type names (``select_one``, ``integer``), AAPOR codes and
rate names (``RR1``), and everything in the SPSS and Stata files and the JSON API, whose
variable and field names are the English ones below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from app.domain.fieldwork.aapor import E_FORMULA

FILE_LANGUAGES = ("pl", "en")
DEFAULT_FILE_LANGUAGE = "pl"

# sheet keys (the English names)
RESPONSES, CODEBOOK, CHOICES = "Responses", "Codebook", "Choices"
CALLS, DISPOSITIONS, CONTACTS = "Calls", "Dispositions", "Contacts"
SHEETS = (RESPONSES, CODEBOOK, CHOICES, CALLS, DISPOSITIONS, CONTACTS)

_POLISH_SHEETS = {
    RESPONSES: "Odpowiedzi",
    CODEBOOK: "Książka kodowa",
    CHOICES: "Kategorie",
    CALLS: "Połączenia",
    DISPOSITIONS: "Wyniki końcowe",
    CONTACTS: "Kontakty",
}

# every fixed column header of the response files, English -> Polish
_POLISH_COLUMNS = {
    # the responses' metadata (app.domain.outputs.export.META_COLUMNS)
    "response_id": "id_odpowiedzi",
    "external_id": "id_zewnętrzne",
    "institution": "instytucja",
    "entity_type": "typ_podmiotu",
    "subregion": "podregion",
    "powiat": "powiat",
    "gmina": "gmina",
    "mode": "tryb",
    "status": "status",
    "started": "rozpoczęto",
    "completed": "ukończono",
    "duration_minutes": "czas_trwania_min",
    "interviewer": "ankieter",
    "definition_version": "wersja_kwestionariusza",
    "demo": "demo",
    "test": "test",
    # a list's (repeat's) sheet (REPEAT_KEY_COLUMNS)
    "parent_key": "klucz_nadrzędny",
    "instance": "nr_wpisu",
    "instance_key": "klucz_wpisu",
    # the codebook
    "variable": "zmienna",
    "label": "etykieta",
    "type": "typ",
    "group": "grupa",
    "relevance": "warunek",
    "constraint": "ograniczenie",
    "required": "wymagane",
    "choice_list": "lista_kategorii",
    "sheet": "arkusz",
    # the choices
    "list": "lista",
    "code": "kod",
    "sheets": "arkusze",
    # the calls
    "number": "numer",
    "ended": "zakończono",
    "outcome_code": "kod_wyniku",
    "outcome_label": "wynik",
    "aapor_code": "kod_aapor",
    "note": "notatka",
    # dispositions and rates
    "cases": "przypadki",
    "rate": "wskaźnik",
    "value": "wartość",
    "formula": "wzór",
    # the contacts
    "response_status": "status_odpowiedzi",
    "invitations_sent": "wysłane_zaproszenia",
    "reminders_sent": "wysłane_przypomnienia",
    "email_opted_out": "rezygnacja_z_poczty",
    "email_bounced": "poczta_niedoręczona",
}

# coded values of the fixed columns (status, mode) and of the codebook, English -> Polish
_POLISH_VALUES = {
    "complete": "kompletna",
    "partial": "częściowa",
    "in_progress": "w_toku",
    "not_started": "nierozpoczęta",
    "online": "internet",
    "phone": "telefon",
    "both": "internet_i_telefon",
    "yes": "tak",
    "no": "nie",
    E_FORMULA: E_FORMULA.replace(" unless set", ", chyba że ustawiono ją ręcznie"),
}

# the codebook's notes on a type (see EARLIEST_SPREADSHEET_YEAR in export.py)
_NOTES = {
    "en": {
        "date": "date (before 1900: text YYYY-MM-DD)",
        "repeat": "repeat (number of entries; the entries are rows of sheet %(sheet)s)",
        "other": "other",
        "time": "time (HH:MM)",
        "datetime": "datetime (Europe/Warsaw wall clock)",
        "range": "range (%(start)s..%(end)s, step %(step)s)",
        "rank": "rank (codes in rank order; column VARIABLE_CODE: the rank of each choice)",
        "geopoint": "geopoint (text 'lat lon alt acc'; numbers in _lat, _lon, _alt, _acc)",
        "geotrace": "geotrace (text: points 'lat lon alt acc' separated by ;)",
        "geoshape": "geoshape (text: points 'lat lon alt acc' separated by ;, first = last)",
        "acknowledge": "acknowledge (OK)",
        "file": (
            "file (the name of the file sent; the files: in the attachments zip, folder"
            " RESPONSE_ID/VARIABLE; not collected by phone: blank)"
        ),
    },
    "pl": {
        "date": "date (data; przed 1900 r.: tekst RRRR-MM-DD)",
        "repeat": "repeat (liczba wpisów; wpisy są wierszami arkusza %(sheet)s)",
        "other": "inne",
        "time": "time (godzina GG:MM)",
        "datetime": "datetime (data i godzina, czas warszawski)",
        "range": "range (%(start)s..%(end)s, krok %(step)s)",
        "rank": "rank (kody w kolejności rang; kolumna ZMIENNA_KOD: ranga każdej kategorii)",
        "geopoint": "geopoint (tekst 'szer dług wys dokł'; liczby w _lat, _lon, _alt, _acc)",
        "geotrace": "geotrace (tekst: punkty 'szer dług wys dokł' rozdzielone ;)",
        "geoshape": (
            "geoshape (tekst: punkty 'szer dług wys dokł' rozdzielone ;, pierwszy = ostatni)"
        ),
        "acknowledge": "acknowledge (OK)",
        "file": (
            "file (nazwa przesłanego pliku; pliki: w archiwum załączników, folder"
            " ID_ODPOWIEDZI/ZMIENNA; przez telefon nie zbiera się plików: puste)"
        ),
    },
}
# the types whose codebook entry is a note (the others: the type's name)
NOTED_TYPES = frozenset(("date", "time", "datetime", "rank", "geopoint", "geotrace", "geoshape",
                         "acknowledge", "file"))  # fmt: skip


@dataclass(frozen=True)
class FileWords:
    """The fixed words of a response file in one language (English: the keys themselves)."""

    language: str
    sheets: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)

    def sheet(self, key: str) -> str:
        """A workbook sheet's name (``key``: its English name, one of ``SHEETS``)."""
        return self.sheets.get(key, key)

    def column(self, name: str) -> str:
        """A fixed column's header; a ``label_<language>`` column keeps its suffix."""
        if name.startswith("label_") and name not in self.columns:
            return f"{self.columns.get('label', 'label')}_{name.removeprefix('label_')}"
        return self.columns.get(name, name)

    def header(self, names: Iterable[str]) -> list[str]:
        """Fixed headers translated; ``names`` are all fixed ones (no variables)."""
        return [self.column(name) for name in names]

    def value(self, text: str) -> str:
        """A coded value of a fixed column (status, mode, yes/no) in this language."""
        return self.values.get(text, text)

    def note(self, key: str) -> str:
        """The codebook's note on a type (one of ``NOTED_TYPES``), ``repeat`` (with
        ``%(sheet)s``), ``range`` (with its bounds) or ``other``."""
        return _NOTES.get(self.language, _NOTES["en"])[key]


ENGLISH = FileWords("en")
POLISH = FileWords("pl", _POLISH_SHEETS, _POLISH_COLUMNS, _POLISH_VALUES)


def file_words(language: str | None) -> FileWords:
    """The words of a file in ``language`` (Polish unless it is English)."""
    return ENGLISH if language == "en" else POLISH
