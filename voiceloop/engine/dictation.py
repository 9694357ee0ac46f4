"""The dictation buffer and where dictated text goes (file, clipboard)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from voiceloop.errors import VoiceloopError

log = logging.getLogger(__name__)

CLEANUP_PROMPT = (
    "You clean up dictated text. Fix punctuation and capitalisation and remove filler "
    "words (um, uh, er, you know, like) and false starts. Keep the speaker's words and "
    "meaning otherwise unchanged; do not answer, summarise or add anything. Reply with "
    "the cleaned text only."
)


class DictationBuffer:
    """Dictated text accumulated over a session; each piece joined with a space."""

    def __init__(self) -> None:
        self._text = ""

    @property
    def text(self) -> str:
        return self._text

    def append(self, piece: str) -> str:
        """Add ``piece`` (stripped) and return the whole buffer."""
        piece = piece.strip()
        if piece:
            self._text = f"{self._text} {piece}" if self._text else piece
        return self._text

    def set_text(self, text: str) -> None:
        """Replace the buffer (e.g. after the user edited it)."""
        self._text = text

    def clear(self) -> None:
        self._text = ""


class DictationOutputs:
    """Side outputs of dictation: append each piece to a file, copy the buffer.

    Failures here never lose the text (it stays in the buffer); they are reported as
    :class:`VoiceloopError` for the engine to show as a notice.
    """

    def __init__(
        self,
        output_file: Path | None = None,
        clipboard: Callable[[str], object] | None = None,
    ) -> None:
        self.output_file = output_file
        self.clipboard = clipboard

    def deliver(self, piece: str, buffer: str) -> None:
        if self.output_file is not None:
            try:
                self.output_file.parent.mkdir(parents=True, exist_ok=True)
                with self.output_file.open("a", encoding="utf-8") as fh:
                    fh.write(piece.strip() + "\n")
            except OSError as exc:
                raise VoiceloopError(
                    f"cannot append to {self.output_file}: {exc.strerror or exc}",
                    hint="check [dictate] output_file; the text is still in the buffer",
                    title="Dictation file",
                ) from exc
        if self.clipboard is not None:
            self.clipboard(buffer)
