"""Reading a fieldwork's sample (one row per institution) from an .xlsx or .csv file.

``parsing.parse_sample(data, filename)`` never raises: it returns the rows and every problem found.
A file with any problem is refused as a whole (``SampleParseResult.ok`` is false), so a
sample is never half-imported.

Columns (the first non-empty row is the header; ``row`` numbers count from the top of the
file, header included). A header is matched after normalising it like a variable name
(below), so case, surrounding spaces, Polish letters and punctuation do not matter:

=================  ================================================================
standard column    also accepted (after normalising: ``Telefon 2`` -> ``telefon_2``)
=================  ================================================================
``external_id``    ``id``, ``identyfikator``, ``externalid``, ``id_zewnetrzny``  (required)
``name``           ``nazwa``, ``nazwa_podmiotu``, ``nazwa_instytucji``           (required)
``entity_type``    ``typ``, ``typ_podmiotu``, ``typ_instytucji``, ``entitytype``
``subregion``      ``podregion``
``powiat``         --
``gmina``          --
``contact_person`` ``osoba_kontaktowa``, ``osoba_do_kontaktu``, ``contactperson``
``email``          ``e-mail``, ``e mail``, ``e_mail``, ``mail``, ``adres_email``, ``adres_e-mail``
``phone``          ``telefon``, ``tel``, ``phone_1``, ``phone1``, ``telefon_1``, ``telefon1``,
                   ``tel_1``, ``nr_telefonu``, ``numer_telefonu``
``phone_2``        ``telefon_2``, ``telefon 2``, ``telefon2``, ``tel_2``, ``tel2``, ``phone2``
``phone_3``        ``telefon_3``, ``telefon 3``, ``telefon3``, ``tel_3``, ``tel3``, ``phone3``
=================  ================================================================

Any other column is a sample variable (``${sample.NAME}``) named by normalising its header:
Polish (and other accented) letters transliterated, lower case, every run of other
characters an underscore, no leading or trailing underscore, ``v_`` in front of a name that
would start with a digit (a reference name cannot): ``Liczba miejsc`` -> ``liczba_miejsc``,
``2025 r.`` -> ``v_2025_r``. Because standard columns are recognised on the same normalised
name, a variable can never shadow one; two headers that end up with the same name (two
``email`` columns, ``Liczba miejsc`` and ``liczba-miejsc``) are a problem. A column without
a header is ignored when it is empty and a problem when it has data.

Values:

- Standard text columns: surrounding space removed and inner runs of white space made one
  space; ``entity_type`` upper-cased (any non-empty text is allowed: CIS, KIS, OWES, ...).
  ``external_id`` and ``name`` must not be empty; ``external_id`` must be unique in the file
  (compared exactly, case included, as the database does).
- ``email``, when given, must look like one address (``local@domain.tld``).
- Phones are kept as text: digits with an optional leading ``+``; spaces, dashes, dots,
  slashes and parentheses are removed, leading zeros survive; letters or other characters,
  or fewer than 6 / more than 15 digits, are a problem. ``phones`` lists ``phone``,
  ``phone_2``, ``phone_3`` in that order, empty ones left out and a repeated number kept once.
- Excel cell types: a number in a text column (an ID or phone stored as a number,
  ``123456789`` or ``123456789.0``) becomes ``"123456789"``; a fraction keeps its digits
  (``12.5`` -> ``"12.5"``). In variables numbers stay numbers (``int`` when integral). Dates
  become ISO text (``2026-01-15``, with ``T08:30:00`` when there is a time of day), times
  ``08:30:00``. Booleans become ``1`` / ``0`` (numbers in variables, text in text columns),
  so ``${sample.x} = 1`` works whichever way the cell was typed. A formula gives its saved
  (cached) result; a formula saved without one (files written by scripts that do not
  calculate) is a problem, and so is a cell showing an Excel error (``#N/A``, ``#DIV/0!``...).
- CSV has no cell types, so in variables a plain number (``42``, ``-3``, ``1,5``, ``1.5``;
  no leading zero, at most 15 digits before the point) becomes a number, ``TRUE`` /
  ``FALSE`` / ``PRAWDA`` / ``FAŁSZ`` become ``1`` / ``0`` and a ``DD.MM.YYYY`` date becomes
  ``YYYY-MM-DD`` (what Polish Excel writes into a CSV), so a sample gives the same variables
  as .csv and as .xlsx. An empty variable cell is ``""``.

Files:

- CSV: UTF-8 (with or without BOM), UTF-16 with a BOM, or else Windows-1250 (Polish Excel's
  plain "CSV" export); the delimiter is the one of ``;`` ``,`` and tab that splits the header
  into most columns (Polish Excel writes ``;``). A row is a CSV record, so quoted fields
  may hold line breaks.
- XLSX: the sheet named ``sample`` or ``próba`` (any case) if there is one, else the first.
  Before openpyxl opens it, the file must pass ``app.domain.workbooks.zip_problem`` (a zip
  bomb is refused from the zip directory alone, nothing is unpacked). Read with
  ``read_only=True, data_only=True``.
- At most ``MAX_FILE_BYTES`` per file, ``MAX_ROWS`` data rows and ``MAX_COLUMNS`` columns.
  Completely empty rows are skipped; empty columns after the last header are ignored.

The modules, each building on the ones before it: ``columns`` (the standard columns, their
other names and the sample's variable names), ``results`` (rows and problems), ``cells``
(a cell's value as text, variable or phone), ``files`` (CSV and XLSX bytes to a table of
cells), ``parsing`` (header and rows checked: ``parse_sample``) and ``templates`` (the
template files offered for download).
"""
