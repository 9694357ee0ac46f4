"""Which key reaches which server: two loopback servers record the headers they receive.

``groq`` (127.0.0.1) plays Groq's API (``GROQ_BASE_URL`` points at it and it accepts
``GROQ_API_KEY`` only); ``other`` (127.0.0.2) is any other OpenAI-compatible server that
takes whatever it is sent. Every command and the engine's three modes run against every
combination of environment keys, stage keys and servers (:func:`rules` says what each
must do), and each server's ``Authorization`` headers are compared with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.fakegroq.server import FakeGroq
from tests.fakegroq.sounds import tone_track, voice_bursts, write
from voiceloop.cli import main

GROQ_KEY = "gsk_test_fake_key"
OPENAI_KEY = "sk-openai-routing-key"
OWN_KEY = "own-stage-routing-key"
STAGES = ("STT", "TRANSLATE", "LLM", "TTS")


@pytest.fixture(scope="module")
def other() -> Iterator[FakeGroq]:
    server = FakeGroq(host="127.0.0.2", api_key=None).start()
    yield server
    server.stop()


ENV_KEYS = {
    "no env key": {"GROQ_API_KEY": ""},
    "groq key": {},
    "openai key": {"GROQ_API_KEY": "", "OPENAI_API_KEY": OPENAI_KEY},
    "both keys": {"OPENAI_API_KEY": OPENAI_KEY},
}
STAGE_KEYS = {
    "no stage key": {},
    "own key": {"API_KEY": OWN_KEY},
    "auth none": {"AUTH": "none"},
    "own key, auth none": {"API_KEY": OWN_KEY, "AUTH": "none"},
}
SERVERS = {
    "groq's server": ({}, {}),
    "other server": ({}, {"BASE_URL": "{OTHER}"}),
    "GROQ_BASE_URL moved": ({"GROQ_BASE_URL": "{OTHER_ROOT}"}, {}),
    "openai provider": ({"OPENAI_BASE_URL": "{OTHER}"}, {"PROVIDER": "openai"}),
}


@dataclass
class Case:
    """Environment for every stage, and what the rules say must happen."""

    name: str
    env: dict[str, str] = field(default_factory=dict)
    stage: dict[str, str] = field(default_factory=dict)
    """Per-stage fields, ``{OTHER}`` replaced by the other server's API root."""
    served_by: str = "groq"
    header: str | None = None
    """The ``Authorization`` header the serving server sees (None: no such header)."""
    refused: bool = False
    """A key is needed and none is configured: nothing is sent."""

    @property
    def accepted(self) -> bool:
        """The serving server answers (Groq's takes only the Groq key; the other, any)."""
        return self.served_by == "other" or self.header == f"Bearer {GROQ_KEY}"


def rules(env_name: str, stage_name: str, server_name: str) -> Case:
    """The issue's rules: ``auth = "none"`` sends nothing; a stage's own key goes to its
    server; ``GROQ_API_KEY`` to Groq's origin (or ``GROQ_BASE_URL``'s); ``OPENAI_API_KEY``
    to OpenAI's (``OPENAI_BASE_URL``'s) with ``provider = "openai"``; nothing elsewhere."""
    env = dict(ENV_KEYS[env_name])
    server_env, server_stage = SERVERS[server_name]
    env |= server_env
    stage = dict(STAGE_KEYS[stage_name]) | server_stage
    served_by = "groq" if server_name == "groq's server" else "other"
    has_groq = env.get("GROQ_API_KEY") != ""
    has_openai = bool(env.get("OPENAI_API_KEY"))
    case = Case(f"{env_name} / {stage_name} / {server_name}", env, stage, served_by)
    if "AUTH" in stage:
        case.header = None
    elif "API_KEY" in stage:
        case.header = f"Bearer {OWN_KEY}"
    elif server_name in ("groq's server", "GROQ_BASE_URL moved"):
        case.header, case.refused = f"Bearer {GROQ_KEY}", not has_groq
    elif server_name == "openai provider":
        case.header, case.refused = f"Bearer {OPENAI_KEY}", not has_openai
    return case


