"""Prompt format and exact-match scoring."""
from src.text import extract_answer, is_correct, normalize, prompt_of


def test_exact_match_ignores_tokenizer_spacing_only():
    answer = "770-355-2988"
    assert is_correct("A has the phone number 770-355-2988. So, the answer is: 770-355-2988", answer)
    assert is_correct("So , the answer is : 7 7 0 - 3 5 5 - 2 9 8 8", answer)  # word-level decode
    assert not is_correct("So, the answer is: 770-355-2989", answer)
    assert not is_correct("So, the answer is: 770-355-2988 and more", answer)
    assert not is_correct("the phone is 770-355-2988", answer)  # no final-answer marker


def test_the_last_marker_wins_and_empty_answers_are_none():
    assert extract_answer("So, the answer is: A. So, the answer is: Research Analyst") == "Research Analyst"
    assert extract_answer("So, the answer is:") is None
    assert normalize("O'Neil  Smith") == "O ' Neil Smith"


def test_prompt_has_context_only_when_given():
    assert prompt_of({"context": "", "question": "Q?"}) == "Question: Q?\nAnswer:"
    assert prompt_of({"context": "A.\n\nB.", "question": "Q?"}).startswith("A.\n\nB.\n\nQuestion: Q?")
