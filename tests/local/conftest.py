"""Local-engine fixtures: the models load once per test session."""

from __future__ import annotations

import asyncio

import pytest

from tests.local.speech import SENTENCES, espeak_audio, utterance_from
from voiceloop.frames import Utterance
from voiceloop.providers.local import LocalSynthesizer, LocalTranscriber


@pytest.fixture(scope="session")
def transcriber() -> LocalTranscriber:
    """The default local transcriber (embedded tiny.en), loaded once for the session."""
    stage = LocalTranscriber()
    asyncio.run(stage.warm())
    return stage


@pytest.fixture(scope="session")
def synthesizer() -> LocalSynthesizer:
    """The default local synthesizer (embedded joe voice), loaded once for the session."""
    stage = LocalSynthesizer()
    asyncio.run(stage.warm())
    return stage


@pytest.fixture(scope="session")
def espeak_utterances(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Utterance]]:
    folder = tmp_path_factory.mktemp("espeak")
    result = []
    for i, text in enumerate(SENTENCES):
        audio, rate = espeak_audio(text, folder / f"{i}.wav")
        result.append((text, utterance_from(audio, rate)))
    return result
