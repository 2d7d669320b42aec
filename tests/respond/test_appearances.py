"""XLSForm's appearances and randomized choices on the respondent's pages and the
interviewer's screens: a dropdown for ``minimal`` (the numbered list on the phone), a
table for a table-list group, dates to the month, and choices in an order each response
keeps (through Back and a resumed link) while the codes stored and exported stay as they
are."""

from __future__ import annotations

import re
from pathlib import Path

from app.models.users import Role
from tests.support import unit_token
from tests.support.exports import sheet_rows
from tests.support.phone import take_and_dial
from tests.support.respondent import Respondent, parse_form, stored
from tests.support.xlsforms import CORPUS

RANDOMIZED = """
settings: {id: losowe, title: Losowe, paging: item}
choices:
  owoc:
    - {name: jablko, label: Jabłko}
    - {name: gruszka, label: Gruszka}
    - {name: sliwka, label: Śliwka}
    - {name: wisnia, label: Wiśnia}
    - {name: winogrono, label: Winogrono}
    - {name: morela, label: Morela}
    - {name: inny, label: Inny, other: yes}
survey:
  - type: select_one owoc
    name: ulubiony
    label: Ulubiony owoc
    required: yes
    parameters: {randomize: true}
  - {type: text, name: uwagi, label: Uwagi}
"""
UNITS = [("W-1", "Pierwsza", {}), ("W-2", "Druga", {}), ("W-3", "Trzecia", {}), ("T-1", "Tel", {})]


def _choice_order(html: str, name: str) -> list[str]:
    """The codes of a choice question's radios, in page order."""
    return re.findall(rf'<input type="radio" id="q-{name}-([^"]+)" name="{name}"', html)


def test_minimal_is_a_dropdown_and_a_table_list_one_accessible_table(
    app, client, make_fieldwork, login_as, join_team
) -> None:
    fieldwork_id = make_fieldwork(CORPUS / "appearances_and_tables.xlsx", units=UNITS)
    web = Respondent(app.test_client(), unit_token(app, fieldwork_id, "W-1"))
    form = web.begin()
    html = form.html
    assert '<select id="q-region" name="region" class="dropdown"' in html
    assert not _choice_order(html, "region")  # no radios for it
    options = re.findall(
        r'<option value="([^"]*)"', html.split('id="q-region"')[1].split("</select>")[0]
    )
    assert options == ["", "north", "south", "east"]  # no don't know on the web by default
    assert 'class="choices-row"' in html and 'class="choices-likert"' in html
    assert "(MM.RRRR)" in html and "(RRRR)" in html

    seen, form = web.walk({"region": "south", "since": "03.2026", "born": "1984"}, until="services")
    assert form is not None and form.page_id == "services"
    table = form.html.split('<table class="matrix table-list">')[1].split("</table>")[0]
    heads = re.findall(r'<th scope="col" id="c-services-([^"]+)">([^<]*)</th>', table)
    assert heads == [("yes", "Yes"), ("no", "No")]
    assert re.findall(r'<th scope="row"><span id="r-([^"]+)">', table) == [
        "clinic",
        "school",
        "market",
    ]
    # each radio is named by its row and its column: "Clinic – Yes"
    assert 'aria-labelledby="r-clinic d-services c-services-yes"' in table
    assert '<span id="d-services" hidden>–</span>' in form.html
    sent = web.send(form, {"school": "no"})  # clinic is required
    assert sent.status_code == 200 and 'id="e-clinic"' in sent.get_data(as_text=True)
    form = web.next(parse_form(sent), {"clinic": "yes", "school": "no", "market": "yes"})
    assert form is not None and form.page_id == "opinions"
    assert '<table class="matrix table-list">' in form.html
    assert "<caption>Statement</caption>" in form.html  # a table inside the page
    saved = stored(app, web.token)
    assert saved is not None
    assert (saved.answers["region"], saved.answers["since"], saved.answers["born"]) == (
        "south", "2026-03-01", "1984-01-01"
    )  # fmt: skip
    assert (saved.answers["clinic"], saved.answers["school"]) == ("yes", "no")
    first = web.open(f"/r/{web.token}/p/{seen[0]}")  # the month and the year as typed
    assert 'value="03.2026"' in first.html and 'value="1984"' in first.html

    # by phone the dropdown is the numbered list (a digit picks the answer)
    fieldwork_id = make_fieldwork(
        CORPUS / "appearances_and_tables.xlsx", units=[("T-1", "Tel", {})], title="Telefon"
    )
    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    screen = client.get(client.get(f"/cati/case/{case_id}/interview").location)
    phone = screen.get_data(as_text=True)
    assert _choice_order(phone, "region") == ["north", "south", "east", "dk", "rf"]
    assert 'class="dropdown"' not in phone


def test_randomized_choices_keep_their_order_through_back_and_resume_and_export_codes(
    app, client, make_fieldwork, runner, tmp_path: Path
) -> None:
    definition = tmp_path / "losowe.yaml"
    definition.write_text(RANDOMIZED, encoding="utf-8")
    fieldwork_id = make_fieldwork(definition, units=UNITS)
    written = ["jablko", "gruszka", "sliwka", "wisnia", "winogrono", "morela", "inny"]
    orders = {}
    for unit, answer in (("W-1", "sliwka"), ("W-2", "morela"), ("W-3", "inny")):
        web = Respondent(app.test_client(), unit_token(app, fieldwork_id, unit))
        form = web.begin()
        order = _choice_order(form.html, "ulubiony")
        assert sorted(order) == sorted(written) and order[-1] == "inny"  # other stays last
        assert _choice_order(web.open(form.path).html, "ulubiony") == order  # shown again
        extra = {"ulubiony_other": "kiwi"} if answer == "inny" else {}
        following = web.next(form, {"ulubiony": answer, **extra})
        assert following is not None
        back = web.back(following)
        assert _choice_order(back.html, "ulubiony") == order  # Back
        assert re.search(rf'id="q-ulubiony-{answer}"[^>]* checked', back.html)
        again = Respondent(app.test_client(), web.token)  # the link again, another browser
        resumed = again.begin()
        resumed = again.open(resumed.path.rsplit("/", 1)[0] + "/ulubiony")
        assert _choice_order(resumed.html, "ulubiony") == order
        web.walk({"ulubiony": answer, **extra})
        orders[unit] = order
    assert len({tuple(order) for order in orders.values()}) > 1  # each response its own

    out = tmp_path / "losowe.xlsx"
    result = runner.invoke(args=["export", str(fieldwork_id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = {row["external_id"]: row for row in sheet_rows(out) if row["external_id"] != "T-1"}
    assert {unit: row["ulubiony"] for unit, row in rows.items()} == {
        "W-1": "sliwka", "W-2": "morela", "W-3": "inny"
    }  # fmt: skip
    assert rows["W-3"]["ulubiony_other"] == "kiwi"
