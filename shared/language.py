"""Which language a customer wrote in, cheaply: common words and letters, no model.

Good enough to tell English from the languages customers of a European operator write in most
(Spanish, German, French, Italian, Portuguese, Polish, Dutch) on a message of a few words. It
answers None (unknown) rather than guess: an unknown message is routed as English.
"""

from __future__ import annotations

import re

ENGLISH = "en"


def _vocab(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that are common in one language and rare in the others (and in English). English lists the
# English words other lists hold too ("come", "due", "as"), so that one of them alone does not make
# an English message foreign ("refund hasnt come through yet" read as Italian).
_WORDS: dict[str, frozenset[str]] = {
    "en": _vocab(
        "the my i is it you your to and of a have has was not can me what why how please with for on this "
        "that do did no yes want need bill phone come due as"
    ),
    "es": _vocab(
        "el la los las mi mis que por porqué por qué es no me han quiero tengo cómo como dónde donde está "
        "una un con para factura hola gracias buenas tardes días cobrado dos veces dinero teléfono tarifa "
        "llegado código hablar persona cancelar contrato cobertura casa funciona necesito más datos"
    ),
    "de": _vocab(
        "ich mein meine meinen mir mich ist nicht das die der den und zu zweimal warum wann wie was bitte "
        "möchte habe hat keinen kein einen einem mit sie ihnen guten tag hallo danke rechnung handy geld "
        "zurück vertrag kündigen funktioniert tarif brauche mehr erklären bekomme"
    ),
    "fr": _vocab(
        "je j ai mon ma mes est pas le la les de des du un une pour pourquoi où quoi que qui avec vous "
        "bonjour merci beaucoup facture deux fois voudrais veux rembourse remboursé réseau chez moi "
        "marche appels dossier parler conseiller résilier abonnement forfait reçu"
    ),
    "it": _vocab(
        "mi il la lo le gli non è ho sono voglio perché come dove quando della del delle mio mia avete "
        "ciao grazie mille bolletta fattura volte due campo casa funziona parlare operatore disdire "
        "contratto offerta rimborso arriva arrivato codice novità segnalazione cambiare"
    ),
    "pt": _vocab(
        "eu o a os as meu minha não é estou fui vocês voce você porque porquê está tão quero preciso "
        "olá ola obrigado obrigada fatura conta duas vezes reembolso rede casa dados funcionam chamadas "
        "caem sempre recebi recebido código falar atendente cancelar tarifário mais"
    ),
    "pl": _vocab(
        "nie mam mój moja moje mnie jest się czy dlaczego kiedy jak chcę chce dwa razy zwrot pieniędzy "
        "rachunek faktury fakturę taryfę zasięgu domu działa karta dostałem dostałam kodu rozmawiać "
        "konsultantem umowę dzień dobry dziękuję płatność zgłoszenia więcej danych"
    ),
    "nl": _vocab(
        "ik ben mijn het een niet is waarom wat hoe twee keer rekening zo hoog geen bereik thuis "
        "wil met praten medewerker hallo bedankt dank graag"
    ),
}
# Letters that only some of these languages use.
_LETTERS: dict[str, str] = {"es": "ñ¿¡", "de": "ßäöü", "fr": "çèêœ", "pt": "ãõ", "pl": "ąęłśżźćń", "it": "ì"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

SERVED = (ENGLISH,)
NAMES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
    "pl": "Polish",
    "nl": "Dutch",
}


def detect(text: str) -> str | None:
    """The language code of ``text``, or None when it is too short or mixed to tell."""
    lowered = text.lower()
    words = _WORD.findall(lowered.replace("'", " ").replace("\u2019", " "))
    if not words:
        return None
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _WORDS.items()}
    for lang, letters in _LETTERS.items():
        if any(ch in letters for ch in lowered):
            scores[lang] += 2
    best = max(scores, key=lambda lang: scores[lang])
    if scores[best] == 0:
        return None
    runner = max(v for lang, v in scores.items() if lang != best)
    if best != ENGLISH and scores[best] <= scores[ENGLISH]:
        return ENGLISH
    return best if scores[best] > runner else None
