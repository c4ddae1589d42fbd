"""Telling the languages customers write in apart, cheaply."""

from __future__ import annotations

import pytest

from shared.language import detect


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("me cobraron dos veces en la tarjeta", "es"),
        ("hola, necesito ayuda con mi factura", "es"),
        ("Meine Rechnung ist diesen Monat viel zu hoch", "de"),
        ("je n'arrive pas à payer ma facture", "fr"),
        ("il mio telefono non ha campo", "it"),
        ("a minha fatura veio errada este mês", "pt"),
        ("nie mogę się zalogować do konta", "pl"),
        ("my bill is too high this month", "en"),
        ("why did my plan change", "en"),
        ("come posso pagare la bolletta", "it"),
        ("due volte addebitato sulla carta", "it"),
    ],
)
def test_common_languages_are_told_apart(text: str, language: str) -> None:
    assert detect(text) == language


@pytest.mark.parametrize("text", ["", "12345", "!!!"])
def test_nothing_to_go_on_is_unknown(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize("text", ["refund hasnt come through yet", "my bill is due as usual"])
def test_an_english_word_that_is_also_foreign_does_not_make_a_message_foreign(text: str) -> None:
    assert detect(text) in (None, "en")
