"""The backchannel hint on a real Whisper (the bundled tiny.en): speech over a reply is
transcribed with ``Utterance.hint``, so that a hum is spelled "Mm-hmm" (a backchannel, the
reply resumes) rather than made into words, while real words come out as they are."""

from __future__ import annotations

import dataclasses

import pytest

from tests.local.speech import espeak_audio, utterance_from
from voiceloop.engine.overheard import BACKCHANNEL_HINT, is_backchannel
from voiceloop.providers.local import LocalTranscriber

pytestmark = pytest.mark.slow


async def test_a_hum_over_the_reply_is_a_backchannel_only_with_the_hint(
    transcriber: LocalTranscriber, tmp_path
) -> None:
    hum = utterance_from(*espeak_audio("Mm-hmm.", tmp_path / "hum.wav"))
    plain = (await transcriber.transcribe(hum)).text
    hinted = (await transcriber.transcribe(dataclasses.replace(hum, hint=BACKCHANNEL_HINT))).text
    print(f"without the hint {plain!r}, with it {hinted!r}")
    assert not is_backchannel(plain), f"tiny.en now hears espeak's hum as {plain!r}"
    assert is_backchannel(hinted), hinted


@pytest.mark.parametrize("text", ["Stop. Tell me about mountains.", "Yes, go on.", "Wait."])
async def test_words_over_the_reply_come_out_as_said_with_the_hint(
    transcriber: LocalTranscriber, tmp_path, text: str
) -> None:
    words = utterance_from(*espeak_audio(text, tmp_path / "words.wav"))
    hinted = await transcriber.transcribe(dataclasses.replace(words, hint=BACKCHANNEL_HINT))
    assert hinted.text.strip().lower().rstrip(".") == text.lower().rstrip(".")
