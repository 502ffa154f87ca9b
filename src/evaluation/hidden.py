"""Entry point: where RL moves the hidden states (the paper's Figure 7), for one RL model and its start.

The same Comp test questions (`evaluation.shift_questions` per level, the first ones, as pass@k takes
them) run with their gold chain of thought through the RL model and the model RL started from. At each
position of interest the hidden state of every layer is read, and RL's shift is the RL model's state
minus its start's. Positions: the last prompt token, and the first token of each hop's sentence in the
gold chain; a hop is recalled (a parametric relation: the fact is in the weights) or read (a contextual
one: it is in the prompt). Writes one .npz: `shift` [points, layers + 1, hidden], `start_norm` [points,
layers + 1] (the start's state norm, to compare layers), and per point `id`, `level`, `kind`
('prompt', 'recalled' or 'read') and `hop` (-1 for the prompt).
"""
from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import torch

from ..data.relations import BY_NAME, PARAMETRIC
from ..data.world import sentence
from ..io import atomic_write_bytes
from ..job import device
from ..model_io import load_model, load_tokenizer
from ..text import completion_of, prompt_of
from .evaluate import model_args, start
from .sample import passk_questions

log = logging.getLogger(__name__)


def points(record: dict, tokenizer) -> tuple[list[int], list[tuple[str, int]]]:
    """The token ids of prompt + gold completion, and (kind, hop) at each position of interest, by index."""
    prompt, completion = prompt_of(record), completion_of(record)
    text = prompt + completion
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    starts = [s for s, _ in enc["offset_mapping"]]
    where = [len(prompt) - 1]  # the prompt's last character: its token is the last prompt token
    kinds = [("prompt", -1)]
    chain, path = record["entities"], record["relation_path"]
    at = len(prompt) + 1  # the completion is " " + the sentences joined by " "
    for hop, (rel, a, b) in enumerate(zip(path, chain, chain[1:])):
        where.append(at)
        kinds.append(("recalled" if BY_NAME[rel].group == PARAMETRIC else "read", hop))
        at += len(sentence(rel, a, b)) + 1
    index = [max(i for i, s in enumerate(starts) if s <= w) for w in where]
    return enc["input_ids"], list(zip(index, kinds))


@torch.no_grad()
def states(model, ids: list[int], positions: list[int]) -> np.ndarray:
    """[positions, layers + 1, hidden]: every layer's hidden state (the embeddings first) at the positions."""
    out = model(torch.tensor([ids], device=model.device), output_hidden_states=True)
    return torch.stack([h[0, positions] for h in out.hidden_states], dim=1).float().cpu().numpy()


def main() -> None:
    ap = model_args(__doc__)
    ap.add_argument("--start", required=True, type=Path, help="the model RL started from")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    s, model = start(args, "hidden_shifts")
    first = load_model(args.start).to(device()).eval()
    tokenizer = load_tokenizer(args.model)
    shift, norm, meta = [], [], []
    for r in passk_questions(args.data, s.questions):  # the first ones per level, as pass@k
        ids, marks = points(r, tokenizer)
        pos = [i for i, _ in marks]
        after, before = states(model, ids, pos), states(first, ids, pos)
        shift.append(after - before)
        norm.append(np.linalg.norm(before, axis=-1))
        meta += [(r["id"], r["split"], kind, hop) for _, (kind, hop) in marks]
    buf = io.BytesIO()
    np.savez_compressed(buf, shift=np.concatenate(shift).astype(np.float32), start_norm=np.concatenate(norm),
                        id=np.array([m[0] for m in meta]), level=np.array([m[1] for m in meta]),
                        kind=np.array([m[2] for m in meta]), hop=np.array([m[3] for m in meta]))
    atomic_write_bytes(args.out, buf.getvalue(), checksum=True)
    log.info("%d points from %d questions", len(meta), len({m[0] for m in meta}))


if __name__ == "__main__":
    main()
