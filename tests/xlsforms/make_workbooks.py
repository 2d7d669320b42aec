"""Writes the XLSForm workbooks of this folder: forms in the styles people write them.

Run from the repository root after changing a form below:
``.venv/bin/python tests/xlsforms/make_workbooks.py``. The workbooks are committed;
``tests/domain/questionnaire/test_xlsform_corpus.py`` checks each against pyxform's own
verdict: what pyxform converts, Ankieta loads and runs; what it refuses, Ankieta refuses at
a sheet and row. ``broken_*`` forms are ones pyxform refuses; ``pending_*`` would use a
question type Ankieta does not have yet (none now); ``differs_*`` are converted by pyxform
and refused by Ankieta on purpose (docs/questionnaires.md says why).

Each form is a mapping of sheet name to rows, the first row the headers. Cells are written
as given (a number stays a number, as when a person types it in Excel). ``FILES`` are the
choices files forms read (``select_one_from_file``), written beside the workbooks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent

Sheet = list[list[Any]]

YES_NO = [["yes_no", "yes", "Yes"], ["yes_no", "no", "No"]]

FORMS: dict[str, dict[str, Sheet]] = {
    # the most common shape: no settings sheet, a bare label column
    "no_settings_bare_label": {
        "survey": [
            ["type", "name", "label", "hint", "required"],
            ["text", "respondent", "Name of the respondent", "First name only", "yes"],
            ["integer", "age", "Age in years", None, "yes"],
            ["select_one yes_no", "consent", "Do you agree to take part?", None, "yes"],
            ["decimal", "income", "Monthly income", None, None],
            ["date", "visit", "Date of the visit", None, None],
            ["note", "thanks", "Thank you, ${respondent}!", None, None],
        ],
        "choices": [["list_name", "name", "label"], *YES_NO],
    },
    # language columns named, not coded; a hint and a message only in English
    "languages_without_codes": {
        "survey": [
            ["type", "name", "label::English", "label::Swahili", "hint::English",
             "constraint", "constraint_message::English"],
            ["integer", "household_size", "How many people live here?",
             "Watu wangapi wanaishi hapa?", "Count children too", ". > 0 and . < 40",
             "Between 1 and 39"],
            ["select_one water", "water", "Main source of water", "Chanzo kikuu cha maji",
             None, None, None],
        ],
        "choices": [
            ["list_name", "name", "label::English", "label::Swahili"],
            ["water", "tap", "Tap", "Bomba"],
            ["water", "well", "Well", "Kisima"],
            ["water", "river", "River", None],
        ],
        "settings": [["form_title", "default_language"], ["Household water", "English"]],
    },
    # Polish first, coded language columns, the settings people fill in Kobo and ODK Central
    "polish_settings_sheet": {
        "survey": [
            ["type", "name", "label::Polski (pl)", "label::English (en)", "required",
             "required_message::Polski (pl)"],
            ["begin group", "dane", "Dane instytucji", "Institution", None, None],
            ["text", "nazwa", "Nazwa", "Name", "yes", "Podaj nazwę"],
            ["integer", "zatrudnieni", "Liczba zatrudnionych", "Employees", "yes",
             "Podaj liczbę"],
            ["end group", None, None, None, None, None],
        ],
        "settings": [
            ["form_title", "form_id", "version", "default_language", "style", "instance_name",
             "public_key", "submission_url", "allow_choice_duplicates"],
            ["Monitoring PES", "monitoring_pes", 2026031201, "Polski (pl)", "pages",
             "concat(${nazwa}, '-', ${zatrudnieni})", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A",
             "https://example.org/submission", "no"],
        ],
    },
    # a bare label beside a named language: the bare column is the default language
    "bare_label_and_french": {
        "survey": [
            ["type", "name", "label", "label::Français", "constraint_message"],
            ["integer", "children", "Number of children", "Nombre d'enfants", None],
            ["text", "village", "Village", None, None],
            ["integer", "rooms", "Rooms", "Pièces", "At most 20"],
        ],
        "settings": [["form_id", "default_language"], ["rooms", "English"]],
    },
    # headers in mixed case, unknown columns, sheets that are not XLSForm's
    "extra_columns_and_sheets": {
        "survey": [
            ["Type", "Name", "Label::English", "Hint", "comments", "Question number",
             "media::image"],
            ["text", "shop", "Name of the shop", "As on the sign", "ask the owner", "Q1",
             None],
            ["integer", "staff", "How many staff?", None, None, "Q2", "staff.png"],
            ["select_multiple goods", "goods", "What does it sell?", None, "tick all", "Q3",
             None],
        ],
        "choices": [
            ["List_Name", "Name", "Label::English", "notes"],
            ["goods", "food", "Food", "incl. drinks"],
            ["goods", "tools", "Tools", None],
            ["goods", "clothes", "Clothes", None],
        ],
        "instructions": [["How to fill in"], ["Ask each question as written."]],
        "changelog": [["date", "change"], ["2026-01-10", "Q3 added"]],
    },
    # "other, specify" on both kinds of select; list names pyxform takes and we rename
    "or_other": {
        "survey": [
            ["type", "name", "label"],
            ["select_one colors or_other", "favourite", "Favourite colour"],
            ["select_multiple fruits or_other", "fruits", "Fruits you eat"],
            ["select_one colors", "car", "Colour of your car"],
            ["select_one 1st-choice", "first", "First choice"],
        ],
        "choices": [
            ["list_name", "name", "label"],
            ["colors", "red", "Red"],
            ["colors", "blue", "Blue"],
            ["fruits", "apple", "Apple"],
            ["fruits", "pear", "Pear"],
            ["1st-choice", "a", "A"],
            ["1st-choice", "b", "B"],
        ],
    },
    # cascading selects: filter columns on the choices sheet, one list without them
    "choice_filter_columns": {
        "survey": [
            ["type", "name", "label", "choice_filter"],
            ["select_one region", "region", "Region", None],
            ["select_one district", "district", "District", "region=${region}"],
            ["select_one yes_no", "urban", "Urban area?", None],
            ["select_one service", "service", "Service used", "yes='1' or ${urban}='no'"],
            ["select_one yes_no", "again", "Would you use it again?", "no!='x'"],
        ],
        "choices": [
            ["list_name", "name", "label", "region", "yes", "no"],
            ["region", "north", "North", None, None, None],
            ["region", "south", "South", None, None, None],
            ["district", "n1", "North one", "north", None, None],
            ["district", "n2", "North two", "north", None, None],
            ["district", "s1", "South one", "south", None, None],
            ["service", "clinic", "Clinic", None, "1", None],
            ["service", "school", "School", None, "1", None],
            ["service", "market", "Market", None, None, "1"],
            *[[*row, None, None, None] for row in YES_NO],
        ],
    },
    # metadata rows: start and end times are the paradata analysts want
    "metadata_rows": {
        "survey": [
            ["type", "name", "label"],
            ["start", "starttime", None],
            ["end", "endtime", None],
            ["today", "day", None],
            ["deviceid", "device", None],
            ["username", "interviewer", None],
            ["phonenumber", "phone", None],
            ["email", "mail", None],
            ["simserial", "sim", None],
            ["subscriberid", "subscriber", None],
            ["audit", "audit", None],
            ["integer", "visitors", "Visitors last week"],
            ["text", "remarks", "Remarks"],
        ],
    },
    # groups on pages, a nested list of people, a fixed count
    "groups_and_repeats": {
        "survey": [
            ["type", "name", "label", "appearance", "repeat_count", "relevant", "calculation"],
            ["begin_group", "household", "Household", "field-list", None, None],
            ["integer", "members", "Members", None, None, None],
            ["text", "head", "Head of household", None, None, None],
            ["end_group", None, None, None, None, None],
            ["begin repeat", "person", "Person", None, "${members}", None],
            ["text", "first_name", "First name", None, None, None],
            ["integer", "person_age", "Age", None, None, None],
            ["select_one yes_no", "works", "Works?", None, None, "${person_age} >= 15"],
            ["end repeat", None, None, None, None, None],
            ["begin group", "visits", "Visits", None, None, None],
            ["begin repeat", "visit", "Visit", None, None, None],
            ["date", "visit_date", "Date", None, None, None],
            ["end repeat", None, None, None, None, None],
            ["end group", None, None, None, None, None],
            ["calculate", "adults", None, None, None, None, "count(${works})"],
        ],
        "choices": [["list_name", "name", "label"], *YES_NO],
    },
    # calculations, constraints with a message in one language, appearances, parameters
    "calculations_and_constraints": {
        "survey": [
            ["type", "name", "label::Polski (pl)", "label::English (en)", "calculation",
             "constraint", "constraint_message::Polski (pl)", "appearance", "parameters",
             "randomize", "default", "read_only"],
            ["integer", "women", "Kobiety", "Women", None, ". >= 0", "Nie mniej niż 0",
             None, None, None, None, None],
            ["integer", "men", "Mężczyźni", "Men", None, ". >= 0", "Nie mniej niż 0",
             "numbers", None, None, None, None],
            ["calculate", "total", None, None, "${women} + ${men}", None, None, None, None,
             None, None, None],
            ["note", "total_note", "Razem: ${total}", "Total: ${total}", None, None, None,
             None, None, None, None, None],
            ["select_one scale", "rating", "Ocena", "Rating", None, None, None, "likert",
             "randomize=false", "false", "3", None],
            ["select_multiple scale", "reasons", "Powody", "Reasons", None,
             "count-selected(.) <= 2", "Najwyżej dwa", "minimal", None, "true", None,
             None],
            ["text", "comment", "Uwagi", "Comments", None,
             "string-length(.) <= 200", None, "multiline", None, None, None, None],
            ["text", "code", "Kod", "Code", None, None, None, None, None, None, "A-1", "yes"],
        ],
        "choices": [
            ["list_name", "name", "label::Polski (pl)", "label::English (en)"],
            ["scale", "1", "Źle", "Bad"],
            ["scale", "2", "Średnio", "Fair"],
            ["scale", "3", "Dobrze", "Good"],
        ],
        "settings": [["form_id", "form_title"], ["calculations", "Obliczenia"]],
    },
    # a question that only has a hint; questions filled in by a calculation
    "hint_only_and_calculated_questions": {
        "survey": [
            ["type", "name", "label", "hint", "calculation", "read_only", "trigger"],
            ["integer", "adults", "Adults in the household", None, None, None, None],
            ["integer", "children", None, "Children in the household", None, None, None],
            ["integer", "people", "People in all", None, "${adults} + ${children}", "yes",
             None],
            ["text", "stamp", "When the count changed", None, "concat('n=', ${people})",
             None, "${people}"],
        ],
    },
    # a group left empty (its metadata rows left out), choices without labels
    "empty_group_and_unlabelled_choices": {
        "survey": [
            ["type", "name", "label"],
            ["begin group", "meta_times", "Times"],
            ["start", "started", None],
            ["end", "ended", None],
            ["end group", None, None],
            ["begin group", "later", "To fill in later"],
            ["end group", None, None],
            ["select_one sizes", "size", "Size"],
        ],
        "choices": [["list_name", "name", "label"], ["sizes", "S", None], ["sizes", "M", None],
                    ["sizes", "L", "Large"]],
    },
    # the question types beyond text, numbers and dates
    "types_time": {
        "survey": [["type", "name", "label"], ["integer", "a", "A"], ["time", "at", "When?"]],
    },
    "types_datetime": {
        "survey": [["type", "name", "label"], ["integer", "a", "A"],
                   ["datetime", "moment", "When exactly?"]],
    },
    "types_geopoint": {
        "survey": [["type", "name", "label"], ["integer", "a", "A"],
                   ["geopoint", "where", "Where are you?"]],
    },
    "types_range": {
        "survey": [
            ["type", "name", "label", "parameters"],
            ["integer", "a", "A", None],
            ["range", "score", "Score", "start=0 end=10 step=1"],
        ],
    },
    "types_more": {
        "survey": [
            ["type", "name", "label", "parameters", "appearance"],
            ["acknowledge", "consent", "I agree", None, None],
            ["trigger", "ready", "Ready?", None, None],
            ["barcode", "code", "Scan the code", None, None],
            ["rank sizes", "order", "Order the sizes", None, None],
            ["geotrace", "path", "The road", None, None],
            ["geoshape", "field", "The field", None, None],
            ["hidden", "origin", None, None, None],
            ["range", "rating", "Rating", "start=1 end=5 step=0.5", "rating"],
        ],
        "choices": [["list_name", "name", "label"], ["sizes", "S", "Small"],
                    ["sizes", "M", "Medium"], ["sizes", "L", "Large"]],
    },
    # appearances as forms use them: a dropdown, choices in a row, a Likert scale, dates
    # to the month and the year, a table-list group and the label / list-nolabel matrix
    # inside a field-list group; appearances Ankieta has no use for (warnings)
    "appearances_and_tables": {
        "survey": [
            ["type", "name", "label", "appearance", "required"],
            ["select_one region", "region", "Region", "minimal", "yes"],
            ["select_one yes_no", "works", "Do you work?", "horizontal", None],
            ["select_multiple region", "visited", "Regions visited", "horizontal-compact",
             None],
            ["select_one agree", "happy", "I am happy here", "likert", None],
            ["select_one yes_no", "fast", "Quick answer", "quick", None],
            ["date", "since", "Since when (month)?", "month-year", None],
            ["date", "born", "Year of birth", "year", None],
            ["date", "visit", "Date of the visit", "no-calendar", None],
            ["integer", "income", "Income", "thousands-sep", None],
            ["begin group", "services", "Which services do you use?", "table-list", None],
            ["select_one yes_no", "clinic", "Clinic", None, "yes"],
            ["select_one yes_no", "school", "School", None, None],
            ["select_one yes_no", "market", "Market", None, None],
            ["end group", None, None, None, None],
            ["begin group", "opinions", "Opinions", "field-list", None],
            ["note", "opinions_intro", "Say how far you agree.", None, None],
            ["select_one agree", "opinions_header", "Statement", "label", None],
            ["select_one agree", "roads", "The roads are good", "list-nolabel", "yes"],
            ["select_one agree", "buses", "The buses are on time", "list-nolabel", None],
            ["text", "opinions_more", "Anything else?", None, None],
            ["end group", None, None, None, None],
        ],
        "choices": [
            ["list_name", "name", "label"],
            *YES_NO,
            ["region", "north", "North"],
            ["region", "south", "South"],
            ["region", "east", "East"],
            ["agree", "1", "Disagree"],
            ["agree", "2", "Neutral"],
            ["agree", "3", "Agree"],
        ],
    },
    # choices (and a rank) in an order of each response's own, seeded or not; other and
    # don't know stay last; parameters pyxform takes that Ankieta has no use for (warnings)
    "randomized_choices": {
        "survey": [
            ["type", "name", "label", "parameters", "appearance"],
            ["integer", "number", "A number", None, None],
            ["select_one fruit or_other", "fruit", "Favourite fruit", "randomize=true",
             None],
            ["select_multiple fruit", "fruits", "Fruits you eat",
             "randomize=true seed=${number}", None],
            ["rank sizes", "order", "Order the sizes", "randomize=true", None],
            ["select_one fruit", "plain", "Not randomized", "randomize=false", None],
            ["range", "score", "Score", "start=0 end=10 step=1 tick_interval=2", None],
            ["geopoint", "where", "Where?", "capture-accuracy=10", None],
            ["text", "story", "Your story", "rows=5", "multiline"],
        ],
        "choices": [
            ["list_name", "name", "label"],
            ["fruit", "apple", "Apple"],
            ["fruit", "pear", "Pear"],
            ["fruit", "plum", "Plum"],
            ["fruit", "cherry", "Cherry"],
            ["fruit", "grape", "Grape"],
            ["fruit", "dk", "Don't know"],
            ["sizes", "s", "Small"],
            ["sizes", "m", "Medium"],
            ["sizes", "l", "Large"],
        ],
    },
    # a group whose questions come in an order of each response's own (pyxform passes a
    # group's parameters through; ODK does not use them)
    "randomized_group": {
        "survey": [
            ["type", "name", "label", "parameters", "appearance"],
            ["begin group", "ratings", "Ratings", "randomize=true", "field-list"],
            ["integer", "r1", "Rating 1", None, None],
            ["integer", "r2", "Rating 2", None, None],
            ["integer", "r3", "Rating 3", None, None],
            ["integer", "r4", "Rating 4", None, None],
            ["end group", None, None, None, None],
        ],
    },
    # file uploads: every XLSForm upload type, max-pixels and body::accept
    "types_upload": {
        "survey": [
            ["type", "name", "label", "parameters", "body::accept", "required"],
            ["integer", "a", "A", None, None, "yes"],
            ["image", "photo", "A photo of the entrance", "max-pixels=1024", None, None],
            ["photo", "snapshot", "Another photo", None, None, None],
            ["audio", "recording", "Say something", "quality=normal", None, None],
            ["video", "clip", "A short film", None, None, None],
            ["file", "document", "The statute (PDF)", None, ".pdf", None],
            ["background-audio", "ambient", None, None, None, None],
        ],
    },
    # choices read from CSV and XML files beside the workbook (FILES below), a cascade over
    # a column of the CSV, another file's columns named by parameters
    "select_from_file": {
        "survey": [
            ["type", "name", "label::Polski (pl)", "label::English (en)", "choice_filter",
             "parameters"],
            ["select_one_from_file corpus_regions.csv", "region", "Województwo", "Region",
             None, None],
            ["select_one_from_file corpus_counties.csv", "county", "Powiat", "County",
             "region=${region}", None],
            ["select_multiple_from_file corpus_services.xml", "services", "Usługi",
             "Services", None, None],
            ["select_one_from_file corpus_communes.csv", "commune", "Gmina", "Commune",
             "county=${county} or county=''", "value=kod label=nazwa"],
            ["select_one_from_file corpus_regions.csv", "home", "Region zamieszkania",
             "Home region", None, None],
        ],
    },
    # select_one_external: the long list on the external_choices sheet (labels in two
    # languages, a column to filter on); questions whose default is an expression
    "select_external_and_dynamic_defaults": {
        "survey": [
            ["type", "name", "label::Polski (pl)", "label::English (en)", "choice_filter",
             "default", "required"],
            ["select_one region", "region", "Województwo", "Region", None, None, "yes"],
            ["select_one_external commune", "commune", "Gmina", "Commune",
             "region=${region}", None, None],
            ["integer", "year", "Rok", "Year", None, "2025", None],
            ["integer", "next_year", "Następny rok", "Next year", None, "${year} + 1", None],
            ["date", "visit", "Data wizyty", "Date of the visit", None, "today()", None],
        ],
        "choices": [
            ["list_name", "name", "label::Polski (pl)", "label::English (en)"],
            ["region", "sl", "Śląskie", "Silesia"],
            ["region", "ma", "Małopolskie", "Lesser Poland"],
        ],
        "external_choices": [
            ["list_name", "name", "label::Polski (pl)", "label::English (en)", "region"],
            ["commune", "katowice", "Katowice", "Katowice", "sl"],
            ["commune", "gliwice", "Gliwice", "Gliwice", "sl"],
            ["commune", "krakow", "Kraków", "Cracow", "ma"],
        ],
    },
    # now(), once(), uuid(): kept with the answers; times and dates compared as such
    "now_once_uuid": {
        "survey": [
            ["type", "name", "label", "calculation", "default", "constraint"],
            ["calculate", "first_saved", None, "once(now())", None, None],
            ["calculate", "response_id", None, None, "uuid()", None],
            ["calculate", "short_key", None, "once(uuid(8))", None, None],
            ["calculate", "hour", None, "format-date-time(now(), '%H')", None, None],
            ["time", "opens", "Opening time", None, None, None],
            ["time", "closes", "Closing time", None, None, ". > ${opens}"],
            ["date", "visit", "Date of the visit", None, None, ". <= today()"],
            ["dateTime", "booked", "Booked for", None, None, ". >= ${visit}"],
            ["note", "stamp", "First saved at ${first_saved} (${response_id})", None, None, None],
        ],
    },
    # forms pyxform converts that Ankieta refuses on purpose (docs/questionnaires.md says why)
    "differs_choices_file_missing": {
        "survey": [["type", "name", "label"], ["integer", "a", "A"],
                   ["select_one_from_file corpus_nowhere.csv", "place", "Place"]],
    },
    "differs_choices_file_malformed": {
        "survey": [["type", "name", "label"], ["integer", "a", "A"],
                   ["select_one_from_file corpus_broken.csv", "place", "Place"]],
    },
    "differs_choice_name_with_a_space": {
        "survey": [["type", "name", "label"], ["select_one sizes", "size", "Size"]],
        "choices": [["list_name", "name", "label"], ["sizes", "extra large", "XL"],
                    ["sizes", "small", "S"]],
    },
    "differs_question_name_with_a_dot": {
        "survey": [["type", "name", "label"], ["integer", "q1.2", "Question 1.2"]],
    },
    "differs_filter_on_a_missing_column": {
        "survey": [["type", "name", "label", "choice_filter"],
                   ["select_one sizes", "size", "Size", "shop='north'"]],
        "choices": [["list_name", "name", "label"], ["sizes", "s", "S"], ["sizes", "m", "M"]],
    },
    "differs_forward_reference": {
        "survey": [["type", "name", "label", "relevant"],
                   ["integer", "a", "A", "${b} > 1"],
                   ["integer", "b", "B", None]],
    },
    # forms pyxform refuses: Ankieta refuses them too, naming the sheet and row
    "broken_missing_end_group": {
        "survey": [
            ["type", "name", "label"],
            ["begin group", "g", "Group"],
            ["text", "a", "A"],
        ],
    },
    "broken_unmatched_end_repeat": {
        "survey": [
            ["type", "name", "label"],
            ["text", "a", "A"],
            ["end repeat", None, None],
        ],
    },
    "broken_unknown_type": {
        "survey": [["type", "name", "label"], ["text", "a", "A"], ["intger", "b", "B"]],
    },
    "broken_mixed_case_type": {
        "survey": [["type", "name", "label"], ["Select_One yes_no", "a", "A"]],
        "choices": [["list_name", "name", "label"], *YES_NO],
    },
    "broken_duplicate_names": {
        "survey": [["type", "name", "label"], ["text", "a", "A"], ["integer", "a", "A again"]],
    },
    "broken_unknown_list": {
        "survey": [["type", "name", "label"], ["select_one colours", "a", "A"]],
        "choices": [["list_name", "name", "label"], *YES_NO],
    },
    "broken_select_without_list": {
        "survey": [["type", "name", "label"], ["text", "a", "A"], ["select_one", "b", "B"]],
        "choices": [["list_name", "name", "label"], *YES_NO],
    },
    "broken_duplicate_choice": {
        "survey": [["type", "name", "label"], ["select_one yes_no", "a", "A"]],
        "choices": [["list_name", "name", "label"], *YES_NO, ["yes_no", "yes", "Yes again"]],
    },
    "broken_name_with_a_space": {
        "survey": [["type", "name", "label"], ["text", "first name", "First name"]],
    },
    "broken_choice_name_with_a_space_in_select_multiple": {
        "survey": [["type", "name", "label"], ["select_multiple sizes", "sizes", "Sizes"]],
        "choices": [["list_name", "name", "label"], ["sizes", "small", "S"],
                    ["sizes", "extra large", "XL"]],
    },
    "broken_or_other_with_filter": {
        "survey": [
            ["type", "name", "label", "choice_filter"],
            ["select_one colors or_other", "a", "A", "yes='1'"],
        ],
        "choices": [["list_name", "name", "label", "yes"], ["colors", "red", "Red", "1"]],
    },
    "broken_reference_to_nothing": {
        "survey": [
            ["type", "name", "label", "relevant"],
            ["integer", "a", "A", None],
            ["text", "b", "B", "${nothere} > 1"],
        ],
    },
}  # fmt: skip

# the choices files the forms above read, written beside the workbooks
FILES: dict[str, str] = {
    "corpus_regions.csv": (
        "name,label::Polski (pl),label::English (en)\n"
        "dolnoslaskie,Dolnośląskie,Lower Silesian\n"
        "slaskie,Śląskie,Silesian\n"
        "mazowieckie,Mazowieckie,\n"
    ),
    "corpus_counties.csv": (
        "\ufeffname,label::Polski (pl),label::English (en),region\n"
        "wroclawski,wrocławski,Wrocław county,dolnoslaskie\n"
        "olesnicki,oleśnicki,Oleśnica county,dolnoslaskie\n"
        "gliwicki,gliwicki,Gliwice county,slaskie\n"
        "\n"
        '"warszawski_zachodni","warszawski zachodni, część","West Warsaw county",mazowieckie\n'
    ),
    "corpus_services.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<root>\n"
        "  <item><name>doradztwo</name><label>Doradztwo</label><kind>soft</kind></item>\n"
        "  <item><name>szkolenia</name><label>Szkolenia</label><kind>soft</kind></item>\n"
        "  <item><name>zasilki</name><label>Zasiłki</label><kind>cash</kind></item>\n"
        "</root>\n"
    ),
    "corpus_communes.csv": (
        "kod,nazwa,county\n"
        "0223011,Kąty Wrocławskie,wroclawski\n"
        "0214011,Oleśnica,olesnicki\n"
        "2405011,Knurów,gliwicki\n"
        "9999999,Gmina spoza listy,\n"
    ),
    "corpus_broken.csv": ("name,label\na,A\nb,B,extra,cells\n"),
}


def write(name: str, sheets: dict[str, Sheet], folder: Path) -> Path:
    """One workbook, its sheets in the order given."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = folder / f"{name}.xlsx"
    workbook.save(path)
    return path


def main(folder: Path = HERE) -> None:
    for pattern in ("*.xlsx", "*.csv", "*.xml"):
        for old in folder.glob(pattern):
            old.unlink()
    for name, sheets in FORMS.items():
        write(name, sheets, folder)
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    print(f"{len(FORMS)} workbooks and {len(FILES)} files written to {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
