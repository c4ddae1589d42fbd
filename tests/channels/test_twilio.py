"""The voice platform's signature scheme (against its published vectors) and TwiML documents."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from orchestrator.channels.twilio import SHA1, SHA256, Spell, TwiML, algorithm_of, signature, signature_valid

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+14158675309"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
]


def test_signature_matches_the_published_vectors() -> None:
    assert signature("12345", URL, PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert signature("12345", URL, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_signature_check_refuses_any_change() -> None:
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert signature_valid("12345", URL, PARAMS, good)
    assert not signature_valid("12345", URL, [*PARAMS[:2], ("Digits", "9999"), *PARAMS[3:]], good)
    assert not signature_valid("12345", URL + "&extra=1", PARAMS, good)
    assert not signature_valid("other", URL, PARAMS, good)
    assert not signature_valid("12345", URL, PARAMS, "")
    assert not signature_valid("12345", URL, PARAMS, "not base64 at all")


def test_signature_accepts_the_url_with_or_without_the_standard_port() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert signature_valid("12345", with_port, PARAMS, signature("12345", URL, PARAMS))
    assert signature_valid("12345", URL, PARAMS, signature("12345", with_port, PARAMS))


def test_twiml_escapes_text_and_listens_for_speech_and_keys() -> None:
    doc = TwiML(voice="Polly.Joanna").gather("Is it <this> & that?", "/voice/twilio/gather").render()
    root = ET.fromstring(doc.split("?>", 1)[1])
    gather = root.find("Gather")
    assert (
        gather is not None and gather.get("input") == "speech dtmf" and gather.get("action") == "/voice/twilio/gather"
    )
    say = gather.find("Say")
    assert say is not None and say.text == "Is it <this> & that?" and say.get("voice") == "Polly.Joanna"
    assert "&lt;this&gt; &amp; that" in doc
    assert root.find("Redirect") is not None
    assert ET.fromstring(TwiML().say("Bye").hangup().render().split("?>", 1)[1]).find("Hangup") is not None


def test_signatures_match_the_platforms_own_validator_for_both_schemes() -> None:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator("12345")
    for algorithm in (SHA1, SHA256):
        ours = signature("12345", URL, PARAMS, algorithm)
        assert ours == validator.compute_signature(URL, dict(PARAMS), algorithm)
        assert validator.validate(URL, dict(PARAMS), ours, algorithm)
        assert signature_valid(["rotated-in", "12345"], URL, PARAMS, ours, algorithm)
    assert not signature_valid("12345", URL, PARAMS, signature("12345", URL, PARAMS, SHA256), SHA1)
    assert not signature_valid("12345", URL, PARAMS, signature("12345", URL, PARAMS), "HMAC_MD5")
    assert algorithm_of("key=webhooks_sharedkey_1,algorithm=HMAC_SHA256") == SHA256
    assert algorithm_of(None) == algorithm_of("") == algorithm_of("key=abc") == SHA1


def test_spelled_parts_are_ssml_for_neural_voices_and_words_for_basic_ones() -> None:
    parts = ["Your reference is ", Spell(("RF", "B8D")), "."]
    polly = ET.fromstring(TwiML(voice="Polly.Amy").say(parts).render().split("?>", 1)[1]).find("Say")
    assert polly is not None and [e.text for e in polly.iter("say-as")] == ["RF", "B8D"]
    assert polly.find("break") is not None and "".join(polly.itertext()) == "Your reference is RFB8D."
    basic = ET.fromstring(TwiML(voice="alice").say(parts).render().split("?>", 1)[1]).find("Say")
    assert basic is not None and basic.text == "Your reference is R F, B 8 D." and not list(basic)
