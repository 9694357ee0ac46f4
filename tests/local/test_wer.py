"""The word error rate the local tests rely on is itself right."""

from tests.local.wer import corpus_wer, edit_distance, normalise


def test_normalise_drops_case_and_punctuation() -> None:
    assert normalise("Hello, World! It's  fine.") == ["hello", "world", "its", "fine"]


def test_edit_distance_counts_substitutions_insertions_deletions() -> None:
    assert edit_distance(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert edit_distance(["a", "b", "c"], ["a", "x", "c"]) == 1
    assert edit_distance(["a", "b", "c"], ["a", "c"]) == 1
    assert edit_distance(["a", "b"], ["a", "b", "c", "d"]) == 2
    assert edit_distance(["a", "b"], []) == 2


def test_corpus_wer_weights_by_reference_words() -> None:
    pairs = [("one two three four", "one two three four"), ("five six", "five seven")]
    assert corpus_wer(pairs) == 1 / 6
    assert corpus_wer([("the cat sat", "a dog stood")]) == 1.0
