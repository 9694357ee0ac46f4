"""Which transcripts look unfinished."""

from __future__ import annotations

import pytest

from voiceloop.text.unfinished import looks_unfinished


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I'd like to book a table for", "en"),
        ("I'd like to book a table for…", "en"),
        ("Remind me to call my mother and", "english"),
        ("So I was thinking, um.", "en"),
        ("What is the capital of", "en"),
        ("The capital of France is the", "en"),
        ("Ich möchte einen Tisch für", "de"),
        ("Je voudrais réserver une table pour", "fr"),
        ("Well, the thing is,", "ja"),
    ],
)
def test_unfinished(text: str, language: str) -> None:
    assert looks_unfinished(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What is the weather like in Paris today?", "en"),
        ("Tell me a joke.", "en"),
        ("Book a table for two.", "en"),
        ("What time is it", "en"),
        ("Where are you from?", "en"),
        ("What would you like", "en"),
        ("Wie spät ist es?", "de"),
        ("", "en"),
        ("今日は", "ja"),
    ],
)
def test_finished(text: str, language: str) -> None:
    assert not looks_unfinished(text, language)
