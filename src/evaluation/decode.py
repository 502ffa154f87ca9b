"""Batched decoding with the KV cache that drops a row as soon as it has finished.

transformers' `generate` keeps every row of a batch until the slowest one stops, so a batch of 64
answers of about 30 tokens runs as long as its longest (up to `max_new_tokens`), and every step pays
for all 64 rows. Here a row that emits EOS leaves the batch (its cache rows with it), so a step costs
what the unfinished rows need. Measured on the default study (one CPU thread, 64 Comp questions,
SFT(Mem+Ctx)): `generate` 1.5 s batched, this loop less; see the speed benchmark
(`src/evaluation/benchmark.py`) and REPORT.md. transformers' continuous batching (`generate_batch`), the
library's answer to this, took 15.5 s on the same 64 questions on the CPU.

The model's own forward and cache (`DynamicCache`) do the work; only the loop is ours. Greedy picks the
arg-max; sampling draws from softmax(logits / temperature) over the whole vocabulary (top_k=0, top_p=1),
as `generate` does with those settings.
"""
from __future__ import annotations

import torch
from transformers import DynamicCache


@torch.no_grad()
def decode(model, prompts: list[list[int]], max_new_tokens: int, eos_token_id: int, pad_token_id: int,
           temperature: float | None = None) -> list[list[int]]:
    """New token ids for each prompt (token ids), up to and including EOS."""
    device = next(model.parameters()).device
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):  # left padding: every row's next token goes in the same column
        ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p):] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    cache = DynamicCache(config=model.config)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                   use_cache=True, logits_to_keep=1).logits[:, -1]
    rows = torch.arange(len(prompts), device=device)  # which prompt each row of the batch answers
    next_position = mask.sum(1)
    out: list[list[int]] = [[] for _ in prompts]
    for step in range(max_new_tokens):
        if temperature:
            token = torch.multinomial(torch.softmax(logits.float() / temperature, -1), 1).squeeze(1)
        else:
            token = logits.argmax(-1)
        for r, t in zip(rows.tolist(), token.tolist()):
            out[r].append(t)
        running = token != eos_token_id
        if step == max_new_tokens - 1 or not running.any():
            break
        if not running.all():  # drop the finished rows, from the cache too
            keep = running.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, token, mask, next_position = rows[keep], token[keep], mask[keep], next_position[keep]
        mask = torch.cat([mask, mask.new_ones((len(rows), 1))], 1)
        logits = model(input_ids=token[:, None], attention_mask=mask, position_ids=next_position[:, None],
                       past_key_values=cache, use_cache=True).logits[:, -1]
        next_position = next_position + 1
    return out
