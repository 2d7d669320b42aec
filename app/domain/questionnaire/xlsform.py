"""Reading XLSForm workbooks (ODK, KoboToolbox, SurveyCTO) into the questionnaire model.

pyxform reads the workbook (``get_xlsform``) and turns it into its JSON-like dict
(``workbook_to_json``, which builds no XForm XML). This module translates that dict into a
:class:`~app.domain.questionnaire.build.Node` document shaped like our YAML, so the same
builder and checks apply and a workbook loads into the same model as its YAML twin. It is
one cohesive thing, that translation (one class walking pyxform's dict), hence its length;
the names of languages, ids and lists are read in ``xlsform_names``.

The rule it keeps: a workbook pyxform converts loads; one pyxform refuses is refused at a
sheet and row. What Ankieta cannot use is ignored with a warning, as pyxform ignores
columns it does not know. What maps to what (docs/questionnaires.md has the whole table):

- ``survey`` rows: ``text`` (``appearance: multiline`` makes it a ``textarea``),
  ``integer``, ``decimal``, ``date``, ``time``, ``dateTime``, ``range`` (its
  ``parameters``), ``rank LIST``, ``acknowledge`` / ``trigger``, ``barcode``, ``hidden``,
  ``geopoint``, ``geotrace``, ``geoshape``, ``image`` / ``photo``, ``audio``, ``video``,
  ``file`` (a file question: ``file image`` and so on, with ``max-pixels`` from its
  ``parameters`` and ``body::accept``; ``background-audio`` is an audio upload the
  respondent records and sends, with a warning), ``note``, ``calculate``,
  ``select_one LIST`` and
  ``select_multiple LIST`` (with ``or_other``), groups and repeats (a ``repeat``'s
  ``repeat_count`` as written: pyxform's own ``NAME_count`` calculation is left out;
  Ankieta's own ``repeat_min``, ``repeat_max`` and ``instance_label``); columns ``label``,
  ``hint`` (a question's label when it has none), ``required``, ``required_message``,
  ``relevant``, ``constraint``, ``constraint_message``, ``calculation`` (a question with
  one becomes a calculation), ``default``, ``read_only``, ``appearance`` (as written:
  the builder keeps what each type honours, as for our YAML, and warns about the rest;
  ``label`` / ``list-nolabel`` rows and ``table-list`` groups become a table, see
  ``tables``), ``parameters`` (a range's bounds; a select's, rank's or group's randomize
  and seed; the rest ignored with a warning), ``choice_filter``. Other columns, media and
  sheets Ankieta does not read: a warning.
- Languages: ``label::Polski (pl)``, ``label::pl``, ``label::Polski`` or
  ``label::Polish`` are ``pl``; a column without a language is in the default language.
  A text missing in one language shows the default language's, with a warning.
- ``choices``: ``list_name``, ``name``, ``label``; every other column of the sheet is a
  choice column of every choice (blank where empty, as in the XForm) for
  ``choice_filter``. ``LIST or_other`` adds pyxform's ``other`` choice to the list (so
  every question using the list offers it, as in pyxform); its text is ``<item>_other``.
- ``settings``: ``form_id`` (else the file name, as pyxform does), ``form_title``,
  ``version``, ``default_language``; other columns ignored with a warning.
- ``select_one_from_file FILE`` and ``select_multiple_from_file FILE`` (``.csv`` or
  ``.xml``, ODK's conventions, ``parameters`` ``value=`` and ``label=``): the file's
  choices become a list named after the file (``attachments`` reads the file, given
  beside the workbook or with the upload); a missing or unreadable file is an error at the
  question's row naming the file (and the line of a CSV). ``.geojson`` files are refused.
- A ``calculate`` row's ``default`` (pyxform's value when the form is first opened) is
  its calculation when it has none: an expression as ``once(...)``, evaluated once and kept.
  A question's default that is an expression (``today()``) is left out with a warning.
- Metadata rows ``start``, ``end``, ``today`` and ``username`` become the settings'
  ``paradata`` (exported under their names); the other metadata rows are left out with a
  warning.

Types Ankieta does not have (``begin loop``, ...) are
refused with ``FILE:survey:ROW: item NAME: ...``. Rows come from the rows pyxform read (it
keeps empty rows, so a row's index gives its sheet row), not from a second reading of the
workbook. pyxform stops at the first structural error it finds (an unmatched
``end group``, an unknown list), so such a workbook reports that one problem.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from app.domain.messages import N_, Message
from app.domain.questionnaire.attachments import (
    CHOICES_SUFFIXES,
    AttachedFiles,
    ChoicesFileError,
    FileChoices,
    read_choices,
)
from app.domain.questionnaire.build import (
    NAME_PATTERN,
    ORDER_PARAMETERS,
    RANGE_PARAMETERS,
    Node,
    build_questionnaire,
)
from app.domain.questionnaire.model import DEFAULT_LANGUAGE, PARADATA_KINDS, SourceLocation
from app.domain.questionnaire.problems import LoadResult, Problem
from app.domain.questionnaire.xlsform_names import (
    as_id,
    file_stem,
    language_code,
    unknown_language_code,
)
from app.domain.workbooks import zip_problem

if TYPE_CHECKING:
    from pyxform.xls2json_backends import DefinitionData

_PLAIN_TYPES = frozenset(
    {"text", "integer", "decimal", "date", "note", "calculate", "group", "repeat"}
)
_SELECT_TYPES = {"select one": "select_one", "select all that apply": "select_multiple"}
# select_one_external: its list is on the external_choices sheet (ODK keeps such long
# lists out of the form); here it is an ordinary list of the questionnaire
_EXTERNAL_TYPES = {"select one external": "select_one"}
_OWN_TYPES = {  # XLSForm's name -> ours (docs/questionnaires.md)
    **{name: name for name in ("time", "range", "acknowledge", "barcode", "hidden")},
    **{name: name for name in ("geopoint", "geotrace", "geoshape", "trigger")},
    "dateTime": "datetime",
}
# XLSForm's upload types -> our file question of that kind (pyxform names image "photo")
_UPLOAD_TYPES = {
    "image": "file image",
    "photo": "file image",
    "audio": "file audio",
    "video": "file video",
    "file": "file",
    "background-audio": "file audio",
}
_UPLOAD_PARAMETERS = ("max-pixels",)
_METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
    }
)
# The names pyxform's dictionary of question types gives each type it knows, in the form
# Ankieta reads (its other names -- "int", "gps", "q note", "date time", "get start time",
# "select one using" -- are read as these; see ``_aliases``).
_CANONICAL_TYPES = (
    *("text", "integer", "decimal", "date", "time", "dateTime", "range", "rank"),
    *("acknowledge", "trigger", "barcode", "geopoint", "geotrace", "geoshape", "note"),
    *("calculate", "select one", "select all that apply", "image", "audio", "video"),
    *("file", "start", "end", "today", "deviceid", "subscriberid", "simserial"),
    *("phonenumber", "username", "email", "audit"),
)
_IMPLIED_KEYS = ("constraint", "hint")  # what an alias adds to its type ("percentage")
_ALIASES: dict[str, tuple[str, dict[str, str]]] = {}  # read once, when a workbook is first read


def _aliases() -> dict[str, tuple[str, dict[str, str]]]:
    """pyxform's other names of the types in ``_CANONICAL_TYPES``: each alias -> (the
    type, what the alias adds to it: a ``constraint`` or ``hint``, as "percentage" adds
    ``0 <= . and . <= 100`` to an integer). Read from pyxform's own dictionary, so a name
    pyxform accepts is one Ankieta reads."""
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

    def shape(spec: dict[str, Any]) -> str:
        bind = {k: v for k, v in spec.get("bind", {}).items() if k not in _IMPLIED_KEYS}
        preload = str(bind.get("jr:preloadParams", ""))
        if preload.startswith("uri:"):  # "uri:username" is username
            bind["jr:preloadParams"] = preload[len("uri:") :]
        return repr(sorted({**spec, "bind": sorted(bind.items()), "hint": None}.items()))

    by_shape = {shape(QUESTION_TYPE_DICT[name]): name for name in _CANONICAL_TYPES}
    aliases: dict[str, tuple[str, dict[str, str]]] = {}
    for alias, spec in QUESTION_TYPE_DICT.items():
        canonical = by_shape.get(shape(spec))
        read_as_written = (
            _PLAIN_TYPES,
            _OWN_TYPES,
            _SELECT_TYPES,
            _EXTERNAL_TYPES,
            _METADATA_TYPES,
            _UPLOAD_TYPES,
        )
        if canonical is None or any(alias in names for names in read_as_written):
            continue  # "hidden" is shaped as "calculate" is, yet a type of its own
        implied = {"constraint": spec.get("bind", {}).get("constraint"), "hint": spec.get("hint")}
        aliases[alias] = (canonical, {k: str(v) for k, v in implied.items() if v})
    return aliases


_BIND_KEYS = {
    "required": "required",
    "relevant": "relevant",
    "constraint": "constraint",
    "calculate": "calculation",
    "readonly": "read_only",
    "jr:requiredMsg": "required_message",
    "jr:constraintMsg": "constraint_message",
}
_TEXT_KEYS = ("label", "hint")
# the questions a person answers (a hint alone is their label; a calculation fills them)
_ASKED = frozenset(
    {"text", "textarea", "integer", "decimal", "date", "select_one", "select_multiple", "file"}
)
# types pyxform knows only in lowercase (``Select_One`` is refused by pyxform too)
_LOWERCASE_TYPES = _PLAIN_TYPES | {"select_one", "select_multiple", "begin", "end"}
_MESSAGE_KEYS = frozenset({*_TEXT_KEYS, "required_message", "constraint_message"})
_REPEAT_KEYS = ("repeat_min", "repeat_max", "instance_label")  # our columns, as written
_COUNT_COLUMNS = ("repeat_count", "jr:count", "count")  # pyxform's names for the count
_USED_KEYS = frozenset({"type", "name", "list_name", "itemset", "choices", "children"})
_KNOWN_SETTINGS = frozenset({"form_title", "form_id", "id_string", "version", "default_language"})
_OR_OTHER = re.compile(r"\s(or_other|or other|or specify other)\s*$")
_PYXFORM_ROW = re.compile(r"\[row : (\d+)\]\s*")
_PYXFORM_CHOICE = re.compile(r"See \[(.+?)\] in \[(.+?)\]")
_PYXFORM_SHEET = re.compile(r"'(survey|choices|settings)' sheet")
_NO_LANGUAGE = "default"  # pyxform's name for columns without ::language
_READ_SHEETS = frozenset({"survey", "choices", "settings", "external_choices"})
_DYNAMIC_DEFAULT = re.compile(r"\$\{|\(")  # pyxform's dynamic defaults: a call or a reference
_GENERATED_LABEL = "generated_table_list_label_"  # pyxform's note of a table-list's label
_GENERATED_HEADER = "reserved_name_for_field_list_labels_"  # and its header row


def load_xlsform(data: bytes, filename: str, attached: AttachedFiles | None = None) -> LoadResult:
    """Read, build and check an XLSForm workbook (the bytes of an .xlsx file); ``attached``
    holds the choices files its questions may name (none by default)."""
    # Imported here: pyxform takes a noticeable time to import and only workbooks need it
    # (bench/cli.py), so ``surveys check`` of YAML files and the web process go without it.
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    whole_file = SourceLocation(filename)
    try:
        # the same zip-bomb check as for sample workbooks, before anything is unpacked
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            refusal = zip_problem(archive)
    except (zipfile.BadZipFile, ValueError, OSError):
        refusal = None  # not a zip: the reader below says the file cannot be read
    if refusal is not None:
        return LoadResult(None, [Problem(whole_file, None, refusal)])
    try:
        with warnings.catch_warnings():
            # openpyxl warns about workbook features it skips (data validation, ...): they
            # say nothing about the questionnaire.
            warnings.simplefilter("ignore")
            workbook = get_xlsform(data, file_type=".xlsx")
    except Exception:  # any failure of the zip/XML readers means the same: not a workbook
        message = Message(N_("The file is not an .xlsx workbook that can be read."))
        return LoadResult(None, [Problem(whole_file, None, message)])
    rows = _Rows(filename, workbook)  # before workbook_to_json, which rewrites the rows
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            form = workbook_to_json(workbook, fallback_form_name=file_stem(filename), warnings=[])
    except PyXFormError as error:
        return LoadResult(None, [_pyxform_problem(filename, str(error), rows)])
    except Exception as error:  # pyxform's own bugs on odd workbooks must not escape
        message = Message(N_("The workbook cannot be read: %(reason)s."), {"reason": error})
        return LoadResult(None, [Problem(whole_file, None, message)])
    converter = _Converter(filename, rows, workbook, attached or AttachedFiles.none())
    converter.other_sheets(workbook.sheet_names or [])
    document = converter.document(form)
    return build_questionnaire(document, filename, converter.problems)


def _pyxform_problem(filename: str, text: str, rows: _Rows) -> Problem:
    """pyxform's error as a problem at the sheet and row it names (or the choice it names
    as ``See [CHOICE] in [LIST]``)."""
    row = _PYXFORM_ROW.search(text)
    sheet = _PYXFORM_SHEET.search(text)
    choice = _PYXFORM_CHOICE.search(text)
    if row is None and choice is not None:
        location = rows.choice(choice.group(2), choice.group(1))
    else:
        location = SourceLocation(
            filename,
            sheet=sheet.group(1) if sheet else ("survey" if row else None),
            row=int(row.group(1)) if row else None,
        )
    reason = _PYXFORM_ROW.sub("", text).strip()
    return Problem(location, None, Message(N_("XLSForm: %(reason)s"), {"reason": reason}))


class _Rows:
    """Where each question and choice was written in the workbook."""

    def __init__(self, filename: str, workbook: DefinitionData) -> None:
        self.filename = filename
        self.survey: dict[str, int] = {}
        self.types: dict[str, str] = {}
        self.counts: dict[str, str] = {}  # a repeat's repeat_count as written
        self.choices: dict[tuple[str, str], int] = {}
        # pyxform keeps empty rows, so the n-th row read is sheet row n + 2 (after headers).
        for index, written in enumerate(workbook.survey or [], start=2):
            row = _lowercase_headers(written)
            name = row.get("name")
            if name and name not in self.survey:
                self.survey[name] = index
                self.types[name] = str(row.get("type", ""))
                count = next((row[c] for c in _COUNT_COLUMNS if row.get(c) is not None), None)
                if count is not None:
                    self.counts[name] = str(count)
        for index, written in enumerate(workbook.choices or [], start=2):
            row = _lowercase_headers(written)
            list_name = row.get("list_name") or row.get("list name")
            if list_name and "name" in row:
                self.choices.setdefault((list_name, row["name"]), index)

    def question(self, name: str) -> SourceLocation:
        """Where the question ``name`` was written."""
        return SourceLocation(self.filename, sheet="survey", row=self.survey.get(name))

    def choice(self, list_name: str, name: str) -> SourceLocation:
        """Where a choice was written."""
        row = self.choices.get((list_name, name))
        if row is None:  # a choice pyxform added (or_other): point at the list
            row = min((r for (lst, _), r in self.choices.items() if lst == list_name), default=None)
        return SourceLocation(self.filename, sheet="choices", row=row)


class _Converter:
    """Turns pyxform's dict into a document shaped like our YAML."""

    def __init__(
        self, filename: str, rows: _Rows, workbook: DefinitionData, attached: AttachedFiles
    ) -> None:
        self.filename = filename
        self.attached = attached
        self.sheet_lists: set[str] = set()  # the lists of the choices sheet, as named here
        self.file_lists: dict[tuple[str, str, str], str] = {}  # (file, value, label) -> list
        self.file_choices: dict[str, tuple[list[Node], SourceLocation]] = {}
        self.external_rows: list[dict[str, Any]] = list(workbook.external_choices or [])
        self.external_lists: dict[str, str | None] = {}  # external_choices list -> our list
        self.rows = rows
        self.raw_settings: dict[str, Any] = (workbook.settings or [{}])[0]
        self.problems: list[Problem] = []
        self.codes: dict[str, str] = {}  # pyxform language name -> our language code
        self.default_language = DEFAULT_LANGUAGE
        self.language_list = [DEFAULT_LANGUAGE]
        self.choice_columns: set[str] = set()
        self.other_lists: set[str] = set()
        self.paradata = Node(SourceLocation(filename, sheet="survey"))
        self.generated: set[str] = set()  # the <item>_other questions pyxform added
        self.file_questions: set[str] = set()  # the select_*_from_file questions
        self.table_names: set[str] = set()  # the names given to tables (``table_name``)
        self.aliases = _ALIASES or _ALIASES.update(_aliases()) or _ALIASES

    def error(self, where: SourceLocation, item: str | None, msgid: str, **params: Any) -> None:
        """Report an error written at ``where``."""
        self.problems.append(Problem(where, item, Message(msgid, params)))

    def warning(self, where: SourceLocation, item: str | None, msgid: str, **params: Any) -> None:
        """Report a warning written at ``where``."""
        self.problems.append(Problem(where, item, Message(msgid, params), "warning"))

    def document(self, form: dict[str, Any]) -> Node:
        """The whole document: settings, choices and survey."""
        languages = self.languages(form)
        document = Node(SourceLocation(self.filename))
        self.sheet_lists = {self.list_name(written) for written in form.get("choices", {})}
        survey = self.items(form.get("children", []))
        document.put("settings", self.settings(form, languages))
        choices = self.choices(form.get("choices", {}))
        for list_name, (entries, where) in self.file_choices.items():
            choices.put(list_name, entries, where)
        document.put("choices", choices)
        document.put("survey", survey, SourceLocation(self.filename, sheet="survey"))
        return document

    # languages

    def languages(self, form: dict[str, Any]) -> list[str]:
        """Map pyxform's language names to codes; the default language first.

        ``label::Polski (pl)`` and ``label::pl`` give ``pl``; a language's name alone
        (``label::English``, ``label::Polski``, ``label::Kiswahili``) the code of that name;
        a name that is no known language gets ``und-`` and its first letters. A
        column without ``::`` is in the default language: the ``default_language`` setting,
        else ``pl``, else the first language found.
        """
        names: list[str] = []
        for text in _texts(form):
            names += [name for name in text if name not in names]
        header = SourceLocation(self.filename, sheet="survey", row=1)
        for name in names:
            if name == _NO_LANGUAGE:
                continue
            code = language_code(name)
            if code is None:
                code = unknown_language_code(name, set(self.codes.values()))
                self.warning(
                    header,
                    None,
                    N_("The language %(language)s is not known: its code here is %(code)s."),
                    language=name,
                    code=code,
                )
            self.codes[name] = code
        setting = form.get("default_language", _NO_LANGUAGE)
        declared = self.codes.get(setting) or language_code(str(setting))
        found = list(dict.fromkeys(self.codes.values()))
        if declared is not None:
            self.default_language = declared
        elif found and _NO_LANGUAGE not in names:
            self.default_language = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in found else found[0]
        self.codes[_NO_LANGUAGE] = self.default_language
        self.language_list = [self.default_language] + [
            code for code in found if code != self.default_language
        ]
        return self.language_list

    def text(self, value: Any, location: SourceLocation, key: str, item: str | None) -> Any:
        """A text as our YAML writes it: a string, or a mapping of language codes to strings.

        A language without its own text shows the default language's (or, without that,
        the first one given), as XLSForm does, with a warning."""
        if not isinstance(value, dict):
            if key not in _MESSAGE_KEYS or value is None:
                return value
            value = {_NO_LANGUAGE: value}
        by_code: dict[str, str] = {}
        for name, text in value.items():
            code = self.codes.get(name)
            if code is None or text is None or not str(text).strip():
                continue
            if name != _NO_LANGUAGE or code not in by_code:  # a named column wins
                by_code[code] = str(text)
        if not by_code:
            return None
        missing = [code for code in self.language_list if code not in by_code]
        if missing:
            fallback = self.default_language if self.default_language in by_code else None
            fallback = fallback or next(iter(by_code))
            self.warning(
                location,
                item,
                N_("%(key)s has no text in %(languages)s: the %(fallback)s text is shown."),
                key=key,
                languages=", ".join(missing),
                fallback=fallback,
            )
            for code in missing:
                by_code[code] = by_code[fallback]
        node = Node(location)
        for code in self.language_list:
            node.put(code, by_code[code])
        return node

    # settings and choices

    def settings(self, form: dict[str, Any], languages: list[str]) -> Node:
        """Our settings from the settings sheet (and the languages found in the texts)."""
        location = SourceLocation(self.filename, sheet="settings", row=2)
        node = Node(location)
        raw = self.raw_settings
        node.put("id", self.form_id(raw, location))
        title = Node(location)
        written = raw.get("form_title")
        for language in languages:
            title.put(
                language, str(written if written not in (None, "") else file_stem(self.filename))
            )
        node.put("title", title)
        if form.get("version") is not None:
            node.put("version", str(form["version"]))
        node.put("default_language", self.default_language)
        node.put("languages", languages)
        if self.paradata:
            node.put("paradata", self.paradata, next(iter(self.paradata.key_locations.values())))
        for column in sorted(set(raw) - _KNOWN_SETTINGS):
            self.warning(
                location, None, N_("The settings column %(column)s is ignored."), column=column
            )
        return node

    def form_id(self, raw: dict[str, Any], location: SourceLocation) -> str:
        """The questionnaire's id: ``form_id`` as written, or made from the file name as
        pyxform does when it is missing, lowercased to letters, digits and ``_``."""
        written = raw.get("form_id", raw.get("id_string"))
        source = str(written).strip() if written not in (None, "") else file_stem(self.filename)
        form_id = as_id(source)
        if written in (None, ""):
            self.warning(
                location,
                None,
                N_("The settings have no form_id: the id is %(id)s, from the file name."),
                id=form_id,
            )
        elif form_id != source:
            self.warning(
                location,
                None,
                N_("The form_id %(written)s is used as %(id)s (lowercase letters, digits and _)."),
                written=source,
                id=form_id,
            )
        return form_id

    def other_sheets(self, sheet_names: list[str]) -> None:
        """A warning for each sheet Ankieta does not read (pyxform ignores them too)."""
        for sheet in sheet_names:
            if sheet.strip().lower() not in _READ_SHEETS:
                self.warning(
                    SourceLocation(self.filename, sheet=sheet, row=1),
                    None,
                    N_("The sheet %(sheet)s is ignored."),
                    sheet=sheet,
                )

    def choices(self, lists: dict[str, list[dict[str, Any]]]) -> Node:
        """Every choice list of the choices sheet; every choice has every column of the
        sheet (blank where its cell is), so a ``choice_filter`` may name any of them."""
        node = Node(SourceLocation(self.filename, sheet="choices"))
        columns = list(
            dict.fromkeys(
                key
                for choices in lists.values()
                for choice in choices
                for key in choice
                if key not in ("name", "label", "media")
            )
        )
        for column in [c for c in columns if not NAME_PATTERN.match(c)]:
            columns.remove(column)
            self.warning(
                SourceLocation(self.filename, sheet="choices", row=1),
                None,
                N_("The choices column %(column)s is ignored: a choice_filter cannot name it."),
                column=column,
            )
        self.choice_columns = set(columns)
        for written, choices in lists.items():
            entries = [self.choice(written, choice, columns) for choice in choices]
            first = entries[0].location if entries else node.location
            node.put(self.list_name(written, first), entries, first)
        return node

    def list_name(self, written: str, where: SourceLocation | None = None) -> str:
        """A list's name as Ankieta names it: pyxform takes names such as ``yes-no`` or
        ``1st_list``, which become ``yes_no`` and ``list_1st_list`` (with a warning)."""
        if NAME_PATTERN.match(written):
            return written
        name = as_id(written, prefix="list")
        if where is not None:
            self.warning(
                where,
                None,
                N_("The list name %(written)s is used as %(name)s (letters, digits and _)."),
                written=written,
                name=name,
            )
        return name

    def choice(self, list_name: str, choice: dict[str, Any], columns: list[str]) -> Node:
        """One choice as our YAML writes it (``other`` set for or_other lists)."""
        name = str(choice.get("name", ""))
        location = self.rows.choice(list_name, name)
        node = Node(location)
        for key, value in choice.items():
            if key == "label":
                node.put(key, self.text(value, location, key, None))
            elif key == "media":
                self.warning(
                    location,
                    None,
                    N_("Images, audio and video in choices are ignored."),
                )
            elif key == "name" or key in self.choice_columns:
                node.put(key, "" if value is None else str(value))
        for column in columns:
            if column not in node:
                node.put(column, "")
        if node.get("label") is None and name:
            self.warning(
                location,
                None,
                N_("The choice %(name)s has no label: its name is shown."),
                name=name,
            )
            node.put("label", name)
        if self.list_name(list_name) in self.other_lists and name == "other":
            node.put("other", True)
        return node

    # questions

    def item(self, element: dict[str, Any]) -> Node | None:
        """Our item for pyxform's ``element`` (None when it is left out or refused)."""
        name = str(element.get("name", ""))
        location = self.rows.question(name)
        kind = str(element.get("type", ""))
        if kind in self.aliases:  # "int", "gps", "q note": another name pyxform gives a type
            kind, implied = self.aliases[kind]
            element = {**element, "type": kind}
            bind = element.get("bind") or {}
            if "constraint" in implied and "constraint" not in bind:
                element["bind"] = {**bind, "constraint": implied["constraint"]}
            if "hint" in implied and "hint" not in element:
                element["hint"] = implied["hint"]
        if name == "meta" and element.get("control", {}).get("bodyless"):
            for child in element.get("children", []):  # pyxform moves audit in there
                if child.get("name") not in ("instanceID", "instanceName"):
                    self.item(child)
            return None  # pyxform's own instanceID block
        if name in self.generated and name not in self.rows.survey:
            return None  # pyxform's text for "other"; ours is derived from the list
        item_type = self.item_type(element, name, kind, location)
        if item_type is None:
            for child in element.get("children", []):  # report what is inside a repeat, too
                self.item(child)
            return None
        node = Node(location)
        node.put("type", item_type)
        node.put("name", name)
        parameterized = bool(element.get("parameters"))
        for key, value in element.items():
            self.column(node, name, key, value, parameterized)
        if "children" in element:
            node.put("children", self.items(element["children"]))
            self.tables(node)
            if not node["children"] and not any(p.is_error for p in self.problems):
                self.warning(
                    location, name, N_("The %(type)s has no items: it is left out."), type=kind
                )
                return None
        if item_type == "calculate" and node.get("default") is not None:
            self.calculate_default(node, name)
        elif _DYNAMIC_DEFAULT.search(str(node.get("default") or "")):
            # pyxform's dynamic default: computed when the question is first shown
            node.put("default_expression", str(node.pop("default")))
        if item_type == "hidden" and node.get("default") is None and "calculation" not in node:
            self.warning(location, name, N_("The hidden item has no value: it stays empty."))
            node.put("default", "")  # pyxform takes it: an XForm field nothing fills
        asked = item_type.split()[0] in _ASKED
        if node.get("label") is None and node.get("hint") is not None and asked:
            node.put("label", node.pop("hint"))  # pyxform shows a hint alone as the question
        if kind == "background-audio" and node.get("label") is None:
            node.put("label", self.text(name, location, "label", name))  # ODK asks nothing
        if node.get("calculation") is not None and asked:
            return self.calculated_question(node, name, item_type)
        return node

    # choices files

    def file_list(
        self, element: dict[str, Any], name: str, file: str, location: SourceLocation
    ) -> str | None:
        """The list of a ``select_*_from_file`` question's choices file, read once per file
        (and ``value=``/``label=`` parameters); None when it cannot be read (an error)."""
        self.file_questions.add(name)
        if not file.lower().endswith(CHOICES_SUFFIXES):
            self.error(
                location,
                name,
                N_("Choices from %(file)s are not supported: give them as a .csv or .xml file."),
                file=file,
            )
            return None
        parameters = element.get("parameters") or {}
        value = str(parameters.get("value", "name"))
        label = str(parameters.get("label", "label"))
        key = (file, value, label)
        if key in self.file_lists:
            return self.file_lists[key]
        try:
            data = self.attached.read(file)
        except ChoicesFileError as error:  # missing, too large: a sentence naming the file
            self.problems.append(Problem(location, name, error.message))
            return None
        try:
            found = read_choices(file, data, value, label)
        except ChoicesFileError as error:
            self.file_error(location, name, file, error)
            return None
        list_name = as_id(PurePosixPath(file).stem, prefix="list")
        taken = self.sheet_lists | set(self.file_choices)
        number = 1
        while list_name in taken:
            number += 1
            list_name = f"{as_id(PurePosixPath(file).stem, prefix='list')}_file{number}"
        self.file_lists[key] = list_name
        where = SourceLocation(self.attached.shown(file), line=1 if file.endswith(".csv") else None)
        self.file_choices[list_name] = (self.file_entries(file, found), where)
        return list_name

    def external_list(self, written: str, name: str, location: SourceLocation) -> str | None:
        """The list of a ``select_one_external`` question: its rows of the external_choices
        sheet as a list of the questionnaire (read once per list; None when it has none)."""
        if written in self.external_lists:
            return self.external_lists[written]
        found = [
            (row_number, _lowercase_headers(raw), raw)
            for row_number, raw in enumerate(self.external_rows, start=2)
            if str(_list_of(_lowercase_headers(raw))) == written
        ]
        if not found:
            self.error(
                location,
                name,
                N_("The list %(list)s has no choices on the external_choices sheet."),
                list=written,
            )
            self.external_lists[written] = None
            return None
        columns = list(
            dict.fromkeys(
                key
                for _, row, _ in found
                for key in row
                if NAME_PATTERN.match(key) and key not in ("list_name", "name", "label")
            )
        )
        base = as_id(written, prefix="list")
        list_name, number = base, 1
        while list_name in self.sheet_lists or list_name in self.file_choices:
            number += 1
            list_name = f"{base}_external{number}"
        entries: list[Node] = []
        for row_number, row, raw in found:
            where = SourceLocation(self.filename, sheet="external_choices", row=row_number)
            node = Node(where)
            code = str(row.get("name", "") or "")
            node.put("name", code)
            labels = {  # the language as the header writes it (label::English (en))
                (_NO_LANGUAGE if "::" not in key else key.split("::", 1)[1].strip()): value
                for key, value in raw.items()
                if str(key).strip().lower().split("::", 1)[0] == "label"
            }
            label = self.text(labels, where, "label", None) if labels else None
            node.put("label", label if label is not None else code)
            for column in columns:
                value = row.get(column)
                node.put(column, "" if value is None else str(value))
            entries.append(node)
        self.file_choices[list_name] = (
            entries,
            SourceLocation(self.filename, sheet="external_choices", row=found[0][0]),
        )
        self.external_lists[written] = list_name
        return list_name

    def file_error(
        self, location: SourceLocation, name: str, file: str, error: ChoicesFileError
    ) -> None:
        """A choices file that cannot be read, at the question's row: the file, the line."""
        if error.line is not None:
            self.error(
                location,
                name,
                N_("The choices file %(file)s, line %(line)s: %(problem)s."),
                file=file,
                line=error.line,
                problem=error.message,
            )
        else:
            self.error(
                location,
                name,
                N_("The choices file %(file)s: %(problem)s."),
                file=file,
                problem=error.message,
            )

    def file_entries(self, file: str, found: FileChoices) -> list[Node]:
        """The choices of a file as our YAML writes them: every column on every choice (for
        ``choice_filter``), labels in the form's languages (the default language's, else
        the code, where one is missing: one warning per file)."""
        shown = self.attached.shown(file)
        header = SourceLocation(shown, line=1 if file.lower().endswith(".csv") else None)
        columns = [c for c in found.columns if NAME_PATTERN.match(c) and c not in ("name", "label")]
        for column in [c for c in found.columns if c not in columns]:
            self.warning(
                header,
                None,
                N_("The choices column %(column)s is ignored: a choice_filter cannot name it."),
                column=column,
            )
        codes: dict[str, str] = {"": self.default_language}
        written = {language for choice in found.choices for language in choice.labels}
        for language in sorted(written - {""}):
            code = self.codes.get(language) or language_code(language)
            if code in self.language_list:
                codes[language] = code
            else:
                self.warning(
                    header,
                    None,
                    N_(
                        "The language %(language)s is not one of the form's: its labels are "
                        "ignored."
                    ),
                    language=language,
                )
        entries: list[Node] = []
        short: set[str] = set()
        for choice in found.choices:
            location = SourceLocation(shown, line=choice.line)
            node = Node(location)
            node.put("name", choice.name)
            by_code = {codes[k]: text for k, text in choice.labels.items() if k in codes}
            fallback = by_code.get(self.default_language) or next(iter(by_code.values()), None)
            label = Node(location)
            for code in self.language_list:
                if code not in by_code:
                    short.add(code)
                label.put(code, by_code.get(code) or fallback or choice.name)
            node.put("label", label)
            for column in columns:
                node.put(column, choice.columns.get(column, ""))
            entries.append(node)
        if short:
            self.warning(
                header,
                None,
                N_(
                    "Some choices have no label in %(languages)s: the %(fallback)s label (or "
                    "the code) is shown."
                ),
                languages=", ".join(sorted(short)),
                fallback=self.default_language,
            )
        return entries

    def calculate_default(self, node: Node, name: str) -> None:
        """A calculate's ``default`` (pyxform sets it when the form is first opened): its
        calculation when it has none, an expression (``uuid()``, ``now()``) as
        ``once(...)``, so it is evaluated once and kept; beside a calculation, ignored."""
        default = str(node.pop("default"))
        if "calculation" in node:
            self.ignore_column(node.location, name, "default")
        elif _DYNAMIC_DEFAULT.search(default):
            node.put("calculation", f"once({default})")
        elif "'" not in default:
            node.put("calculation", f"'{default}'")
        elif '"' not in default:
            node.put("calculation", f'"{default}"')
        else:
            self.ignore_column(node.location, name, "default")

    def calculated_question(self, node: Node, name: str, item_type: str) -> Node:
        """A question with a ``calculation``, which XLSForm fills in itself: a calculation
        here (its label kept, its question columns dropped), with a warning."""
        self.warning(
            node.location,
            name,
            N_("The %(type)s question has a calculation: it is a calculate item here, not asked."),
            type=item_type.split()[0],
        )
        node["type"] = "calculate"
        for key in [k for k in node if k not in ("type", "name", "label", "relevant")]:
            if key != "calculation":
                del node[key]
        return node

    def items(self, elements: list[dict[str, Any]]) -> list[Node]:
        """Our items for a list of pyxform's elements, without the ones it generated."""
        generated = {
            index
            for index, element in enumerate(elements[:-1])
            if self.is_generated_count(element, elements[index + 1])
        }
        return [
            node
            for index, element in enumerate(elements)
            if index not in generated and (node := self.item(element)) is not None
        ]

    def is_generated_count(self, element: dict[str, Any], following: dict[str, Any]) -> bool:
        """True for the calculation ``R_count`` pyxform puts before a repeat ``R`` whose
        ``repeat_count`` is not a plain ``${name}`` (the count is read as written)."""
        name = str(element.get("name", ""))
        repeat = str(following.get("name", ""))
        return (
            following.get("type") == "repeat"
            and element.get("type") == "calculate"
            and name == f"{repeat}_count"
            and following.get("control", {}).get("jr:count") == f"${{{name}}}"
            and self.rows.counts.get(repeat) != f"${{{name}}}"
        )

    def item_type(
        self, element: dict[str, Any], name: str, kind: str, location: SourceLocation
    ) -> str | None:
        """Our type for a supported question; refused or left-out types report why."""
        written = self.rows.types.get(name, kind)
        itemset = str(element.get("itemset", ""))
        if kind in _EXTERNAL_TYPES:
            external = self.external_list(itemset, name, location)
            return None if external is None else f"{_EXTERNAL_TYPES[kind]} {external}"
        if kind in _SELECT_TYPES and "list_name" not in element and _is_file(itemset):
            file_list = self.file_list(element, name, itemset, location)
            return None if file_list is None else f"{_SELECT_TYPES[kind]} {file_list}"
        if kind in _SELECT_TYPES:
            # pyxform names the list of its own table-list header row only as its itemset
            list_name = self.list_name(str(element.get("list_name") or element.get("itemset", "")))
            if _OR_OTHER.search(written):
                self.other_lists.add(list_name)
                self.generated.add(f"{name}_other")
            return f"{_SELECT_TYPES[kind]} {list_name}"
        if kind in _PLAIN_TYPES:
            return kind
        if kind in _OWN_TYPES:
            return _OWN_TYPES[kind]
        if kind == "rank":
            return f"rank {element.get('list_name') or element.get('itemset', '')}"
        if kind in _UPLOAD_TYPES:
            if kind == "background-audio":
                self.warning(
                    location,
                    name,
                    N_(
                        "background-audio is not recorded in the background here: the "
                        "respondent records the audio and sends it as a file."
                    ),
                )
            return _UPLOAD_TYPES[kind]
        if kind in PARADATA_KINDS:
            self.paradata.put(name, kind, location)
        elif kind in _METADATA_TYPES:
            self.warning(
                location,
                name,
                N_("XLSForm metadata (%(type)s) is not collected; the row is left out."),
                type=written,
            )
        else:
            lower = written.strip().lower()
            first = lower.split()[0] if lower else ""
            if lower != written.strip() and first in _LOWERCASE_TYPES:
                self.error(
                    location,
                    name,
                    N_("The type %(type)s is written in lowercase in XLSForm: %(lower)s."),
                    type=written,
                    lower=lower,
                )
            else:
                self.error(location, name, N_("The type %(type)s is not supported."), type=written)
        return None

    def column(
        self, node: Node, name: str, key: str, value: Any, parameterized: bool = False
    ) -> None:
        """Copy one of pyxform's keys into our item; what Ankieta does not use is ignored
        with a warning, as pyxform ignores columns it does not know. (pyxform copies
        ``parameters`` into ``control``, under names of its own: those are warned about
        once, as parameters.)"""
        location = node.location
        upload = str(node.get("type", "")).split()[:1] == ["file"]
        if key in _USED_KEYS:
            return
        if key == "_dynamic_default" or (key == "actions" and _first_load_only(value)):
            return  # pyxform's marks of a dynamic default: read from the default column
        if upload and key in ("actions", "default"):  # background-audio's recording action,
            if key == "default":  # an image shown before one is taken
                self.ignore_column(location, name, key)
            return
        if upload and key in ("bind", "control", "parameters"):
            self.upload_column(node, name, key, value)
            return
        if key in _TEXT_KEYS:
            node.put(key, self.text(value, location, key, name))
        elif key in ("default", "choice_filter"):
            node.put(key, value)
        elif key in _REPEAT_KEYS and node.get("type") == "repeat":
            node.put(key, value)
        elif key == "bind":
            for bind_key, bind_value in value.items():
                if bind_key in _BIND_KEYS:
                    target = _BIND_KEYS[bind_key]
                    node.put(target, self.text(bind_value, location, target, name))
                else:
                    self.ignore_column(location, name, bind_key)
        elif key == "control":
            for control_key, control_value in value.items():
                if control_key == "appearance":
                    self.appearance(node, name, str(control_value))
                elif control_key in ("start", "end", "step") and node.get("type") == "range":
                    continue  # pyxform's copy of the parameters
                elif control_key == "jr:count" and node.get("type") == "repeat":
                    node.put("repeat_count", self.rows.counts.get(name, control_value))
                elif parameterized:
                    continue  # a parameter, as pyxform writes it into the XForm
                else:
                    self.ignore_column(location, name, control_key)
        elif key in ("parameters", "instance") and not value:
            return
        elif key == "query" and str(value) in self.external_lists:
            return  # pyxform's copy of a select_one_external's list
        elif key == "parameters":
            if name in self.file_questions and isinstance(value, dict):
                # value= and label= name the choices file's columns: file_list read them
                value = {k: v for k, v in value.items() if k not in ("value", "label")}
                if not value:
                    return
            self.parameters(node, name, value)
        elif key == "media":
            self.warning(location, name, N_("Images, audio and video are ignored."))
        else:
            self.ignore_column(location, name, key)

    def upload_column(self, node: Node, name: str, key: str, value: Any) -> None:
        """A file question's ``parameters`` (``max-pixels``; others ignored), its
        ``body::accept`` and its bind columns."""
        location = node.location
        if key == "parameters":
            if isinstance(value, str):  # as written: "max-pixels=1024 quality=low"
                pairs = (pair.partition("=") for pair in re.split(r"[\s;,]+", value) if pair)
                value = {k.strip(): v.strip() for k, _, v in pairs}
            kept = {k: v for k, v in (value or {}).items() if k in _UPLOAD_PARAMETERS}
            for other in (k for k in (value or {}) if k not in _UPLOAD_PARAMETERS):
                self.ignore_column(location, name, f"parameters {other}")
            if kept:
                node.put("parameters", " ".join(f"{k}={v}" for k, v in kept.items()))
        elif key == "control":
            for control_key, control_value in value.items():
                if control_key == "accept":
                    node.put("accept", str(control_value))
                elif control_key == "appearance":
                    self.appearance(node, name, str(control_value))
                else:
                    self.ignore_column(location, name, control_key)
        else:
            for bind_key, bind_value in value.items():
                if bind_key in _BIND_KEYS:
                    target = _BIND_KEYS[bind_key]
                    node.put(target, self.text(bind_value, location, target, name))
                elif bind_key != "orx:max-pixels":  # pyxform's copy of the parameter
                    self.ignore_column(location, name, bind_key)

    def appearance(self, node: Node, name: str, value: str) -> None:
        """The appearance as written: the builder keeps what the item's type honours and
        warns about the rest (for our YAML alike); ``label`` and ``list-nolabel`` are read
        as a table by ``tables``."""
        node.put("appearance", value)

    def parameters(self, node: Node, name: str, value: Any) -> None:
        """The ``parameters`` Ankieta uses: a range's start, end and step; a select's,
        rank's or group's randomize and seed. pyxform accepts others per type (a range's
        tick_interval, a geopoint's capture-accuracy, a text's rows, ...): a warning each."""
        kind = str(node.get("type", "")).split(" ")[0]
        if kind == "range":
            used: tuple[str, ...] = RANGE_PARAMETERS
        elif kind in ("select_one", "select_multiple", "rank", "group"):
            used = ORDER_PARAMETERS
        else:
            used = ()
        if isinstance(value, dict):
            written = {str(k): str(v) for k, v in value.items()}
        else:  # a group's, which pyxform leaves as written
            pairs = [pair.partition("=") for pair in str(value).replace(";", " ").split()]
            written = {k.strip(): v.strip() for k, _, v in pairs}
        kept: dict[str, str] = {}
        for key, text in written.items():
            if key.startswith("odk:"):  # pyxform's name for a range's tick_interval, ...
                key = key.removeprefix("odk:").replace("-", "_")
            if key in used:
                kept[key] = text
            else:
                self.warning(node.location, name, N_("The parameter %(key)s is ignored."), key=key)
        if kept:
            node.put("parameters", " ".join(f"{k}={v}" for k, v in kept.items()))

    def tables(self, group: Node) -> None:
        """XLSForm's matrix: in a field-list group, a select_one with the appearance
        ``label`` (its choices are the column headings) followed by select_ones on the same
        list with ``list-nolabel`` (the rows). pyxform writes a ``table-list`` group so
        too, with a generated header row and a generated note holding the group's label.

        Such a run becomes a ``table-list`` group, Ankieta's table: the whole group when
        the run is all it holds, else a group inside it named after the header row (pyxform's
        generated one: ``<group>_table``) with the header row's label and relevance, as ODK
        shows a table-list holding other questions: the table, then them. The header row
        itself asks nothing and is left out; pyxform's note goes back into the group."""
        if "field-list" not in str(group.get("appearance", "")).split():
            return
        children: list[Node] = group["children"]
        if children and str(children[0]["name"]).startswith(_GENERATED_LABEL):
            note = children.pop(0)
            for key in ("label", "hint"):
                if note.get(key) is not None:
                    group.put(key, note[key])
        found: list[Node] = []
        index = 0
        while index < len(children):
            header = children[index]
            words = str(header.get("appearance", "")).split()
            kind = str(header.get("type", ""))
            rows: list[Node] = []
            end = index + 1
            if "label" in words and kind.startswith("select_one "):
                while end < len(children) and _is_table_row(children[end], kind):
                    rows.append(children[end])
                    end += 1
            if not rows:
                found.append(header)
                index += 1
                continue
            for row in rows:
                rest = [w for w in str(row["appearance"]).split() if w != "list-nolabel"]
                row["appearance"] = " ".join(rest)
            if not found and end == len(children):
                found = list(rows)
                rest = [w for w in str(group["appearance"]).split() if w != "field-list"]
                group["appearance"] = " ".join(["table-list", *rest])
            else:
                table = Node(header.location)
                table.put("type", "group")
                table.put("name", self.table_name(group, header))
                for key in ("label", "hint", "relevant"):
                    if header.get(key) is not None:
                        table.put(key, header[key])
                table.put("appearance", "table-list")
                table.put("children", rows)
                found.append(table)
            index = end
        group["children"] = found

    def table_name(self, group: Node, header: Node) -> str:
        """The name of a table inside a group: its header row's, or for pyxform's own
        header row ``<group>_table`` (``_table_2``, ... when a question has that name)."""
        name = str(header["name"])
        if not name.startswith(_GENERATED_HEADER):
            return name
        base = f"{group['name']}_table"
        taken = set(self.rows.survey) | self.table_names
        name = base
        number = 1
        while name in taken:
            number += 1
            name = f"{base}_{number}"
        self.table_names.add(name)
        return name

    def ignore_column(self, location: SourceLocation, name: str, column: str) -> None:
        """Warn about a column (or pyxform key) that Ankieta does not use."""
        self.warning(location, name, N_("The column %(column)s is ignored."), column=column)