CASES = [rules(e, k, u) for e in ENV_KEYS for k in STAGE_KEYS for u in SERVERS]


@pytest.fixture
def servers(groq_env: FakeGroq, other: FakeGroq, monkeypatch, tmp_path):
    other.reset()
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
    monkeypatch.setenv("VOICELOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    for stage in ("STT", "TTS"):
        monkeypatch.setenv(f"VOICELOOP_{stage}__FALLBACK", "false")
    yield groq_env, other
    other.reset()


def apply(case: Case, other: FakeGroq, monkeypatch) -> None:
    def fill(value: str) -> str:
        return value.replace("{OTHER}", other.base_url).replace("{OTHER_ROOT}", other.root_url)

    for name, value in case.env.items():
        monkeypatch.setenv(name, fill(value))
    for stage in STAGES:
        for name, value in case.stage.items():
            monkeypatch.setenv(f"VOICELOOP_{stage}__{name}", fill(value))
    if case.stage.get("PROVIDER") == "openai":
        # OpenAI has no such models; the servers here accept Groq's ids.
        monkeypatch.setenv("VOICELOOP_TRANSLATE__MODEL", "whisper-large-v3")


def seen(server: FakeGroq) -> set[str | None]:
    return {r.headers.get("authorization") for r in server.requests}


def commands(tmp_path) -> dict[str, list[str]]:
    tones = write(tmp_path / "tones.wav", tone_track([(0.5, 1.0, 440)], 2.0))
    speech = voice_bursts(tmp_path / "speech.wav", 1)
    return {
        "transcribe": ["transcribe", str(tones)],
        "translate": ["translate", str(tones)],
        "say": ["say", "Hello there.", "-o", str(tmp_path / "say.wav")],
        "ask": ["ask", "What is up?"],
        "models": ["models"],
        "models stt": ["models", "--stage", "stt"],
        "dictate (engine)": ["dictate", "--headless", "--input", str(speech)],
        "translate (engine)": ["translate", "--headless", "--input", str(speech)],
        "converse (engine)": [
            "converse",
            "--headless",
            "--input",
            str(speech),
            "--output",
            str(tmp_path / "reply.wav"),
        ],
    }


COMMANDS = [
    "transcribe", "translate", "say", "ask", "models", "models stt",
    "dictate (engine)", "translate (engine)", "converse (engine)",
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_server_sees_only_its_own_key(servers, case, command, monkeypatch, tmp_path, capsys):
    groq, other = servers
    apply(case, other, monkeypatch)
    code = main(commands(tmp_path)[command])
    _, err = capsys.readouterr()
    for secret in (GROQ_KEY, OPENAI_KEY, OWN_KEY):
        assert secret not in err
    if case.refused:  # an error naming the key, or the local engines (no key: no cloud)
        assert groq.requests == [] and other.requests == []
        assert code == 0 or len(err.strip().splitlines()) == 1, err
        return
    serving, idle = (groq, other) if case.served_by == "groq" else (other, groq)
    assert serving.requests, f"nothing reached the {case.served_by} server: {err}"
    assert idle.requests == []
    assert seen(serving) == {case.header}
    if case.accepted:
        assert code == 0, err


def test_engine_stages_split_across_servers(servers, monkeypatch, tmp_path, capsys):
    # Speech to text on Groq, chat and speech on the other server: one turn, two origins.
    groq, other = servers
    monkeypatch.setenv("VOICELOOP_LLM__BASE_URL", other.base_url)
    monkeypatch.setenv("VOICELOOP_TTS__BASE_URL", other.base_url)
    monkeypatch.setenv("VOICELOOP_TTS__API_KEY", OWN_KEY)
    code = main(commands(tmp_path)["converse (engine)"])
    assert code == 0, capsys.readouterr().err
    assert {r.route for r in groq.requests} == {"transcriptions"}
    assert seen(groq) == {f"Bearer {GROQ_KEY}"}
    by_route = {r.route: r.headers.get("authorization") for r in other.requests}
    assert by_route == {"chat": None, "speech": f"Bearer {OWN_KEY}"}


def test_groq_without_its_key_says_which_key(servers, monkeypatch, capsys):
    groq, other = servers
    monkeypatch.setenv("GROQ_API_KEY", "")
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    assert main(["ask", "hi"]) == 2
    err = capsys.readouterr().err
    assert "GROQ_API_KEY" in err and len(err.strip().splitlines()) == 1
    assert groq.requests == [] and other.requests == []


def test_tui_model_list_follows_the_same_rules(servers, monkeypatch):
    from voiceloop.config import load_settings
    from voiceloop.tui.wiring import deps_from_settings, model_lister

    groq, other = servers
    monkeypatch.setenv("VOICELOOP_LLM__BASE_URL", other.base_url)
    settings = load_settings()
    assert deps_from_settings(settings).has_key  # a key-less server is a chat backend
    ids = asyncio.run(model_lister(settings)())
    assert "openai/gpt-oss-20b" in ids
    assert groq.requests == [] and seen(other) == {None}


@pytest.mark.parametrize("command", COMMANDS)
def test_key_to_a_remote_plain_http_server_is_refused_before_recording(
    servers, monkeypatch, tmp_path, capsys, command
):
    groq, other = servers
    for stage in STAGES:
        monkeypatch.setenv(f"VOICELOOP_{stage}__BASE_URL", "http://192.0.2.10:8000/v1")
        monkeypatch.setenv(f"VOICELOOP_{stage}__API_KEY", OWN_KEY)
    code = main(commands(tmp_path)[command])
    err = capsys.readouterr().err
    assert code == 2 and "plain HTTP" in err and "192.0.2.10" in err
    assert len(err.strip().splitlines()) == 1 and OWN_KEY not in err
    assert groq.requests == [] and other.requests == []


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.accepted and not c.refused], ids=lambda c: c.name
)
def test_retry_follows_the_same_rules(servers, case, monkeypatch, tmp_path, capsys):
    # A dictation kept but failed on Groq, retried after the stage moved (or not).
    from tests.fakegroq import Fault

    groq, other = servers
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "0")
    groq.set_fault("transcriptions", Fault.http(500))
    speech = voice_bursts(tmp_path / "speech.wav", 1)
    assert main(["dictate", "--headless", "--input", str(speech)]) == 1
    groq.reset()
    capsys.readouterr()
    apply(case, other, monkeypatch)
    assert main(["retry", "--all-failed"]) == 0, capsys.readouterr().err
    serving, idle = (groq, other) if case.served_by == "groq" else (other, groq)
    assert [r.route for r in serving.requests] == ["transcriptions"]
    assert idle.requests == []
    assert seen(serving) == {case.header}


def test_gateway_gets_only_its_own_token(servers, monkeypatch):
    from voiceloop.config import load_settings
    from voiceloop.stages import StageContext, registry

    _, other = servers
    monkeypatch.setenv("VOICELOOP_LLM__PROVIDER", "gateway")
    monkeypatch.setenv("VOICELOOP_LLM__BASE_URL", other.root_url)
    settings = load_settings()
    stage = registry.create("responder", "gateway", settings.llm, StageContext(settings=settings))
    assert stage.client.token is None  # the Groq key stays with Groq
    monkeypatch.setenv("VOICELOOP_LLM__API_KEY", OWN_KEY)
    settings = load_settings()
    stage = registry.create("responder", "gateway", settings.llm, StageContext(settings=settings))
    assert stage.client.token.get_secret_value() == OWN_KEY
