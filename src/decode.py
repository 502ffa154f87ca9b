"""Batched decoding with a preallocated KV cache, shared prompts read once, finished rows dropped.

transformers' `generate` keeps every row of a batch until the slowest one stops, and its `DynamicCache`
concatenates every layer's keys and values at every step. Here:
- a prompt that occurs several times in the batch (GRPO's group of completions, pass@k's samples) is
  read once, and its cache rows are copied to each of its rows;
- the cache is allocated once for the longest sequence the batch can reach and written in place;
- a row that emits EOS stops costing anything: finished rows leave the batch (their cache rows with
  them) once they are an eighth of it, so a compaction's copy is paid rarely.
Measured in CPU time on GRPO's batches (`python -m src.training.bench_grpo`, docs/design.md "How
training is fast"). transformers' continuous batching (`generate_batch`), the
library's answer to the same problem, took 15.5 s against 1.5 s on 64 Comp questions on the CPU.

The model's own forward does the work; only the loop and the cache layer are ours. Greedy picks the
arg-max; sampling draws from softmax(logits / temperature) over the whole vocabulary (top_k=0, top_p=1),
as `generate` does with those settings.
"""
from __future__ import annotations

import torch
from transformers.cache_utils import Cache, DynamicLayer

COMPACT_SHARE = 8  # finished rows leave the batch once they are 1/COMPACT_SHARE of it (or all of it)


class PreallocatedLayer(DynamicLayer):
    """A layer's keys and values in a buffer sized once for the longest sequence; `update` writes the new
    positions in place and returns views of the filled part (DynamicLayer concatenates at every step)."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity, self.length = capacity, 0

    def lazy_initialization(self, key_states, value_states) -> None:
        b, h, _, d = key_states.shape
        self.dtype, self.device = key_states.dtype, key_states.device
        self._keys = key_states.new_empty((b, h, self.capacity, d))
        self._values = value_states.new_empty((b, h, self.capacity, d))
        self.is_initialized = True

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        end = self.length + key_states.shape[-2]
        if end > self.capacity:
            raise RuntimeError(f"KV cache of {self.capacity} positions is full (asked for {end})")
        self._keys[:, :, self.length:end] = key_states
        self._values[:, :, self.length:end] = value_states
        self.length = end
        self.keys, self.values = self._keys[:, :, :end], self._values[:, :, :end]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.length

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        if self.is_initialized:
            self._keys, self._values = self._keys[indices], self._values[indices]
            self.keys, self.values = self._keys[:, :, :self.length], self._values[:, :, :self.length]


def _left_padded(prompts: list[list[int]], pad_token_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Left padding, so that every row's next token goes in the same column."""
    width = max(map(len, prompts))
    ids = torch.full((len(prompts), width), pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p):] = 1
    return ids.to(device), mask.to(device)


def _sample(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """One token per row from softmax(logits / temperature), by inverting the cumulative distribution at a
    uniform draw: the distribution of `torch.multinomial`, which on the CPU drew an exponential variate per
    vocabulary entry and took 17% of GRPO's sampling (torch profiler, default study's model)."""
    cdf = torch.softmax(logits.float() / temperature, -1).cumsum(-1)
    u = torch.rand((len(cdf), 1), device=cdf.device) * cdf[:, -1:]
    return torch.searchsorted(cdf, u, right=True).squeeze(1).clamp(max=cdf.shape[1] - 1)


@torch.no_grad()
def decode(model, prompts: list[list[int]], max_new_tokens: int, eos_token_id: int, pad_token_id: int,
           temperature: float | None = None, with_logprobs: bool = False):
    """New token ids for each prompt (token ids), up to and including EOS; with `with_logprobs`, also each
    new token's log-probability under the distribution it was drawn from (softmax(logits / temperature)),
    which the tests hold against the model's own forward pass over prompt and completion."""
    device = next(model.parameters()).device
    unique: dict[tuple, int] = {}
    source = [unique.setdefault(tuple(p), len(unique)) for p in prompts]  # each row's distinct prompt
    ids, mask = _left_padded([list(p) for p in unique], pad_token_id, device)
    layers = model.config.get_text_config().num_hidden_layers
    cache = Cache(layers=[PreallocatedLayer(ids.shape[1] + max_new_tokens) for _ in range(layers)])
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                   use_cache=True, logits_to_keep=1).logits[:, -1]
    rows = torch.tensor(source, device=device)  # each row of the batch answers prompts[row]
    if len(unique) < len(prompts):  # the distinct prompts' cache, copied to every row that asks them
        cache.batch_select_indices(rows)
    logits, mask = logits[rows], mask[rows]
    next_position = mask.sum(1)
    rows = torch.arange(len(prompts), device=device)
    running = torch.ones(len(prompts), dtype=torch.bool, device=device)
    out: list[list[int]] = [[] for _ in prompts]
    logprobs: list[list[float]] = [[] for _ in prompts]
    for step in range(max_new_tokens):
        if temperature:
            token = _sample(logits, temperature)
        else:
            token = logits.argmax(-1)
        for r, t, live in zip(rows.tolist(), token.tolist(), running.tolist()):
            if live:
                out[r].append(t)
        if with_logprobs:
            lp = torch.log_softmax(logits.float() / (temperature or 1.0), -1).gather(1, token[:, None]).squeeze(1)
            for r, v, live in zip(rows.tolist(), lp.tolist(), running.tolist()):
                if live:
                    logprobs[r].append(v)
        running &= token != eos_token_id
        if step == max_new_tokens - 1 or not running.any():
            break
        finished = len(running) - int(running.sum())
        if finished and finished * COMPACT_SHARE >= len(running):  # drop the finished rows, from the cache too
            keep = running.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            rows, token, mask, next_position, running = (
                rows[keep], token[keep], mask[keep], next_position[keep], running[keep])
        mask = torch.cat([mask, mask.new_ones((len(rows), 1))], 1)
        logits = model(input_ids=token[:, None], attention_mask=mask, position_ids=next_position[:, None],
                       past_key_values=cache, use_cache=True).logits[:, -1]
        next_position = next_position + 1
    return (out, logprobs) if with_logprobs else out
