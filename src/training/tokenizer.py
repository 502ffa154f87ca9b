"""Entry point: the tokenizer of a preset.

From scratch: a word-level tokenizer (tokenizers library) whose vocabulary is every word, digit and
punctuation mark of the generated world, so a name is one token and nothing is out of vocabulary.
With `model.pretrained`: the checkpoint's own tokenizer, copied so later stages read one place.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from ..io import atomic_dir
from ..params import stages

log = logging.getLogger(__name__)
SPECIALS = {"pad_token": "<pad>", "unk_token": "<unk>", "bos_token": "<bos>", "eos_token": "<eos>"}


def world_texts(data_dir: Path):
    """Every text of the study's world, and of the generic language stage's world when there is one."""
    for folder in (data_dir, data_dir / "generic"):
        if not folder.exists():
            continue
        with open(folder / "biographies.jsonl") as f:
            for line in f:
                yield json.loads(line)["text"]
        for task in ("mem", "ctx", "comp"):
            with open(folder / f"qa_{task}.jsonl") as f:
                for line in f:
                    r = json.loads(line)
                    yield f"{r['context']} Question: {r['question']} Answer: {r['answer_cot']}"


def build_word_tokenizer(data_dir: Path) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.WordLevel(unk_token=SPECIALS["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)])
    tok.decoder = decoders.WordPiece()  # joins word tokens with spaces
    trainer = trainers.WordLevelTrainer(special_tokens=list(SPECIALS.values()), min_frequency=1)
    tok.train_from_iterator(world_texts(data_dir), trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIALS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    s = stages.load("build_tokenizer", args.params, args.preset)
    if s.pretrained:
        tokenizer = AutoTokenizer.from_pretrained(s.pretrained)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    else:
        tokenizer = build_word_tokenizer(args.data)
    with atomic_dir(args.out) as tmp:
        tokenizer.save_pretrained(tmp)
    log.info("tokenizer: %d tokens -> %s", len(tokenizer), args.out)


if __name__ == "__main__":
    main()
