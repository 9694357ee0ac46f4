"""Stages come from the registry by configured name; a third-party stage needs no code change."""

from __future__ import annotations

import pytest

from tests.engine.conftest import build
from tests.engine.fakes import (
    FakeResponder,
    FakeSynthesizer,
    FakeTranscriber,
    Say,
    Silence,
    make_settings,
)
from voiceloop.errors import ConfigError
from voiceloop.events import ReplyDone, TranscriptReady
from voiceloop.session.builder import build_stages
from voiceloop.stages import StageRegistry, registry


class AcmeTranscriber(FakeTranscriber):
    pass


@pytest.fixture
def acme():
    built: list[tuple[str, object]] = []

    def factory(kind, section, context):
        built.append((kind, section))
        if kind == "transcriber":
            return AcmeTranscriber(["from acme"])
        if kind == "responder":
            return FakeResponder("Acme says hi.")
        if kind == "synthesizer":
            return FakeSynthesizer()
        raise ConfigError(f"acme has no {kind}")

    registry.register("acme", factory)
    yield built
    registry._factories.pop("acme", None)


async def test_a_registered_third_party_stage_is_used_by_name(acme):
    settings = make_settings(
        stt={"provider": "acme"},
        translate={"provider": "acme"},
        llm={"provider": "acme"},
        tts={"provider": "acme"},
    )
    stages, errors = build_stages(settings, mode="converse")
    assert errors == {}
    assert isinstance(stages.transcriber, AcmeTranscriber)
    assert [kind for kind, _ in acme] == ["transcriber", "transcriber", "responder", "synthesizer"]
    assert acme[0][1] is settings.stt and acme[1][1] is settings.translate

    h = build([Say(6), Silence(5)], settings=settings)
    h.engine._services.stages = stages
    await h.run()
    assert h.events.of(TranscriptReady)[0].text == "from acme"
    assert h.events.of(ReplyDone)[0].text == "Acme says hi."
    assert [p.text for p in h.sink.played] == ["Acme says hi."]


def test_unknown_provider_for_a_needed_stage_raises_and_optional_ones_are_reported():
    reg = StageRegistry()
    reg._loaded = True  # no entry points: an empty world
    reg.register("stt-only", lambda kind, section, ctx: FakeTranscriber())
    settings = make_settings(
        stt={"provider": "stt-only"},
        translate={"provider": "stt-only"},
        llm={"provider": "nope"},
        tts={"provider": "nope"},
    )
    stages, errors = build_stages(settings, mode="dictate", stage_registry=reg)
    assert stages.transcriber is not None and stages.responder is None
    assert set(errors) == {"responder", "synthesizer"}
    assert "unknown responder provider 'nope'" in errors["responder"].message
    with pytest.raises(ConfigError, match="unknown responder provider"):
        build_stages(settings, mode="converse", stage_registry=reg)


def test_fallback_wraps_cloud_stages_with_the_local_provider():
    reg = StageRegistry()
    reg._loaded = True
    cloud, local = FakeTranscriber(["cloud"]), FakeTranscriber(["local"])
    reg.register("cloud", lambda kind, section, ctx: cloud)
    reg.register("local", lambda kind, section, ctx: local)
    wrapped: list[tuple[object, object]] = []

    def wrap(primary, fallback):
        wrapped.append((primary, fallback))
        return ("wrapped", primary, fallback)

    settings = make_settings(
        stt={"provider": "cloud", "fallback": True},
        translate={"provider": "cloud"},  # [translate] has no fallback
        llm={"provider": "cloud"},
        tts={"provider": "local", "fallback": True},
    )
    stages, _ = build_stages(
        settings, stage_registry=reg, fallback_wrappers={"transcriber": wrap, "synthesizer": wrap}
    )
    assert stages.transcriber == ("wrapped", cloud, local)
    assert stages.translator is cloud  # fallback off for this section
    assert stages.synthesizer is local  # already local: nothing to fall back to
    assert wrapped == [(cloud, local)]


async def test_cloud_failure_falls_back_locally_and_the_turn_says_so():
    from voiceloop.errors import ServerError
    from voiceloop.events import FallbackUsed, TurnFinished

    reg = StageRegistry()
    reg._loaded = True
    cloud = FakeTranscriber(fail={0: ServerError("503 from the cloud", status=503)})
    local = FakeTranscriber(["heard locally"])
    reg.register("cloud", lambda kind, section, ctx: cloud)
    reg.register("local", lambda kind, section, ctx: local)
    settings = make_settings(stt={"provider": "cloud", "fallback": True})
    stages, _ = build_stages(settings, stage_registry=reg)

    h = build([Say(6), Silence(5)], settings=settings)
    h.engine._services.stages.transcriber = stages.transcriber
    await h.run()
    (used,) = h.events.of(FallbackUsed)
    assert used.stage == "transcriber" and used.provider == "local"
    assert "503 from the cloud" in used.reason
    assert h.events.of(TranscriptReady)[0].local is True
    assert h.events.of(TranscriptReady)[0].text == "heard locally"
    assert h.events.of(TurnFinished)[0].status == "answered"
    row = h.recorder.turns[used.turn_id]
    assert row["local"] is True
