"""Times and moments compared as such while a respondent types (the page's script and the
server agree), and a kept value (once(now())) shown as the server computed it."""

from __future__ import annotations

import itertools

from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import LiveServer
from tests.browser.forms import start

DEFINITION = """\
settings: {id: godziny, title: Godziny, languages: [pl]}
survey:
  - type: group
    name: punkt
    label: Punkt
    children:
      - {type: time, name: otwarcie, label: Otwarcie}
      - {type: time, name: zamkniecie, label: Zamknięcie}
      - type: note
        name: za_wczesnie
        label: Zamknięcie przed otwarciem?
        relevant: "${zamkniecie} != '' and ${zamkniecie} <= ${otwarcie}"
      - {type: datetime, name: spotkanie, label: Spotkanie}
      - type: note
        name: po_poludniu
        label: Spotkanie po południu
        relevant: "decimal-time(${spotkanie}) > 0.5 and ${spotkanie} <= today()"
      - {type: calculate, name: start, calculation: "once(now())"}
      - {type: note, name: od, label: "Od ${start}"}
"""
_serial = itertools.count(1)


def _link(live_server: LiveServer, live_clock) -> str:
    from app.domain.questionnaire.attachments import AttachedFiles
    from app.fieldwork import services as fieldwork_services
    from app.models.fieldwork import SampleUnit
    from app.surveys import services as survey_services

    serial = next(_serial)
    rows = [
        "external_id;name;entity_type;subregion;gmina;phone",
        f"G{serial};Gmina nr {serial};JST;południowy;Żory;032 111 22 33",
    ]
    with live_server.app.extensions["ankieta.db"].session() as session:
        loaded = survey_services.load_bytes(
            session, DEFINITION.encode(), "godziny.yaml", AttachedFiles.none()
        )
        assert loaded.ok, [str(p) for p in loaded.problems]
        fieldwork = fieldwork_services.create_fieldwork(session, "godziny", f"Godziny {serial}")
        imported = fieldwork_services.import_sample(
            session, fieldwork, "\n".join(rows).encode(), "s.csv", now=live_clock()
        )
        assert imported.ok, [p.render() for p in imported.problems]
        fieldwork.open(live_clock())
        session.flush()
        token = session.scalar(
            select(SampleUnit.token).where(SampleUnit.fieldwork_id == fieldwork.id)
        )
    return f"{live_server.url}/r/{token}"


def test_times_and_moments_are_compared_as_such_while_typing(page, live_server, live_clock):
    start(page, _link(live_server, live_clock))
    early = page.locator("#item-za_wczesnie")
    afternoon = page.locator("#item-po_poludniu")
    expect(early).to_be_hidden()
    page.fill("#q-otwarcie", "8:00")
    page.fill("#q-zamkniecie", "7:30")
    page.locator("#q-spotkanie").focus()  # the answers are read as the respondent moves on
    expect(early).to_be_visible()  # 07:30 is before 08:00, whatever the text says
    page.fill("#q-zamkniecie", "16:30")
    page.locator("#q-spotkanie").focus()
    expect(early).to_be_hidden()
    expect(afternoon).to_be_hidden()
    day = live_clock().strftime("%d.%m.%Y")
    page.fill("#q-spotkanie", f"{day} 13:15")
    page.locator("#q-otwarcie").focus()
    expect(afternoon).to_be_visible()  # after noon, and today by its day
    page.fill("#q-spotkanie", f"{day} 09:15")
    page.locator("#q-otwarcie").focus()
    expect(afternoon).to_be_hidden()
    expect(page.locator("#item-od")).to_contain_text("Od 20")  # the server's once(now())
