"""A question's default expression on the respondent's page and the interviewer's screen:
filled in from the clock and earlier answers when the question is shown without an answer,
sent back (or changed) like any answer, and never over an answer given."""

from __future__ import annotations

from pathlib import Path

from app.models.users import Role
from tests.support import unit_token
from tests.support.phone import take_and_dial
from tests.support.respondent import Respondent, parse_form, stored

DEFINITION = """
settings: {id: domyslne, title: Domyślne, paging: item}
survey:
  - {type: integer, name: rok, label: Rok, required: yes}
  - {type: integer, name: nastepny, label: Następny rok, default_expression: "${rok} + 1"}
  - {type: date, name: dzien, label: Dzień wypełnienia, default_expression: "today()"}
"""


def test_the_default_expression_fills_the_field_and_the_answer_then_stays(
    app, client, make_fieldwork, login_as, join_team, tmp_path: Path
) -> None:
    definition = tmp_path / "domyslne.yaml"
    definition.write_text(DEFINITION, encoding="utf-8")
    fieldwork_id = make_fieldwork(definition, units=[("W-1", "Web", {}), ("T-1", "Tel", {})])
    web = Respondent(app.test_client(), unit_token(app, fieldwork_id, "W-1"))
    form = web.next(web.begin(), {"rok": "2025"})
    assert form is not None and form.page_id == "nastepny"
    assert form.fields["nastepny"].value == "2026"  # from the earlier answer
    form = web.next(form, {"nastepny": "2030"})  # the respondent changes it
    assert form is not None and form.page_id == "dzien"
    assert form.fields["dzien"].value in ("16.03.2026", "2026-03-16")  # the clock's day
    back = web.back(form)
    assert back.fields["nastepny"].value == "2030"  # the answer, not the default again
    form = web.next(back, {})
    assert form is not None and form.page_id == "dzien"
    web.next(form, {})  # sent as suggested
    saved = stored(app, web.token)
    assert saved is not None
    assert (saved.answers["nastepny"], saved.answers["dzien"]) == (2030, "2026-03-16")

    join_team(fieldwork_id, login_as(Role.INTERVIEWER))
    case_id = take_and_dial(client, app, fieldwork_id)
    location = client.get(f"/cati/case/{case_id}/interview").location
    screen = parse_form(client.get(location))
    sent = client.post(
        location, data={"revision": screen.revision, "action": "next", "rok": "2019"}
    )
    assert sent.status_code == 302
    following = parse_form(client.get(sent.location))
    assert following.page_id == "nastepny" and following.fields["nastepny"].value == "2020"