def _first_load_only(actions: Any) -> bool:
    """True for pyxform's ``actions`` of a dynamic default alone (a setvalue when the form
    is first opened), which the question's default expression does here."""
    return isinstance(actions, list) and all(
        isinstance(a, dict) and a.get("event") == "odk-instance-first-load" for a in actions
    )


def _is_file(itemset: str) -> bool:
    """True for pyxform's itemset of a select from a file (``villages.csv``)."""
    return PurePosixPath(itemset).suffix.lower() in (*CHOICES_SUFFIXES, ".geojson")


def _is_table_row(node: Node, kind: str) -> bool:
    """True for a row of XLSForm's matrix: a question of type ``kind`` whose appearance
    has ``list-nolabel``."""
    return node.get("type") == kind and "list-nolabel" in str(node.get("appearance", "")).split()


def _list_of(row: dict[str, Any]) -> str:
    """The list a row of a choices sheet (headers lowercased) belongs to."""
    return str(row.get("list_name") or row.get("list name") or "")


def _lowercase_headers(row: dict[str, Any]) -> dict[str, Any]:
    """A sheet row with its headers as pyxform reads them: case does not matter."""
    return {str(key).strip().lower(): value for key, value in row.items()}


def _texts(form: dict[str, Any]) -> list[dict[str, Any]]:
    """Every translated text of the form (labels, hints, messages, choice labels)."""
    found: list[dict[str, Any]] = []
    elements = list(form.get("children", []))
    while elements:
        element = elements.pop(0)
        found += [v for k in _TEXT_KEYS if isinstance(v := element.get(k), dict)]
        found += [v for v in element.get("bind", {}).values() if isinstance(v, dict)]
        elements[:0] = element.get("children", [])
    for choices in form.get("choices", {}).values():
        found += [choice["label"] for choice in choices if isinstance(choice.get("label"), dict)]
    return found
