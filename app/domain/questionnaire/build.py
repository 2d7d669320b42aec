"""Building the questionnaire model from a :class:`Node` document, and checking it.

Both formats meet in :class:`Node` documents: mappings shaped like our YAML that remember
where each of their keys was written (``app.domain.questionnaire.yaml_reader`` reads them
from YAML, ``app.domain.questionnaire.xlsform`` turns pyxform's dict into that shape), so
one builder and one set of checks serve both. The builder reports what is wrong with each
part as it builds it; the checks that need the whole questionnaire (references, their
order, cycles) are in ``app.domain.questionnaire.checks``.

This module is one cohesive thing, the builder (one class walking the document's settings,
choices and items), hence its length.

Rules worth knowing when reading the code:

- YAML 1.1 reads ``yes``/``no`` as booleans and ``007`` as the number 7. Texts (labels,
  hints, messages, defaults, choice columns) and numeric codes are taken exactly as written;
  a name that YAML reads as a boolean is refused with a "put it in quotes" message, while
  ``required: yes`` and the like are booleans on purpose.
- An unknown key is an error, not a warning: a misspelt ``relevnat`` would otherwise drop
  the skip logic silently.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal
from typing import Any

from app.domain.messages import N_, Message
from app.domain.questionnaire.checks import check_questionnaire
from app.domain.questionnaire.expressions import Expression, ExpressionError, parse
from app.domain.questionnaire.model import (
    DEFAULT_DONT_KNOW_CODE,
    DEFAULT_LANGUAGE,
    DEFAULT_REFUSED_CODE,
    MAX_INSTANCES,
    PARADATA_KINDS,
    Availability,
    Choice,
    ChoiceList,
    Item,
    ItemType,
    MatrixRow,
    Questionnaire,
    RangeSpec,
    Settings,
    SourceLocation,
    Text,
    UploadKind,
    UploadSpec,
)
from app.domain.questionnaire.pages import is_table_list
from app.domain.questionnaire.problems import (
    LoadResult,
    Problem,
    describe_location,
    problem_order,
)

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
LANGUAGE_PATTERN = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*\Z")
CODE_PATTERN = re.compile(r"\S+\Z")  # select_multiple answers are space-separated codes
_YES = frozenset({"yes", "true", "true()"})
_NO = frozenset({"no", "false", "false()"})

TOP_KEYS = frozenset({"settings", "choices", "survey"})
SETTINGS_KEYS = frozenset(
    {
        "id",
        "title",
        "version",
        "default_language",
        "languages",
        "paging",
        "dont_know",
        "refused",
        "dont_know_code",
        "refused_code",
        "paradata",
    }
)
_COMMON_KEYS = frozenset({"type", "name", "label", "hint", "relevant", "appearance"})
_QUESTION_KEYS = _COMMON_KEYS | {
    "interviewer_note",
    "required",
    "required_message",
    "constraint",
    "constraint_message",
    "default",
    "default_expression",
    "read_only",
    "dont_know",
    "refused",
}
_DEFAULT_KEYS = frozenset({"default", "default_expression"})
KEYS_BY_TYPE: dict[ItemType, frozenset[str]] = {
    ItemType.TEXT: _QUESTION_KEYS,
    ItemType.TEXTAREA: _QUESTION_KEYS,
    ItemType.INTEGER: _QUESTION_KEYS,
    ItemType.DECIMAL: _QUESTION_KEYS,
    ItemType.DATE: _QUESTION_KEYS,
    ItemType.TIME: _QUESTION_KEYS,
    ItemType.DATETIME: _QUESTION_KEYS,
    ItemType.RANGE: _QUESTION_KEYS | {"parameters"},
    ItemType.RANK: (_QUESTION_KEYS - _DEFAULT_KEYS) | {"parameters"},
    ItemType.ACKNOWLEDGE: _QUESTION_KEYS,
    ItemType.BARCODE: _QUESTION_KEYS,
    ItemType.GEOPOINT: _QUESTION_KEYS,
    ItemType.GEOTRACE: _QUESTION_KEYS,
    ItemType.GEOSHAPE: _QUESTION_KEYS,
    ItemType.FILE: (_QUESTION_KEYS - _DEFAULT_KEYS) | {"parameters", "accept"},
    ItemType.SELECT_ONE: _QUESTION_KEYS | {"choice_filter", "parameters"},
    ItemType.SELECT_MULTIPLE: _QUESTION_KEYS | {"choice_filter", "parameters"},
    ItemType.MATRIX: (_QUESTION_KEYS - _DEFAULT_KEYS) | {"rows"},
    ItemType.NOTE: _COMMON_KEYS | {"interviewer_note"},
    ItemType.CALCULATE: frozenset({"type", "name", "label", "relevant", "calculation"}),
    ItemType.GROUP: _COMMON_KEYS | {"interviewer_note", "children", "parameters"},
    ItemType.REPEAT: _COMMON_KEYS
    | {
        "interviewer_note",
        "children",
        "repeat_count",
        "repeat_min",
        "repeat_max",
        "instance_label",
    },
}
ITEM_KEYS = frozenset().union(*KEYS_BY_TYPE.values())
ROW_KEYS = frozenset({"name", "label"})
_LISTED_TYPES = (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE, ItemType.MATRIX, ItemType.RANK)
# Other names a definition may use: XLSForm's trigger is an acknowledge; a hidden item is a
# calculate whose value is its default (or its calculation), never shown.
TYPE_SYNONYMS = {"trigger": ItemType.ACKNOWLEDGE, "hidden": ItemType.CALCULATE}
HIDDEN_KEYS = frozenset({"type", "name", "label", "relevant", "calculation", "default"})
RANGE_PARAMETERS = ("start", "end", "step")
ORDER_PARAMETERS = ("randomize", "seed")  # selects, ranks and groups
# The appearances each type honours (docs/questionnaires.md); any other is ignored with a
# warning. ``columns``, ``columns-pack`` and ``columns-N`` lay choices out in a row too.
APPEARANCES: dict[ItemType, frozenset[str]] = {
    ItemType.GROUP: frozenset({"field-list", "table-list"}),
    ItemType.TEXT: frozenset({"multiline"}),
    ItemType.TEXTAREA: frozenset({"multiline"}),
    ItemType.SELECT_ONE: frozenset(
        {"minimal", "likert", "horizontal", "horizontal-compact", "columns", "columns-pack"}
    ),
    ItemType.SELECT_MULTIPLE: frozenset(
        {"horizontal", "horizontal-compact", "columns", "columns-pack"}
    ),
    ItemType.MATRIX: frozenset({"likert"}),  # a matrix is a Likert grid already
    ItemType.DATE: frozenset({"no-calendar", "month-year", "year"}),
}
_COLUMNS = re.compile(r"columns-[0-9]{1,2}\Z")
RANGE_DEFAULTS = {"start": Decimal(1), "end": Decimal(10), "step": Decimal(1)}  # ODK's
_NUMBER = re.compile(r"[+-]?[0-9]{1,15}(?:\.[0-9]{1,10})?\Z")
# a file question's ``accept``: MIME types (image/png, audio/*) and name endings (.pdf)
_ACCEPTED = re.compile(r"(?:[a-z]+/(?:\*|[a-z0-9][a-z0-9.+-]*)|\.[a-z0-9]{1,10})\Z")
MAX_PIXELS_LEAST = 16  # a max-pixels below this is a typo, not a photo


# --- documents with locations ------------------------------------------------------------


def expression_at(
    node: Node, key: str, item: str | None, problems: list[Problem]
) -> Expression | None:
    """The parsed expression written under ``key`` of ``node`` (None when absent); what is
    wrong with it goes to ``problems`` where it was written. Every definition file's
    expressions are read so (questionnaires, monitoring plans)."""
    if node.get(key) is None:
        return None
    source = node.text(key)
    if source is None or isinstance(node[key], bool):
        message = Message(N_("%(key)s must be an expression (in quotes)."), {"key": key})
        problems.append(Problem(node.where(key), item, message))
        return None
    try:
        return parse(source, key)
    except ExpressionError as error:
        problems.append(Problem(node.where(key), item, Message(N_("%(error)s"), {"error": error})))
        return None


class Node(dict[str, Any]):
    """A mapping from a definition that remembers where it and each of its keys were written."""

    def __init__(self, location: SourceLocation) -> None:
        super().__init__()
        self.location = location
        self.key_locations: dict[str, SourceLocation] = {}
        # Plain YAML scalars as written, so "007" or "Yes" are not lost to YAML's typing.
        self.raw: dict[str, str] = {}

    def put(
        self, key: str, value: Any, location: SourceLocation | None = None, raw: str | None = None
    ) -> None:
        """Set ``key``, remembering where it was written and its text as written."""
        self[key] = value
        if location is not None:
            self.key_locations[key] = location
        if raw is not None:
            self.raw[key] = raw

    def where(self, key: str) -> SourceLocation:
        """Where ``key`` was written (where this mapping starts if it was not)."""
        return self.key_locations.get(key, self.location)

    def text(self, key: str) -> str | None:
        """The value of ``key`` as text when it is a scalar (as written in YAML), else None."""
        value = self.get(key)
        if isinstance(value, str):
            return value
        if value is None or isinstance(value, dict | list | set | bytes):
            return None
        return self.raw.get(key, str(value))


def build_questionnaire(
    document: Any, filename: str, problems: list[Problem] | None = None
) -> LoadResult:
    """Build and check the questionnaire a :class:`Node` document declares.

    ``problems`` already found while reading the file are kept, in file order with the rest.
    """
    builder = _Builder(filename, list(problems or []))
    questionnaire = builder.build(document)
    if questionnaire is not None:
        builder.problems += check_questionnaire(questionnaire, builder.where)
    found = sorted(builder.problems, key=problem_order)
    if any(problem.is_error for problem in found):
        return LoadResult(None, found)
    return LoadResult(questionnaire, found)


# --- building the model ----------------------------------------------------------------


class _Builder:
    """Builds the model from a document, reporting what is wrong with each part."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems
        self.default_language = DEFAULT_LANGUAGE
        self.languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
        self.nodes: dict[int, Node] = {}  # id(item) -> the node it was built from

    def error(self, where: SourceLocation, item: str | None, msgid: str, /, **params: Any) -> None:
        """Report an error written at ``where``, in ``item`` if it is in one."""
        self.problems.append(Problem(where, item, Message(msgid, params)))

    def warning(
        self, where: SourceLocation, item: str | None, msgid: str, /, **params: Any
    ) -> None:
        """Report a warning written at ``where``, in ``item`` if it is in one."""
        self.problems.append(Problem(where, item, Message(msgid, params), "warning"))

    def where(self, item: Item, key: str) -> SourceLocation:
        """Where ``key`` of ``item`` was written."""
        node = self.nodes.get(id(item))
        if node is None:
            return item.location or SourceLocation(self.filename)
        return node.where(key)

    def build(self, document: Any) -> Questionnaire | None:
        """The questionnaire the document declares (None when it has no usable shape)."""
        whole_file = SourceLocation(self.filename)
        if document is None:
            self.error(whole_file, None, N_("The file is empty."))
            return None
        if not isinstance(document, Node):
            self.error(
                whole_file, None, N_("A definition is a mapping with settings, choices and survey.")
            )
            return None
        self.check_keys(document, TOP_KEYS, None)
        settings = self.settings(document)
        choices = self.choice_lists(document)
        survey = document.get("survey")
        if survey is None or survey == []:
            self.error(document.where("survey"), None, N_("The survey has no items."))
        items = self.items(survey, document.where("survey"), "survey", None)
        questionnaire = Questionnaire(settings, choices, items, source=self.filename)
        names = {item.name for item in questionnaire.walk()}
        settings_node = document.get("settings")
        for name, _ in settings.paradata:
            if name in names and isinstance(settings_node, Node):
                self.error(
                    settings_node.where("paradata"),
                    None,
                    N_("paradata %(name)s has the name of an item."),
                    name=name,
                )
        return questionnaire

    def check_keys(
        self,
        node: Node,
        allowed: frozenset[str],
        item: str | None,
        item_type: ItemType | None = None,
    ) -> None:
        """Report keys that are unknown (probably misspelt) or do not apply to this type."""
        for key in node:
            if key in allowed:
                continue
            if item_type is not None and key in ITEM_KEYS:
                self.error(
                    node.where(key),
                    item,
                    N_("The key %(key)s does not apply to %(type)s items."),
                    key=key,
                    type=item_type.value,
                )
                continue
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            if close:
                self.error(
                    node.where(key),
                    item,
                    N_("Unknown key %(key)s (did you mean %(suggestion)s?)."),
                    key=key,
                    suggestion=close[0],
                )
            else:
                self.error(node.where(key), item, N_("Unknown key %(key)s."), key=key)

    # settings

    def settings(self, document: Node) -> Settings:
        """The settings, with defaults where a value is missing or wrong."""
        node = document.get("settings")
        if not isinstance(node, Node):
            self.error(
                document.where("settings"),
                None,
                N_("The settings are missing: add settings with at least id and title."),
            )
            node = Node(document.where("settings"))
        self.check_keys(node, SETTINGS_KEYS, None)
        self.default_language = self.language_code(node, "default_language") or DEFAULT_LANGUAGE
        self.languages = self.language_list(node)
        if self.default_language not in self.languages:
            self.error(
                node.where("default_language"),
                None,
                N_("The default_language %(language)s is not among the languages (%(languages)s)."),
                language=self.default_language,
                languages=", ".join(self.languages),
            )
        settings_id = self.settings_id(node)
        title = self.text(node, "title", None, required="settings" in document)
        dont_know_code = self.code_setting(node, "dont_know_code", DEFAULT_DONT_KNOW_CODE)
        refused_code = self.code_setting(node, "refused_code", DEFAULT_REFUSED_CODE)
        if dont_know_code == refused_code:
            self.error(
                node.where("refused_code"), None, N_("dont_know_code and refused_code must differ.")
            )
        return Settings(
            id=settings_id,
            title=title or Text({}),
            version=self.version(node),
            default_language=self.default_language,
            languages=self.languages,
            paging=self.paging(node),
            dont_know=self.availability(node, "dont_know", None) or Availability.PHONE,
            refused=self.availability(node, "refused", None) or Availability.PHONE,
            dont_know_code=dont_know_code,
            refused_code=refused_code,
            paradata=self.paradata(node),
        )

    def paradata(self, node: Node) -> tuple[tuple[str, str], ...]:
        """``paradata``: column names and what each records (start, end, today, username)."""
        value = node.get("paradata")
        if value is None:
            return ()
        kinds = ", ".join(PARADATA_KINDS)
        if not isinstance(value, Node):
            self.error(
                node.where("paradata"),
                None,
                N_("paradata must be a mapping of column names to one of %(kinds)s."),
                kinds=kinds,
            )
            return ()
        found: list[tuple[str, str]] = []
        for name in value:
            kind = value.text(name)
            if not NAME_PATTERN.match(name) or kind not in PARADATA_KINDS:
                self.error(
                    value.where(name),
                    None,
                    N_("paradata %(name)s must be a name given one of %(kinds)s."),
                    name=name,
                    kinds=kinds,
                )
            else:
                found.append((name, kind))
        return tuple(found)

    def settings_id(self, node: Node) -> str:
        """The questionnaire's id."""
        value = node.text("id")
        if value is None:
            self.error(node.where("id"), None, N_("The settings have no id."))
            return ""
        if not ID_PATTERN.match(value):
            self.error(
                node.where("id"),
                None,
                N_(
                    "The id %(value)s is not valid: use lowercase letters, digits and _, "
                    "starting with a letter."
                ),
                value=value,
            )
        return value

    def language_code(self, node: Node, key: str) -> str | None:
        """A language code such as ``pl``, or None when missing or not valid."""
        value = node.text(key)
        if value is None:
            return None
        if not LANGUAGE_PATTERN.match(value):
            self.error(
                node.where(key),
                None,
                N_("The language code %(value)s is not valid: use a code such as pl or en."),
                value=value,
            )
            return None
        return value

    def language_list(self, node: Node) -> tuple[str, ...]:
        """The declared languages (the default language alone when not given)."""
        value = node.get("languages")
        if value is None:
            return (self.default_language,)
        if not isinstance(value, list) or not value:
            self.error(
                node.where("languages"),
                None,
                N_("languages must be a list of language codes, such as [pl, en]."),
            )
            return (self.default_language,)
        languages: list[str] = []
        for entry in value:
            code = entry if isinstance(entry, str) else str(entry)
            if not LANGUAGE_PATTERN.match(code):
                self.error(
                    node.where("languages"),
                    None,
                    N_("The language code %(value)s is not valid: use a code such as pl or en."),
                    value=code,
                )
            elif code in languages:
                self.error(
                    node.where("languages"),
                    None,
                    N_("The language %(language)s is listed twice."),
                    language=code,
                )
            else:
                languages.append(code)
        return tuple(languages) or (self.default_language,)

    def version(self, node: Node) -> str | None:
        """The free-text version, as written."""
        if node.get("version") is not None and node.text("version") is None:
            self.error(node.where("version"), None, N_("The version must be a single value."))
        return node.text("version")

    def paging(self, node: Node) -> str:
        """``group`` or ``item``."""
        value = node.text("paging")
        if value is None:
            return "group"
        if value not in ("group", "item"):
            self.error(
                node.where("paging"),
                None,
                N_("paging must be group or item, not %(value)s."),
                value=value,
            )
            return "group"
        return value

    def code_setting(self, node: Node, key: str, default: int) -> int:
        """A whole-number code such as ``dont_know_code``."""
        value = node.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(
                node.where(key),
                None,
                N_("%(key)s must be a whole number, not %(value)s."),
                key=key,
                value=node.text(key),
            )
            return default
        return value

    def availability(self, node: Node, key: str, item: str | None) -> Availability | None:
        """``no``/``phone``/``yes`` (YAML's booleans for ``yes``/``no`` included)."""
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return Availability.YES if value else Availability.NO
        text = node.text(key)
        if text is not None and text.lower() in {a.value for a in Availability}:
            return Availability(text.lower())
        self.error(
            node.where(key),
            item,
            N_("%(key)s must be no, phone or yes, not %(value)s."),
            key=key,
            value=text,
        )
        return None

    # texts and names

    def text(
        self, node: Node, key: str, item: str | None, *, required: bool = False
    ) -> Text | None:
        """A text in each declared language, from a string or a language-to-text mapping."""
        value = node.get(key)
        if value is None:
            if required:
                self.error(node.where(key), item, N_("%(key)s is missing."), key=key)
            return None
        if isinstance(value, Node):
            by_language = self.translations(value, key, item)
        else:
            text = node.text(key)
            if text is None:
                self.error(
                    node.where(key),
                    item,
                    N_("%(key)s must be a text or a mapping of languages to texts."),
                    key=key,
                )
                return None
            by_language = {self.default_language: text}
        missing = [lang for lang in self.languages if not by_language.get(lang, "").strip()]
        if missing:
            self.error(
                node.where(key),
                item,
                N_("%(key)s has no text in %(languages)s."),
                key=key,
                languages=", ".join(missing),
            )
        return Text(by_language)

    def translations(self, value: Node, key: str, item: str | None) -> dict[str, str]:
        """The texts of a language-to-text mapping, in declared languages only."""
        by_language: dict[str, str] = {}
        for language in value:
            text = value.text(language)
            if language not in self.languages:
                self.error(
                    value.where(language),
                    item,
                    N_("%(key)s has a text in %(language)s, which is not among the languages."),
                    key=key,
                    language=language,
                )
            elif text is None:
                self.error(
                    value.where(language),
                    item,
                    N_("The %(language)s text of %(key)s must be a text."),
                    key=key,
                    language=language,
                )
            else:
                by_language[language] = text
        return by_language

    def name(self, node: Node, item: str | None, pattern: re.Pattern[str]) -> str | None:
        """A name or code, refusing what YAML read as a boolean or could not be a name."""
        value = node.get("name")
        if value is None:
            self.error(node.location, item, N_("The name is missing."))
            return None
        text = node.text("name")
        if isinstance(value, bool):
            self.error(
                node.where("name"),
                item,
                N_('The name %(value)s is read as yes/no: put it in quotes ("%(value)s").'),
                value=text,
            )
            return None
        if text is None or not pattern.match(text):
            self.error(
                node.where("name"),
                item,
                N_(
                    "The name %(value)s is not valid: use letters, digits and _, not starting "
                    "with a digit."
                )
                if pattern is NAME_PATTERN
                else N_("The code %(value)s is not valid: it must be one word."),
                value=text if text is not None else "",
            )
            return None
        return text

    # choices

    def choice_lists(self, document: Node) -> dict[str, ChoiceList]:
        """Every choice list of ``choices``."""
        value = document.get("choices")
        if value is None:
            return {}
        if not isinstance(value, Node):
            self.error(
                document.where("choices"),
                None,
                N_("choices must be a mapping of list names to lists of choices."),
            )
            return {}
        lists: dict[str, ChoiceList] = {}
        for list_name, entries in value.items():
            where = value.where(list_name)
            if not NAME_PATTERN.match(list_name):
                self.error(
                    where,
                    None,
                    N_("The list name %(name)s is not valid: use letters, digits and _."),
                    name=list_name,
                )
            if not isinstance(entries, list):
                self.error(
                    where, None, N_("The choice list %(name)s must be a list."), name=list_name
                )
                continue
            if not entries:
                self.error(where, None, N_("The choice list %(name)s is empty."), name=list_name)
            choices = self.choices(entries, list_name, where)
            lists[list_name] = ChoiceList(list_name, choices, where)
        return lists

    def choices(
        self, entries: list[Any], list_name: str, where: SourceLocation
    ) -> tuple[Choice, ...]:
        """A list's choices, each code once."""
        choices: dict[str, Choice] = {}
        for entry in entries:
            choice = self.choice(entry, list_name, where)
            if choice is None:
                continue
            first = choices.get(choice.name)
            if first is not None:
                self.error(
                    choice.location or where,
                    None,
                    N_("The code %(code)s appears twice in list %(list)s (first on %(first)s)."),
                    code=choice.name,
                    list=list_name,
                    first=describe_location(first.location),
                )
            else:
                choices[choice.name] = choice
        return tuple(choices.values())

    def choice(self, entry: Any, list_name: str, where: SourceLocation) -> Choice | None:
        """One choice: code, label, ``other`` and extra columns for ``choice_filter``."""
        if not isinstance(entry, Node):
            self.error(
                where,
                None,
                N_("Each choice of list %(list)s must be a mapping with name and label."),
                list=list_name,
            )
            return None
        code = self.name(entry, None, CODE_PATTERN)
        label = self.text(entry, "label", None, required=True)
        other = self.flag(entry, "other", None)
        extra: dict[str, str] = {}
        for key in entry:
            if key in ("name", "label", "other"):
                continue
            text = entry.text(key)
            if not NAME_PATTERN.match(key) or text is None:
                self.error(
                    entry.where(key),
                    None,
                    N_("The choice column %(key)s must be a word with a single value."),
                    key=key,
                )
            else:
                extra[key] = text
        if code is None or label is None:
            return None
        return Choice(code, label, other, extra, entry.location)

    def flag(self, node: Node, key: str, item: str | None) -> bool:
        """A yes/no value (YAML booleans, or the words yes/no/true/false)."""
        value = node.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        text = (node.text(key) or "").lower()
        if text in _YES or text in _NO:
            return text in _YES
        self.error(
            node.where(key),
            item,
            N_("%(key)s must be yes or no, not %(value)s."),
            key=key,
            value=node.text(key),
        )
        return False

    # items

    def items(self, value: Any, where: SourceLocation, key: str, parent: Item | None) -> list[Item]:
        """The items of ``survey`` or of a group's ``children``."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(where, None, N_("%(key)s must be a list of items."), key=key)
            return []
        items: list[Item] = []
        for entry in value:
            item = self.item(entry, where)
            if item is not None:
                item.parent = parent
                items.append(item)
        return items

    def item(self, node: Any, where: SourceLocation) -> Item | None:
        """One item, or None when it is too broken to build (its problems are reported)."""
        if not isinstance(node, Node):
            self.error(where, None, N_("Each item must be a mapping with type and name."))
            return None
        name = self.name(node, None, NAME_PATTERN)
        parsed = self.item_type(node, name)
        if parsed is None:
            self.check_keys(node, ITEM_KEYS, name)
            return None
        item_type, list_name = parsed
        if self.is_hidden(node):
            self.check_keys(node, HIDDEN_KEYS, name, item_type)
        else:
            self.check_keys(node, KEYS_BY_TYPE[item_type], name, item_type)
        item = Item(type=item_type, name=name or "", list_name=list_name, location=node.location)
        self.nodes[id(item)] = node
        self.fill_texts(item, node)
        self.fill_logic(item, node)
        if self.is_hidden(node):
            self.fill_hidden(item, node)
        if item_type is ItemType.RANGE:
            item.range = self.range_spec(node, name)
        elif item_type is ItemType.FILE:
            item.upload = self.upload_spec(node, name)
        elif "parameters" in KEYS_BY_TYPE[item_type] and "parameters" in node:
            self.fill_order(item, node)
        if item_type in (ItemType.GROUP, ItemType.REPEAT):
            self.fill_children(item, node)
        self.fill_appearance(item, node)
        if item_type is ItemType.REPEAT:
            self.fill_repeat(item, node)
        elif item_type is ItemType.MATRIX:
            item.rows = self.rows(node, name)
        elif (
            item_type is ItemType.CALCULATE
            and item.calculation is None
            and "calculation" not in node
            and not self.is_hidden(node)
        ):
            self.error(node.location, name, N_("A calculate item needs a calculation."))
        return item if name is not None else None

    def item_type(self, node: Node, name: str | None) -> tuple[ItemType, str | None] | None:
        """The type and choice list of ``type: select_one LIST`` and the like."""
        text = node.text("type")
        if text is None:
            self.error(node.where("type"), name, N_("The type is missing."))
            return None
        words = text.split()
        type_names = [t.value for t in ItemType]
        if len(words) == 1 and words[0] in TYPE_SYNONYMS:
            return TYPE_SYNONYMS[words[0]], None
        if words and words[0] in type_names:
            item_type = ItemType(words[0])
            if item_type in _LISTED_TYPES:
                if len(words) == 2:
                    return item_type, words[1]
                self.error(
                    node.where("type"),
                    name,
                    N_("Write the type as %(type)s LIST, naming one choice list."),
                    type=item_type.value,
                )
                return None
            if len(words) == 1:
                return item_type, None
            if item_type is ItemType.FILE and len(words) == 2:
                if words[1] in [kind.value for kind in UploadKind]:
                    return item_type, None
                self.error(
                    node.where("type"),
                    name,
                    N_(
                        "Write the type as file, or file KIND with KIND image, audio, video "
                        "or any, not %(type)s."
                    ),
                    type=text,
                )
                return None
        close = difflib.get_close_matches(
            words[0] if words else "", type_names + list(TYPE_SYNONYMS), n=1
        )
        if close:
            self.error(
                node.where("type"),
                name,
                N_("Unknown type %(type)s (did you mean %(suggestion)s?)."),
                type=text,
                suggestion=close[0],
            )
        else:
            self.error(node.where("type"), name, N_("Unknown type %(type)s."), type=text)
        return None

    def fill_texts(self, item: Item, node: Node) -> None:
        """The item's texts, appearance and default."""
        name = item.name or None
        needs_label = item.type not in (ItemType.GROUP, ItemType.REPEAT, ItemType.CALCULATE)
        item.label = self.text(node, "label", name, required=needs_label)
        # Only the keys that apply: the others are reported once, as not applying.
        allowed = KEYS_BY_TYPE[item.type]
        for key in ("hint", "interviewer_note", "required_message", "constraint_message"):
            if key in allowed:
                setattr(item, key, self.text(node, key, name))
        item.appearance = node.text("appearance")
        if "default" in node and "default" in allowed:
            item.default = node.text("default")

    def fill_logic(self, item: Item, node: Node) -> None:
        """The item's expressions and answer options (required, read-only, DK/RF)."""
        name = item.name or None
        allowed = KEYS_BY_TYPE[item.type]
        for key in ("relevant", "constraint", "calculation", "choice_filter", "default_expression"):
            if key in allowed:
                setattr(item, key, self.expression(node, key, name))
        if "default" in node and "default_expression" in node and "default" in allowed:
            self.error(
                node.where("default_expression"),
                name,
                N_("Give either a default or a default_expression, not both."),
            )
        if item.type.is_question:
            item.required = self.required(node, name)
            item.read_only = self.flag(node, "read_only", name)
            item.dont_know = self.availability(node, "dont_know", name)
            item.refused = self.availability(node, "refused", name)

    @staticmethod
    def is_hidden(node: Node) -> bool:
        """True for ``type: hidden`` (a calculate whose value is its default)."""
        return (node.text("type") or "").strip() == "hidden"

    def fill_hidden(self, item: Item, node: Node) -> None:
        """A hidden item's value: its calculation, else its default as a text."""
        name = item.name or None
        if item.calculation is not None or "calculation" in node:
            return
        default = node.text("default")
        if default is None:
            self.error(node.location, name, N_("A hidden item needs a default or a calculation."))
            return
        quote = "'" if "'" not in default else '"'
        if quote in default:
            self.error(
                node.where("default"),
                name,
                N_("The default of a hidden item cannot hold both kinds of quotes."),
            )
            return
        item.calculation = parse(f"{quote}{default}{quote}", "default")
        item.default = None

    def parameters(self, node: Node, name: str | None) -> dict[str, str] | None:
        """``parameters`` as written: a mapping (YAML) or XLSForm's "start=0 end=10 step=1";
        None when it cannot be read (reported)."""
        value = node.get("parameters")
        written: dict[str, str] = {}
        if isinstance(value, Node):
            for key in value:
                written[key] = value.text(key) or ""
        elif value is not None:
            for pair in (node.text("parameters") or "").replace(";", " ").split():
                key, equals, text = pair.partition("=")
                if not equals:
                    self.error(
                        node.where("parameters"),
                        name,
                        N_("Write parameters as start=0 end=10 step=1, not %(value)s."),
                        value=pair,
                    )
                    return None
                written[key.strip()] = text.strip()
        return written

    def fill_order(self, item: Item, node: Node) -> None:
        """A select's, rank's or group's ``parameters``: ``randomize`` (yes/true or
        no/false) and a ``seed`` (a number or an expression such as ``${x}``), as XLSForm
        writes them."""
        name = item.name or None
        where = node.where("parameters")
        written = self.parameters(node, name)
        if written is None:
            return
        for key in written:
            if key not in ORDER_PARAMETERS:
                self.error(
                    where,
                    name,
                    N_("Unknown parameter %(key)s: this item takes randomize and seed."),
                    key=key,
                )
        randomize = written.get("randomize", "false").strip().lower()
        if randomize not in _YES | _NO:
            self.error(
                where,
                name,
                N_("randomize must be true or false, not %(value)s."),
                value=written["randomize"],
            )
            return
        item.randomize = randomize in _YES
        if "seed" not in written:
            return
        if not item.randomize:
            self.error(where, name, N_("A seed needs randomize=true."))
            return
        try:
            item.seed = parse(written["seed"], "seed")
        except ExpressionError as error:
            self.error(where, name, N_("%(error)s"), error=error)

    def fill_appearance(self, item: Item, node: Node) -> None:
        """Keep the appearances the item's type honours, warn about the others; a text
        with ``multiline`` is a long text; a ``table-list`` group that cannot be one table
        is shown as a field-list."""
        name = item.name or None
        honoured = APPEARANCES.get(item.type, frozenset())
        kept = []
        for word in (item.appearance or "").split():
            if word in honoured or (_COLUMNS.match(word) and "columns" in honoured):
                kept.append(word)
            else:
                self.warning(
                    node.where("appearance"),
                    name,
                    N_("The appearance %(appearance)s is ignored."),
                    appearance=word,
                )
        item.appearance = " ".join(kept) or None
        if item.type is ItemType.TEXT and "multiline" in kept:
            item.type = ItemType.TEXTAREA
        if "table-list" in kept and not is_table_list(item) and item.children:
            self.warning(
                node.where("appearance"),
                name,
                N_(
                    "A table-list shows single-choice questions on one list without a "
                    "choice_filter as one table; this group is shown as a field-list."
                ),
            )

    def range_spec(self, node: Node, name: str | None) -> RangeSpec | None:
        """A range's start, end and step: ``parameters`` as a mapping (YAML) or as
        XLSForm writes it ("start=0 end=10 step=1"); ODK's 1, 10 and 1 where left out."""
        where = node.where("parameters")
        written = self.parameters(node, name)
        if written is None:
            return None
        bounds = dict(RANGE_DEFAULTS)
        wrong = False
        for key, number in written.items():
            if key not in RANGE_PARAMETERS:
                self.error(
                    where,
                    name,
                    N_("Unknown parameter %(key)s: a range takes start, end and step."),
                    key=key,
                )
                wrong = True
            elif not _NUMBER.match(number.replace(",", ".")):
                self.error(
                    where,
                    name,
                    N_("The parameter %(key)s must be a number, not %(value)s."),
                    key=key,
                    value=number,
                )
                wrong = True
            else:
                bounds[key] = Decimal(number.replace(",", "."))
        if wrong:
            return None
        start, end, step = bounds["start"], bounds["end"], bounds["step"]
        if step <= 0:
            self.error(where, name, N_("The step of a range must be more than 0."))
        elif start > end:
            self.error(
                where,
                name,
                N_("The start of a range (%(start)s) is more than its end (%(end)s)."),
                start=str(start),
                end=str(end),
            )
        elif (end - start) % step:
            self.error(
                where,
                name,
                N_(
                    "The end of a range (%(end)s) must be a whole number of steps (%(step)s) "
                    "from its start (%(start)s)."
                ),
                start=str(start),
                end=str(end),
                step=str(step),
            )
        elif (end - start) / step > 10_000:
            self.error(where, name, N_("A range may offer at most 10001 values."))
        else:
            return RangeSpec(start, end, step)
        return None

    def upload_spec(self, node: Node, name: str | None) -> UploadSpec:
        """A file question's kind (``type: file image``), the types it accepts
        (``accept: "image/png, .pdf"``) and an image's largest side (``parameters:
        max-pixels=1024``, or a mapping)."""
        words = (node.text("type") or "").split()
        kind = UploadKind(words[1]) if len(words) == 2 else UploadKind.ANY
        accept: list[str] = []
        for entry in (node.text("accept") or "").replace(";", ",").split(","):
            entry = entry.strip().lower()
            if not entry:
                continue
            if not _ACCEPTED.match(entry):
                self.error(
                    node.where("accept"),
                    name,
                    N_("accept lists types such as image/png, audio/* or .pdf, not %(value)s."),
                    value=entry,
                )
                continue
            accept.append(entry)
        max_pixels = None
        where = node.where("parameters")
        value = node.get("parameters")
        written: dict[str, str] = {}
        if isinstance(value, Node):
            written = {key: value.text(key) or "" for key in value}
        elif value is not None:
            for pair in (node.text("parameters") or "").replace(";", " ").split():
                key, _, number = pair.partition("=")
                written[key.strip()] = number.strip()
        for key, number in written.items():
            if key.replace("_", "-") != "max-pixels":
                self.error(
                    where,
                    name,
                    N_("Unknown parameter %(key)s: a file question takes max-pixels."),
                    key=key,
                )
            elif not re.fullmatch(r"[0-9]{1,9}", number) or int(number) < MAX_PIXELS_LEAST:
                self.error(
                    where,
                    name,
                    N_(
                        "max-pixels must be a whole number of pixels, at least %(least)d, "
                        "not %(value)s."
                    ),
                    least=MAX_PIXELS_LEAST,
                    value=number,
                )
            elif kind is not UploadKind.IMAGE:
                self.error(where, name, N_("max-pixels applies to images only (file image)."))
            else:
                max_pixels = int(number)
        return UploadSpec(kind, tuple(accept), max_pixels)

    def fill_children(self, item: Item, node: Node) -> None:
        """A group's or a repeat's items."""
        children = node.get("children")
        if children is None or children == []:
            if item.is_repeat:
                msgid = N_("The repeat has no items.")
            else:
                msgid = N_("The group has no items.")
            self.error(node.where("children"), item.name or None, msgid)
        item.children = self.items(children, node.where("children"), "children", item)

    def fill_repeat(self, item: Item, node: Node) -> None:
        """A repeat's count: fixed (``repeat_count``) or open, between ``repeat_min`` and
        ``repeat_max``; and the child whose answer names an instance."""
        name = item.name or None
        item.repeat_count = self.expression(node, "repeat_count", name)
        item.repeat_min = self.count_bound(node, "repeat_min", name, 0)
        item.repeat_max = self.count_bound(node, "repeat_max", name, 1)
        if item.repeat_count is not None and (
            item.repeat_min is not None or item.repeat_max is not None
        ):
            self.error(
                node.where("repeat_count"),
                name,
                N_("With repeat_count the count is fixed: remove repeat_min and repeat_max."),
            )
        if (
            item.repeat_min is not None
            and item.repeat_max is not None
            and item.repeat_min > item.repeat_max
        ):
            self.error(
                node.where("repeat_min"),
                name,
                N_("repeat_min (%(min)d) is more than repeat_max (%(max)d)."),
                min=item.repeat_min,
                max=item.repeat_max,
            )
        item.instance_label = node.text("instance_label")

    def count_bound(self, node: Node, key: str, item: str | None, least: int) -> int | None:
        """``repeat_min`` / ``repeat_max``: a whole number from ``least`` to the server's cap."""
        value = node.get(key)
        if value is None or value == "":
            return None
        text = str(value).strip()
        whole = text.isascii() and text.isdigit() and len(text) <= 9  # int() refuses '²'
        if isinstance(value, bool) or not whole or not least <= int(text) <= MAX_INSTANCES:
            self.error(
                node.where(key),
                item,
                N_("%(key)s must be a whole number from %(least)d to %(most)d."),
                key=key,
                least=least,
                most=MAX_INSTANCES,
            )
            return None
        return int(text)

    def rows(self, node: Node, name: str | None) -> tuple[MatrixRow, ...]:
        """A matrix's rows, each name once."""
        value = node.get("rows")
        if not isinstance(value, list) or not value:
            self.error(node.where("rows"), name, N_("The matrix has no rows."))
            return ()
        rows: dict[str, MatrixRow] = {}
        for entry in value:
            if not isinstance(entry, Node):
                self.error(
                    node.where("rows"), name, N_("Each row must be a mapping with name and label.")
                )
                continue
            self.check_keys(entry, ROW_KEYS, name)
            row_name = self.name(entry, name, NAME_PATTERN)
            label = self.text(entry, "label", name, required=True)
            if row_name is None or label is None:
                continue
            if row_name in rows:
                self.error(
                    entry.where("name"), name, N_("The row %(row)s appears twice."), row=row_name
                )
                continue
            rows[row_name] = MatrixRow(row_name, label, entry.location)
        return tuple(rows.values())

    def expression(self, node: Node, key: str, item: str | None) -> Expression | None:
        """The parsed expression of ``key``; syntax errors reported with their position."""
        return expression_at(node, key, item, self.problems)

    def required(self, node: Node, item: str | None) -> bool | Expression:
        """``required``: yes/no (YAML booleans or words) or an expression."""
        value = node.get("required")
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        text = (node.text("required") or "").strip().lower()
        if text in _YES or text in _NO:
            return text in _YES
        return self.expression(node, "required", item) or False
