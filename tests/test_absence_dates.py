"""`/absence` reads the dates people type (issue 14, item 9) and says the range it understood;
a date it cannot read gets an error that says what to write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from bot.i18n.dates import DateError, parse_date_range
from tests.conftest import BASE_CONFIG, QUESTION_FR, Conversation, asking, say, signing

TODAY = date(2026, 12, 5)  # a Saturday


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("21/12", date(2026, 12, 21), date(2026, 12, 21)),
        ("21/12/2026", date(2026, 12, 21), date(2026, 12, 21)),
        ("21/12/26", date(2026, 12, 21), date(2026, 12, 21)),
        ("21.12.2026", date(2026, 12, 21), date(2026, 12, 21)),
        ("21 déc.", date(2026, 12, 21), date(2026, 12, 21)),
        ("21 DÉC", date(2026, 12, 21), date(2026, 12, 21)),
        ("21 décembre", date(2026, 12, 21), date(2026, 12, 21)),
        ("lundi 21 décembre 2026", date(2026, 12, 21), date(2026, 12, 21)),
        ("1er janvier", date(2027, 1, 1), date(2027, 1, 1)),
        ("2026-12-21 2027-01-03", date(2026, 12, 21), date(2027, 1, 3)),
        ("21/12 3/01", date(2026, 12, 21), date(2027, 1, 3)),
        ("21/12 - 03/01", date(2026, 12, 21), date(2027, 1, 3)),
        ("21/12–3/01", date(2026, 12, 21), date(2027, 1, 3)),
        ("du 21/12 au 3/01", date(2026, 12, 21), date(2027, 1, 3)),
        ("du 21 déc. au 3 janv.", date(2026, 12, 21), date(2027, 1, 3)),
        ("du 21 décembre au 3 janvier 2027", date(2026, 12, 21), date(2027, 1, 3)),
        ("21 décembre 2026 → 3 janvier", date(2026, 12, 21), date(2027, 1, 3)),
        ("du 28 au 3 janvier", date(2026, 12, 28), date(2027, 1, 3)),
        ("du 21 au 23 décembre", date(2026, 12, 21), date(2026, 12, 23)),
        ("from Dec 21 to Jan 3", date(2026, 12, 21), date(2027, 1, 3)),
        ("21 December 2026 to 3 January 2027", date(2026, 12, 21), date(2027, 1, 3)),
        ("1/12 10/12", date(2026, 12, 1), date(2026, 12, 10)),  # already started: kept
        ("4/12", date(2027, 12, 4), date(2027, 12, 4)),  # over this year: the next one
        ("29/02", date(2028, 2, 29), date(2028, 2, 29)),
    ],
)
def test_dates_as_people_type_them(typed: str, start: date, end: date) -> None:
    assert parse_date_range(typed, TODAY) == (start, end)


@pytest.mark.parametrize(
    ("typed", "kind", "text"),
    [
        ("", "empty", ""),
        ("demain", "unknown", "demain"),
        ("Noël", "unknown", "Noël"),
        ("jui 3", "unknown", "jui"),  # juin or juillet?
        ("2026", "unknown", "2026"),
        ("du 21 au 23", "unknown", "23"),
        ("32/12", "invalid", "32/12"),
        ("21/13", "invalid", "21/13"),
        ("31/02/2027", "invalid", "31/02/2027"),
        ("21/12 3/01 5/01", "too_many", "5/01"),
        ("3/01/2027 21/12/2026", "order", "3/01/2027 21/12/2026"),
    ],
)
def test_bad_dates_say_why(typed: str, kind: str, text: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_date_range(typed, TODAY)
    assert (caught.value.kind, caught.value.text) == (kind, text)


def absent(conversation: Conversation, *typed: str) -> list[str]:
    conversation.run(signing("console:bob", "Bob Martin", "2026-12-04T06:00")
                     + signing("console:alice", "Alice Durand", "2026-12-04T06:10"))
    out = conversation.run([say(f"2026-12-05T10:00:{i:02d}+01:00", "console:bob", f"/absence {t}")
                            for i, t in enumerate(typed)])
    return [line["text"] for line in out]


def test_the_mentor_is_told_the_range_understood(conversation: Conversation) -> None:
    said = absent(conversation, "du 21/12 au 3/01", "8 janv.", "")
    assert said[0].startswith("Absence enregistrée du lundi 21 décembre 2026 "
                              "au dimanche 3 janvier 2027 inclus.")
    assert said[1].startswith("Absence enregistrée le vendredi 8 janvier 2027.")
    assert said[2] == ("Vos absences à venir :\n"
                       "du lundi 21 décembre 2026 au dimanche 3 janvier 2027\n"
                       "du vendredi 8 janvier 2027 au vendredi 8 janvier 2027")
    # The range understood is the one that closes the calendar: a question sent on the
    # last day of 2026 waits for the first open day after the absence.
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-12-31T10:00"))
    assert any("lundi 4 janvier à 08:00" in line["text"] for line in out)


def test_bad_dates_get_a_clear_error_and_nothing_is_recorded(
    conversation: Conversation,
) -> None:
    said = absent(conversation, "Noël", "31/02", "3/01/2027 21/12/2026", "1/12/2026 3/12/2026",
                  "21/12/2026 21/12/2028", "21/12 3/01 5/01", "")
    assert said[0].startswith("Je ne reconnais pas de date dans « Noël ».")
    assert said[1].startswith("La date « 31/02 » n'existe pas")
    assert said[2].startswith("La fin (lundi 21 décembre 2026) tombe avant le début "
                              "(dimanche 3 janvier 2027)")
    assert said[3].startswith("La période du mardi 1 décembre 2026 au jeudi 3 décembre 2026 "
                              "est déjà passée")
    assert "dépasserait un an" in said[4]
    assert said[5].startswith("Indiquez une seule date, ou deux pour une période")
    assert said[6] == "Aucune absence à venir."


def test_an_identifying_word_is_not_echoed(conversation: Conversation) -> None:
    said = absent(conversation, "jean.dupont@acme-conseil.fr")
    assert "jean.dupont" not in said[0] and "[EMAIL]" in said[0]


def test_in_english(new_conversation: Callable[[str], Conversation]) -> None:
    conversation = new_conversation(BASE_CONFIG.replace('name: "Bob Martin"}',
                                                        'name: "Bob Martin", locale: en}'))
    said = absent(conversation, "from December 21 to January 3", "21/13")
    assert said[0].startswith("Absence recorded from Monday 21 December 2026 "
                              "to Sunday 3 January 2027")
    assert said[1].startswith("The date “21/13” does not exist")
