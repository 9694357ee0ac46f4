"""Conversation context: system prompt + history, trimmed oldest first."""

from __future__ import annotations

from voiceloop.engine.context import INTERRUPTED_MARK, Conversation


def roles(messages):
    return [(m.role, m.content) for m in messages]


def test_empty_history_is_system_and_user():
    conv = Conversation("sys", 1000)
    assert roles(conv.messages("hi")) == [("system", "sys"), ("user", "hi")]


def test_oldest_exchanges_are_dropped_first_to_fit_the_budget():
    conv = Conversation("S" * 10, budget_chars=10 + 5 + 2 * 20)
    for i in range(5):
        conv.add(f"q{i}" + "x" * 8, f"a{i}" + "y" * 8)  # 20 chars per exchange
    messages = conv.messages("new q")
    assert roles(messages)[0] == ("system", "S" * 10)
    assert [m.content[:2] for m in messages[1:-1]] == ["q3", "a3", "q4", "a4"]
    assert messages[-1].content == "new q"
    assert sum(len(m.content) for m in messages) <= conv.budget_chars


def test_system_prompt_and_new_question_survive_even_over_budget():
    conv = Conversation("system prompt", budget_chars=5)
    conv.add("old", "answer")
    assert roles(conv.messages("a long new question")) == [
        ("system", "system prompt"),
        ("user", "a long new question"),
    ]


def test_interrupted_answers_are_marked():
    conv = Conversation("", 1000)
    conv.add("tell me", "Once upon", interrupted=True)
    conv.add("again", "", interrupted=True)
    assert roles(conv.messages("go")) == [
        ("user", "tell me"),
        ("assistant", f"Once upon {INTERRUPTED_MARK}"),
        ("user", "again"),
        ("assistant", INTERRUPTED_MARK),
        ("user", "go"),
    ]


def test_history_storage_is_bounded():
    conv = Conversation("", budget_chars=100)
    for i in range(100):
        conv.add(f"question {i}", f"answer {i}")
    assert len(conv.history) < 10
    assert conv.history[-1].user == "question 99"
