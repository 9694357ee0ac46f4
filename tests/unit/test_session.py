"""The session builder: what it builds it closes, stages first, then what they share."""

from __future__ import annotations

from tests.engine.fakes import FakeSynthesizer, FakeTranscriber, make_settings
from voiceloop.providers.fallback import FallbackTranscriber
from voiceloop.session.builder import Session, section_for
from voiceloop.stages import StageRegistry


class Closing:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def aclose(self) -> None:
        self.log.append(self.name)


class ClosingTranscriber(FakeTranscriber):
    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self._closing = Closing(name, log)

    async def aclose(self) -> None:
        await self._closing.aclose()


def _registry(log: list[str]) -> StageRegistry:
    reg = StageRegistry()
    reg._loaded = True  # only what is registered here
    reg.register("cloud", lambda kind, section, ctx: ClosingTranscriber("cloud", log))
    reg.register("local", lambda kind, section, ctx: ClosingTranscriber("local", log))
    return reg


async def test_closing_the_session_closes_its_stages_once_each_then_the_pool() -> None:
    log: list[str] = []
    settings = make_settings(stt={"provider": "cloud", "fallback": True})
    session = Session(settings, stage_registry=_registry(log))
    session.context.resources["http"] = Closing("pool", log)
    wrapped, provider = session.stage("stt")
    assert provider == "cloud" and isinstance(wrapped, FallbackTranscriber)
    extra = session.create("transcriber", settings.stt, "local")
    assert isinstance(extra, ClosingTranscriber)
    await session.aclose()
    # The extra stage (created last) first; the wrapper closes its cloud and local stages.
    assert log == ["local", "cloud", "local", "pool"]
    assert session.context.resources == {}
    await session.aclose()  # closing twice closes nothing twice
    assert log == ["local", "cloud", "local", "pool"]


async def test_a_stage_closing_leaves_the_shared_pool_open() -> None:
    log: list[str] = []
    session = Session(make_settings(stt={"provider": "cloud"}), stage_registry=_registry(log))
    session.context.resources["http"] = Closing("pool", log)
    stage = session.create("transcriber", session.settings.stt)
    await stage.aclose()
    assert log == ["cloud"]  # the pool belongs to the session
    await session.aclose()
    assert log == ["cloud", "cloud", "pool"]


def test_section_for_overrides_a_copy_and_ignores_fields_the_section_lacks() -> None:
    settings = make_settings(llm={"model": "configured"})
    section = section_for(settings, "llm", model="other", extra={"system_prompt": "Be brief."})
    assert (section.model, section.system_prompt) == ("other", "Be brief.")
    assert settings.llm.model == "configured"  # the settings themselves are untouched
    assert section_for(settings, "llm") is settings.llm
    tts = section_for(settings, "tts", extra={"no_such_field": 1})
    assert tts is settings.tts


FAKES = {"transcriber": FakeTranscriber, "synthesizer": FakeSynthesizer}


def test_build_shares_the_sessions_context_with_the_stages() -> None:
    reg = StageRegistry()
    reg._loaded = True
    reg.register("fake", lambda kind, section, ctx: FAKES[kind]())
    settings = make_settings(llm={"provider": "nope"})
    session = Session(settings, stage_registry=reg)
    stages, errors = session.build("dictate")
    assert stages.context is session.context
    assert isinstance(stages.transcriber, FakeTranscriber)
    assert set(errors) == {"responder"}  # not needed to dictate: reported, not raised
    assert "unknown responder provider 'nope'" in errors["responder"].message
