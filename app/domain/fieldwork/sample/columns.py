"""The sample's standard columns, the other names they are known by, and its variable names."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

STANDARD_COLUMNS: Final = (
    "external_id",
    "name",
    "entity_type",
    "subregion",
    "powiat",
    "gmina",
    "contact_person",
    "email",
    "phone",
    "phone_2",
    "phone_3",
)
REQUIRED_COLUMNS: Final = ("external_id", "name")
PHONE_COLUMNS: Final = ("phone", "phone_2", "phone_3")

# Other names of the standard columns, written as normalised headers (see normalise_name).
ALIASES: Final[dict[str, str]] = {
    "id": "external_id",
    "identyfikator": "external_id",
    "externalid": "external_id",
    "id_zewnetrzny": "external_id",
    "nazwa": "name",
    "nazwa_podmiotu": "name",
    "nazwa_instytucji": "name",
    "typ": "entity_type",
    "typ_podmiotu": "entity_type",
    "typ_instytucji": "entity_type",
    "entitytype": "entity_type",
    "podregion": "subregion",
    "osoba_kontaktowa": "contact_person",
    "osoba_do_kontaktu": "contact_person",
    "contactperson": "contact_person",
    "e_mail": "email",
    "mail": "email",
    "adres_email": "email",
    "adres_e_mail": "email",
    "telefon": "phone",
    "tel": "phone",
    "phone_1": "phone",
    "phone1": "phone",
    "telefon_1": "phone",
    "telefon1": "phone",
    "tel_1": "phone",
    "nr_telefonu": "phone",
    "numer_telefonu": "phone",
    "telefon_2": "phone_2",
    "telefon2": "phone_2",
    "tel_2": "phone_2",
    "tel2": "phone_2",
    "phone2": "phone_2",
    "telefon_3": "phone_3",
    "telefon3": "phone_3",
    "tel_3": "phone_3",
    "tel3": "phone_3",
    "phone3": "phone_3",
}


# The standard columns that are also sample variables (``${sample.NAME}``): the ones a
# sample unit keeps in columns of its own (the contact details are not variables).
SAMPLE_VARIABLES: Final = ("external_id", "name", "entity_type", "subregion", "powiat", "gmina")

# The longest text each standard column may hold (the sample_unit / contact_phone columns).
MAX_LENGTHS = {
    "external_id": 100,
    "name": 500,
    "entity_type": 50,
    "subregion": 100,
    "powiat": 100,
    "gmina": 100,
    "contact_person": 300,
    "email": 254,  # RFC 5321's limit for a usable address
}
_TRANSLITERATION = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ß": "ss"})
_NOT_NAME_CHARACTERS = re.compile(r"[^a-z0-9]+")


def normalise_name(header: str) -> str:
    """A header as a variable name: ``Liczba miejsc`` -> ``liczba_miejsc`` ("" if no letters)."""
    decomposed = unicodedata.normalize("NFKD", header.translate(_TRANSLITERATION))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    name = _NOT_NAME_CHARACTERS.sub("_", ascii_text).strip("_")
    if name[:1].isdigit():
        name = "v_" + name  # ${sample.NAME} needs a name that starts with a letter
    return name


def standard_column(header: str) -> str | None:
    """The standard column a header names (``Telefon 2`` -> ``phone_2``), or None."""
    name = normalise_name(header)
    if name in STANDARD_COLUMNS:
        return name
    return ALIASES.get(name)
