"""Times and moments compared as such while a respondent types (the page's script and the
server agree), and a kept value (once(now())) shown as the server computed it."""

from __future__ import annotations

from playwright.sync_api import expect

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


def test_times_and_moments_are_compared_as_such_while_typing(page, fresh_link, live_clock):
    start(page, fresh_link((DEFINITION, "godziny.yaml"), "godziny", "Godziny")[0])
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
