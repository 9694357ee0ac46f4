"""What a transcript of speech over a reply says: a backchannel ("mm-hmm", "yeah"), the
reply's own echo as a transcriber hears it, or a request (anything else).

The interruption guard (:mod:`voiceloop.engine.interruptions`) decides with these whether
speech over a reply cuts it or lets it resume.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from voiceloop.text.hallucination import is_known_hallucination

BACKCHANNELS = frozenset(
    {"mm", "mmm", "hmm", "hm", "mhm", "mm-hmm", "mm-mm", "uh-huh", "uh", "huh", "um", "ah"}
    | {"oh", "yeah", "yep", "yes", "ok", "okay", "right", "sure", "aha"}
    # Discourse markers that Whisper puts before a hum ("And mm-hmm."): no request alone.
    | {"and", "so", "well", "but"}
)


BACKCHANNEL_HINT = "Mm-hmm."
"""The prompt of a transcription of speech over a reply: Whisper spells a hum "Mm-hmm"
with it, and makes words of it without ("and momentum"); real words come out as before.
(A longer list of backchannels leaks into transcripts of real words.)"""

ECHO_OVERLAP = 0.7
"""Share of an utterance's words that, in order, are words of the recent reply: above it,
the utterance is the reply's echo."""


def words(text: str) -> list[str]:
    """The words of ``text``, lower case, without punctuation."""
    return re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*", text.lower())


def is_backchannel(text: str) -> bool:
    """True for text with no words, only acknowledgements ("Mm-hmm.", "yeah, okay"), or
    what Whisper invents for a noise ("Thank you.": over a reply, a thank-you is no
    request either)."""
    return all(word in BACKCHANNELS for word in words(text)) or is_known_hallucination(text)


def is_echo(text: str, spoken: Sequence[str]) -> bool:
    """True when ``text`` is (mostly) the words of ``spoken`` in their order: what a
    transcriber makes of the assistant's own voice. Measured as the longest common word
    subsequence over the utterance's word count; one- and two-word utterances must match
    whole (a user's "rivers?" over a reply about rivers has no other words to tell)."""
    heard = words(text)
    said = [w for piece in spoken for w in words(piece)]
    if not heard or not said:
        return False
    previous = [0] * (len(said) + 1)
    for word in heard:
        row = [0]
        for j, other in enumerate(said):
            row.append(previous[j] + 1 if word == other else max(previous[j + 1], row[j]))
        previous = row
    common = previous[-1]
    return common == len(heard) if len(heard) <= 2 else common >= ECHO_OVERLAP * len(heard)
