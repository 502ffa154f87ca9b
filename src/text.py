"""How a question becomes a prompt and how an answer is read back. Shared by training and eval."""
from __future__ import annotations

import re

ANSWER_MARK = "So, the answer is:"
# Words, single digits, punctuation: the same split the from-scratch tokenizer uses, so exact match
# does not depend on how a tokenizer joins tokens back into text.
_PIECES = re.compile(r"[^\W\d]+|\d|[^\w\s]")


def normalize(text: str) -> str:
    return " ".join(_PIECES.findall(text))


def prompt_of(record: dict) -> str:
    context = f"{record['context']}\n\n" if record["context"] else ""
    return f"{context}Question: {record['question']}\nAnswer:"


def completion_of(record: dict) -> str:
    return " " + record["answer_cot"]


def extract_answer(generation: str) -> str | None:
    """The normalized final answer after the last 'So, the answer is:', or None if absent."""
    text = normalize(generation)
    mark = normalize(ANSWER_MARK)
    if mark not in text:
        return None
    answer = text.rsplit(mark, 1)[1].strip()
    return answer or None


def is_correct(generation: str, answer: str) -> bool:
    return extract_answer(generation) == normalize(answer)
