"""Entry point: greedy decoding on every test question of every task; exact match of the final answer.

Writes predictions.jsonl (one line per question: id, task, level, generation, prediction, correct)
and metrics.json ({task: {level: {accuracy, n}}}), plus a knowledge probe (task "facts", level
"recall"): how many injected facts the model still completes correctly.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from tqdm import tqdm

from ..data.lengths import require_budget
from ..data.questions import LEVELS
from ..data.relations import BY_NAME, PARAMETRIC
from ..decode import decode
from ..io import atomic_write_text, read_jsonl
from ..job import device, setup
from ..model_io import load_model, load_tokenizer
from ..models import Model
from ..params import stages
from ..text import extract_answer, normalize, prompt_of
from ..training.finite import require_finite

log = logging.getLogger(__name__)


def generate(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int,
             desc: str = "generate", temperature: float | None = None) -> list[str]:
    """Batches of `batch_size` prompts through `decode` (KV cache, finished rows leave the batch).

    Greedy by default; sampled at `temperature` when one is given (pass@k)."""
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: len(ids[i]))  # similar lengths pad less
    out: list[str] = [""] * len(prompts)
    for start in tqdm(range(0, len(order), batch_size), desc=desc, mininterval=5):
        idx = order[start:start + batch_size]
        new = decode(model, [ids[i] for i in idx], max_new_tokens, tokenizer.eos_token_id,
                     tokenizer.pad_token_id, temperature)
        for i, text in zip(idx, tokenizer.batch_decode(new, skip_special_tokens=True)):
            out[i] = text
    return out


def fact_recall(model, tokenizer, data: Path, batch_size: int) -> tuple[list[dict], dict]:
    """Knowledge probe: complete the canonical sentence of every injected parametric fact.

    The prompt is the sentence up to its object ("Amina Khan's boss is"); correct when the greedy
    continuation starts with the object. It tells whether Mem failures are failures of recall.
    """
    injected = {r["person"] for r in read_jsonl(data / "biographies.jsonl")}
    facts = [f for f in read_jsonl(data / "facts.jsonl") if f["group"] == PARAMETRIC and f["subject"] in injected]
    prompts = [BY_NAME[f["relation"]].templates[0].split("{o}")[0].format(s=f["subject"]).rstrip() for f in facts]
    # the check reads only the object's tokens, so decoding stops there (a margin for BPE tokenizers,
    # which may split an object differently in context): the same verdicts as 24 new tokens, fewer steps
    longest = max((len(tokenizer(" " + f["object"], add_special_tokens=False)["input_ids"]) for f in facts), default=0)
    gens = generate(model, tokenizer, prompts, batch_size, min(24, longest + 2), desc="facts")
    rows = []
    for f, g in zip(facts, gens):
        ok = (normalize(g) + " ").startswith(normalize(f["object"]) + " ")
        rows.append({"id": f"fact-{f['subject']}-{f['relation']}", "task": "facts", "level": "recall",
                     "generation": g, "prediction": None, "correct": ok})
    return rows, {"recall": {"accuracy": sum(r["correct"] for r in rows) / max(1, len(rows)), "n": len(rows)}}


def evaluate(model, tokenizer, data: Path, batch_size: int, max_new_tokens: int):
    predictions, metrics = [], {}
    for task in ("mem", "ctx", "comp"):
        rows = [r for r in read_jsonl(data / f"qa_{task}.jsonl") if r["split"] in LEVELS]
        if not rows:  # a cut or foreign file would otherwise score 0 at every level, exit 0
            raise SystemExit(f"{data / f'qa_{task}.jsonl'}: no test questions; the file is damaged or not this "
                             "preset's: delete the data folder and rerun generate_data")
        gens = generate(model, tokenizer, [prompt_of(r) for r in rows], batch_size, max_new_tokens, task)
        for r, g in zip(rows, gens):
            pred = extract_answer(g)
            predictions.append({"id": r["id"], "task": task, "level": r["split"], "generation": g,
                                "prediction": pred, "correct": pred == normalize(r["answer"])})
        metrics[task] = {}
        for level in LEVELS:
            hits = [p["correct"] for p in predictions if p["task"] == task and p["level"] == level]
            metrics[task][level] = {"accuracy": sum(hits) / len(hits) if hits else 0.0, "n": len(hits)}
        log.info("%s: %s", task, {lv: round(m["accuracy"], 3) for lv, m in metrics[task].items()})
    if not any(p["generation"].strip() for p in predictions):
        raise SystemExit(f"{model.name_or_path}: the model answered nothing to any of {len(predictions)} questions "
                         "(every generation empty): its weights are likely damaged; rerun the stage that trained it")
    probe, metrics["facts"] = fact_recall(model, tokenizer, data, batch_size)
    log.info("fact recall: %.3f of %d", metrics["facts"]["recall"]["accuracy"], len(probe))
    return predictions + probe, metrics


def model_args(description: str) -> argparse.ArgumentParser:
    """Arguments of an entry point that runs a trained model on the preset's data."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--model", required=True, type=Path)
    return ap


def start(args, rule: str):
    """setup (GPU claim, seeds), then the rule's settings (src/params/stages.py) and the model on its device,
    in eval mode."""
    setup(0)
    settings, model = stages.load(rule, args.params, args.preset), load_model(args.model)
    require_finite(model, args.model)
    return settings, model.to(device()).eval()


def main() -> None:
    ap = model_args(__doc__)
    ap.add_argument("--slug", required=True, help="the model's stage chain, e.g. sft-mem+ctx__grpo-comp, or inject")
    ap.add_argument("--seed", type=int, default=None, help="its training seed (none for the base)")
    ap.add_argument("--predictions", required=True, type=Path)
    ap.add_argument("--metrics", required=True, type=Path)
    args = ap.parse_args()
    s, model = start(args, "evaluate")
    tokenizer = load_tokenizer(args.model)
    require_budget(args.data, tokenizer, "evaluation.max_new_tokens", s.max_new_tokens)
    predictions, metrics = evaluate(model, tokenizer, args.data, s.batch_size, s.max_new_tokens)
    atomic_write_text(args.predictions, "".join(json.dumps(p, sort_keys=True) + "\n" for p in predictions),
                      checksum=True)
    metrics["model"] = Model(args.slug, args.seed).identity()  # the tables read which model this is here
    atomic_write_text(args.metrics, json.dumps(metrics, indent=2, sort_keys=True) + "\n", checksum=True)


if __name__ == "__main__":
    main()
