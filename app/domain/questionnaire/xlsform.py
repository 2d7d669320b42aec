"""Reading XLSForm workbooks (ODK, KoboToolbox, SurveyCTO) into the questionnaire model.

pyxform reads the workbook (``get_xlsform``) and turns it into its JSON-like dict
(``workbook_to_json``, which builds no XForm XML). This module translates that dict into a
:class:`~app.domain.questionnaire.build.Node` document shaped like our YAML, so the same
builder and checks apply and a workbook loads into the same model as its YAML twin.

What maps to what:

- ``survey`` rows: ``text``, ``integer``, ``decimal``, ``date``, ``time``, ``dateTime``,
  ``range`` (its ``parameters``), ``rank LIST``, ``acknowledge`` / ``trigger``,
  ``barcode``, ``hidden``, ``geopoint``, ``geotrace``, ``geoshape``, ``note``, ``calculate``,
  ``select_one LIST`` and ``select_multiple LIST`` (with ``or_other``), ``begin group`` /
  ``end group``, ``begin repeat`` / ``end repeat`` (a ``type: repeat`` with its rows as
  children; ``begin_repeat`` works too); columns ``label``, ``hint``, ``required``,
  ``required_message``, ``relevant``, ``constraint``, ``constraint_message``,
  ``calculation``, ``default``, ``read_only``, ``appearance``, ``choice_filter``;
  ``label::Polski (pl)`` style columns
  give the text in language ``pl`` (the code in brackets; a bare code such as ``label::en``
  works too), a column without a language is in the default language. A repeat row also
  reads ``repeat_count`` (a number or an expression: a fixed count) and Ankieta's own
  ``repeat_min``, ``repeat_max`` and ``instance_label``. pyxform turns a ``repeat_count``
  that is not a plain ``${name}`` into a calculation ``NAME_count`` of its own; the count
  is taken as written instead and that calculation left out.
- ``choices``: ``list_name``, ``name``, ``label``; other columns become choice columns for
  ``choice_filter``. ``LIST or_other`` adds pyxform's ``other`` choice to the list (so every
  question using the list offers it, as in pyxform) and its text becomes ``<item>_other``.
- ``settings``: ``form_id`` (the id), ``form_title`` (the title, the same in every
  language: XLSForm has one title), ``version``, ``default_language``. Other settings
  columns are ignored with a warning.

Anything else (``begin loop``, media, unknown columns,
...) is refused with ``FILE:survey:ROW: item NAME: ...``. XLSForm metadata questions (``start``,
``end``, ``today``, ``deviceid``, ...) are left out with a warning. Rows come from the rows
pyxform read (it keeps empty rows, so a row's index gives its sheet row), not from a
second reading of the workbook. pyxform stops at the first structural error it finds
(an unmatched ``end group``, an unknown list), so such a workbook reports that one problem.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from typing import TYPE_CHECKING, Any

from app.domain.messages import N_, Message
from app.domain.questionnaire.build import LANGUAGE_PATTERN, Node, build_questionnaire
from app.domain.questionnaire.model import DEFAULT_LANGUAGE, SourceLocation
from app.domain.questionnaire.problems import LoadResult, Problem
from app.domain.workbooks import zip_problem

if TYPE_CHECKING:
    from pyxform.xls2json_backends import DefinitionData

_PLAIN_TYPES = frozenset(
    {"text", "integer", "decimal", "date", "note", "calculate", "group", "repeat"}
)
_SELECT_TYPES = {"select one": "select_one", "select all that apply": "select_multiple"}
_OWN_TYPES = {  # XLSForm's name -> ours (docs/questionnaires.md)
    **{name: name for name in ("time", "range", "acknowledge", "barcode", "hidden")},
    **{name: name for name in ("geopoint", "geotrace", "geoshape", "trigger")},
    "dateTime": "datetime",
}
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
_REPEAT_KEYS = ("repeat_min", "repeat_max", "instance_label")  # our columns, as written
_COUNT_COLUMNS = ("repeat_count", "jr:count", "count")  # pyxform's names for the count
_USED_KEYS = frozenset({"type", "name", "list_name", "itemset", "choices", "children"})
_KNOWN_SETTINGS = frozenset({"form_title", "form_id", "id_string", "version", "default_language"})
_OR_OTHER = re.compile(r"\s(or_other|or other|or specify other)\s*$")
_LANGUAGE_IN_NAME = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\)\s*$")
_PYXFORM_ROW = re.compile(r"\[row : (\d+)\]\s*")
_PYXFORM_SHEET = re.compile(r"'(survey|choices|settings)' sheet")
_NO_LANGUAGE = "default"  # pyxform's name for columns without ::language


def load_xlsform(data: bytes, filename: str) -> LoadResult:
    """Read, build and check an XLSForm workbook (the bytes of an .xlsx file)."""
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
            form = workbook_to_json(workbook, warnings=[])
    except PyXFormError as error:
        return LoadResult(None, [_pyxform_problem(filename, str(error))])
    except Exception as error:  # pyxform's own bugs on odd workbooks must not escape
        message = Message(N_("The workbook cannot be read: %(reason)s."), {"reason": error})
        return LoadResult(None, [Problem(whole_file, None, message)])
    converter = _Converter(filename, rows, workbook)
    document = converter.document(form)
    return build_questionnaire(document, filename, converter.problems)


def _pyxform_problem(filename: str, text: str) -> Problem:
    """pyxform's error as a problem at the sheet and row it names."""
    row = _PYXFORM_ROW.search(text)
    sheet = _PYXFORM_SHEET.search(text)
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
        for index, row in enumerate(workbook.survey or [], start=2):
            name = row.get("name")
            if name and name not in self.survey:
                self.survey[name] = index
                self.types[name] = str(row.get("type", ""))
                count = next((row[c] for c in _COUNT_COLUMNS if row.get(c) is not None), None)
                if count is not None:
                    self.counts[name] = str(count)
        for index, row in enumerate(workbook.choices or [], start=2):
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

    def __init__(self, filename: str, rows: _Rows, workbook: DefinitionData) -> None:
        self.filename = filename
        self.rows = rows
        self.raw_settings: dict[str, Any] = (workbook.settings or [{}])[0]
        self.problems: list[Problem] = []
        self.codes: dict[str, str] = {}  # pyxform language name -> our language code
        self.default_language = DEFAULT_LANGUAGE
        self.other_lists: set[str] = set()
        self.generated: set[str] = set()  # the <item>_other questions pyxform added

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
        survey = self.items(form.get("children", []))
        document.put("settings", self.settings(form, languages))
        document.put("choices", self.choices(form.get("choices", {})))
        document.put("survey", survey, SourceLocation(self.filename, sheet="survey"))
        return document

    # languages

    def languages(self, form: dict[str, Any]) -> list[str]:
        """Map pyxform's language names to codes; the default language first."""
        names: list[str] = []
        for text in _texts(form):
            names += [name for name in text if name not in names]
        header = SourceLocation(self.filename, sheet="survey", row=1)
        for name in names:
            if name == _NO_LANGUAGE:
                continue
            code = _language_code(name)
            if code is None:
                self.error(
                    header,
                    None,
                    N_("The language %(language)s has no code: name it like label::Polski (pl)."),
                    language=name,
                )
            else:
                self.codes[name] = code
        declared = _language_code(str(form.get("default_language", _NO_LANGUAGE)))
        found = list(dict.fromkeys(self.codes.values()))
        if declared is not None:
            self.default_language = declared
        elif found:
            self.default_language = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in found else found[0]
        self.codes[_NO_LANGUAGE] = self.default_language
        return [self.default_language] + [code for code in found if code != self.default_language]

    def text(self, value: Any, location: SourceLocation) -> Any:
        """A text as our YAML writes it: a string, or a mapping of language codes to strings."""
        if not isinstance(value, dict):
            return value
        node = Node(location)
        for name, text in value.items():
            if name in self.codes:
                node.put(self.codes[name], text)
        return node

    # settings and choices

    def settings(self, form: dict[str, Any], languages: list[str]) -> Node:
        """Our settings from the settings sheet (and the languages found in the texts)."""
        location = SourceLocation(self.filename, sheet="settings", row=2)
        node = Node(location)
        raw = self.raw_settings
        if "form_id" in raw or "id_string" in raw:
            node.put("id", form.get("id_string"))
        title = Node(location)
        for language in languages:
            title.put(language, str(form.get("title", "")))
        node.put("title", title)
        if form.get("version") is not None:
            node.put("version", str(form["version"]))
        node.put("default_language", self.default_language)
        node.put("languages", languages)
        for column in sorted(set(raw) - _KNOWN_SETTINGS):
            self.warning(
                location, None, N_("The settings column %(column)s is ignored."), column=column
            )
        return node

    def choices(self, lists: dict[str, list[dict[str, Any]]]) -> Node:
        """Every choice list of the choices sheet."""
        node = Node(SourceLocation(self.filename, sheet="choices"))
        for list_name, choices in lists.items():
            entries = [self.choice(list_name, choice) for choice in choices]
            first = entries[0].location if entries else node.location
            node.put(list_name, entries, first)
        return node

    def choice(self, list_name: str, choice: dict[str, Any]) -> Node:
        """One choice as our YAML writes it (``other`` set for or_other lists)."""
        name = str(choice.get("name", ""))
        location = self.rows.choice(list_name, name)
        node = Node(location)
        for key, value in choice.items():
            if key == "label":
                node.put(key, self.text(value, location))
            elif key == "media":
                self.error(
                    location,
                    None,
                    N_("Images, audio and video in choices are not supported."),
                )
            else:
                node.put(key, value)
        if list_name in self.other_lists and name == "other":
            node.put("other", True)
        return node

    # questions

    def item(self, element: dict[str, Any]) -> Node | None:
        """Our item for pyxform's ``element`` (None when it is left out or refused)."""
        name = str(element.get("name", ""))
        location = self.rows.question(name)
        kind = str(element.get("type", ""))
        if name == "meta" and element.get("control", {}).get("bodyless"):
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
        for key, value in element.items():
            self.column(node, name, key, value)
        if "children" in element:
            node.put("children", self.items(element["children"]))
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
        if kind in _SELECT_TYPES:
            list_name = str(element.get("list_name", ""))
            if _OR_OTHER.search(written):
                self.other_lists.add(list_name)
                self.generated.add(f"{name}_other")
            return f"{_SELECT_TYPES[kind]} {list_name}"
        if kind in _PLAIN_TYPES:
            return kind
        if kind in _OWN_TYPES:
            return _OWN_TYPES[kind]
        if kind == "rank":
            return f"rank {element.get('list_name', '')}"
        if kind in _METADATA_TYPES:
            self.warning(
                location,
                name,
                N_("XLSForm metadata (%(type)s) is not collected; the row is left out."),
                type=written,
            )
        else:
            self.error(location, name, N_("The type %(type)s is not supported."), type=written)
        return None

    def column(self, node: Node, name: str, key: str, value: Any) -> None:
        """Copy one of pyxform's keys into our item, refusing what we do not support."""
        location = node.location
        if key in _USED_KEYS:
            return
        if key in _TEXT_KEYS:
            node.put(key, self.text(value, location))
        elif key in ("default", "choice_filter"):
            node.put(key, value)
        elif key in _REPEAT_KEYS and node.get("type") == "repeat":
            node.put(key, value)
        elif key == "bind":
            for bind_key, bind_value in value.items():
                if bind_key in _BIND_KEYS:
                    target = _BIND_KEYS[bind_key]
                    node.put(target, self.text(bind_value, location))
                else:
                    self.refuse_column(location, name, bind_key)
        elif key == "control":
            for control_key, control_value in value.items():
                if control_key == "appearance":
                    node.put("appearance", control_value)
                elif control_key in ("start", "end", "step") and node.get("type") == "range":
                    continue  # pyxform's copy of the parameters
                elif control_key == "jr:count" and node.get("type") == "repeat":
                    node.put("repeat_count", self.rows.counts.get(name, control_value))
                else:
                    self.refuse_column(location, name, control_key)
        elif key == "parameters" and not value:
            return
        elif key == "parameters" and node.get("type") == "range":
            node.put(key, " ".join(f"{k}={v}" for k, v in value.items()))
        elif key == "media":
            self.error(location, name, N_("Images, audio and video are not supported."))
        else:
            self.refuse_column(location, name, key)

    def refuse_column(self, location: SourceLocation, name: str, column: str) -> None:
        """Report a column (or pyxform key) that Ankieta does not support."""
        self.error(location, name, N_("The column %(column)s is not supported."), column=column)


def _language_code(name: str) -> str | None:
    """``pl`` for ``Polski (pl)`` or ``pl``; None for a name without a code."""
    match = _LANGUAGE_IN_NAME.search(name)
    code = match.group(1).lower() if match else name
    return code if LANGUAGE_PATTERN.match(code) else None


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
