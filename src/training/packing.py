"""Packed batches for SFT and knowledge injection: no arithmetic on padding, no cross-talk.

A batch keeps its meaning (the same `batch_size` examples per optimizer step, the loss averaged over
their label tokens), but instead of padding every example to the batch's longest, the examples are
packed into a few rows (best-fit decreasing). Each example restarts its position ids at 0 and there is
no attention mask, so transformers builds a block-diagonal causal mask from the position ids
(`masking_utils.find_packed_sequence_indices`, sdpa and eager alike, CPU and GPU): no token attends to
another example. `tests/test_trainers.py` shows an example's loss and logits are the same packed as alone.

Why by hand: TRL's `padding_free=True` puts a whole batch in one row, whose attention then costs
(batch tokens)^2; its BFD packing packs the whole dataset, which changes how many examples a step sees.
Measured on the default study (2-core CPU, one thread; `python -m src.training.bench`): see docs/design.md,
"How training is fast".

`PackedSFTTrainer` is TRL's SFTTrainer with this collator and, on the CPU, the causal-LM loss with the
LM head on label tokens only. TRL computes the loss with a fused, chunked LM head: a Triton kernel on
GPUs, but on the CPU its torch fallback makes about ten passes over the [tokens, vocabulary] tile and
took most of the step time.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn.parallel import DistributedDataParallel
from trl import SFTTrainer

# A row holds examples up to this multiple of the batch's longest example: wide enough that rows fill
# up, narrow enough that attention (quadratic in the row's width) stays small. Measured: src.training.bench.
ROW_WIDTH = 1.25


def pack_rows(lengths: list[int], width: int) -> list[list[int]]:
    """Best-fit decreasing: the example indices of each row, every row at most `width` tokens (an
    example longer than `width` gets a row of its own). Deterministic: ties keep the input order."""
    rows: list[list[int]] = []
    free: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        fits = [r for r in range(len(rows)) if free[r] >= lengths[i]]
        if fits:
            best = min(fits, key=lambda r: free[r])
            rows[best].append(i)
            free[best] -= lengths[i]
        else:
            rows.append([i])
            free.append(width - lengths[i])
    return rows


@dataclass
class PackedCollator:
    """Examples ({input_ids, labels?}) -> input_ids, labels, position_ids of packed rows, plus the
    count of real tokens (popped by the trainer before the forward pass)."""

    pad_token_id: int
    row_width: float = ROW_WIDTH

    def __call__(self, examples: list[dict]) -> dict:
        lengths = [len(e["input_ids"]) for e in examples]
        rows = pack_rows(lengths, int(self.row_width * max(lengths)))
        width = max(sum(lengths[i] for i in row) for row in rows)
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(rows), width), -100, dtype=torch.long)
        positions = torch.zeros((len(rows), width), dtype=torch.long)
        for r, row in enumerate(rows):
            at = 0
            for i in row:
                n = lengths[i]
                ids[r, at:at + n] = torch.tensor(examples[i]["input_ids"])
                labels[r, at:at + n] = torch.tensor(examples[i].get("labels", examples[i]["input_ids"]))
                labels[r, at] = -100  # nothing before an example's first token predicts it
                positions[r, at:at + n] = torch.arange(n)
                at += n
            positions[r, at:] = torch.arange(width - at)  # the tail of padding is a block of its own
        return {"input_ids": ids, "labels": labels, "position_ids": positions, "num_real_tokens": sum(lengths)}


class PackedSFTTrainer(SFTTrainer):
    """SFTTrainer on packed batches; the loss is the mean over the batch's label tokens, as TRL's.

    On the CPU the LM head runs only on the states that predict a label token (`label_head`): in SFT the
    prompt carries no loss and is most of the tokens, so logits over all of them are wasted arithmetic
    (measured: src.training.bench, "+ LM head on label tokens only"). Same loss and gradients as the
    model's own loss (tests/test_trainers.py). `label_head=False`: the model's own loss, for the benchmark."""

    def __init__(self, *args, processing_class, label_head: bool = True, **kwargs):
        super().__init__(*args, processing_class=processing_class,
                         data_collator=PackedCollator(processing_class.pad_token_id), **kwargs)
        self.label_head = label_head

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        real = torch.tensor(inputs.pop("num_real_tokens"), device=self.accelerator.device)
        if inputs["input_ids"].is_cuda:  # TRL's fused LM head: no [tokens, vocabulary] logits in memory
            outputs = model(**inputs, use_cache=False, fused_lm_head=True)
            loss = outputs.loss
        elif self.label_head and not return_outputs and not isinstance(model, DistributedDataParallel):
            outputs, loss = None, label_token_loss(model, **inputs)
        else:
            outputs = model(**inputs, use_cache=False)
            loss = outputs.loss
        if model.training:  # TRL's token count, which the speed table reads (padding excluded)
            self._total_train_tokens += int(self.accelerator.gather_for_metrics(real).sum())
            self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
        return (loss, outputs) if return_outputs else loss


def label_token_loss(model, input_ids: torch.Tensor, labels: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
    """The causal-LM loss (mean over label tokens) with the LM head applied only where it is needed: the state
    at position t predicts token t + 1, so only states whose next token is a label reach the head."""
    hidden = model.get_decoder()(input_ids=input_ids, position_ids=position_ids, use_cache=False).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = model.get_output_embeddings()(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), target[keep])


def packed_token_logps(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, logits_to_keep: int,
                       temperature: float, compute_entropy: bool = False, share_prompts: bool = True):
    """GRPO's per-token log-probabilities (and entropies) of the completion tokens, as TRL computes them on
    its padded [rows, prompt + completion] batch, but from packed rows in which each prompt is read once
    for the whole group that shares it: a unit is [prompt, completion 1, ..., completion k], each
    completion attending to the prompt and to itself (a 4D mask), its positions continuing the prompt's.
    The LM head runs only where a completion token is predicted. Same values and gradients as scoring
    every row alone (tests/test_trainers.py); a group of 8 completions of a 50-token prompt costs half
    the tokens (`share_prompts=False`: every completion rereads its prompt, as before; for the benchmark).
    Returns [rows, logits_to_keep] tensors, zero where the completion is padding, as TRL's."""
    prompt_mask = attention_mask[:, :-logits_to_keep].bool()
    completion = attention_mask[:, -logits_to_keep:].bool()
    prompts = [ids[m] for ids, m in zip(input_ids[:, :-logits_to_keep], prompt_mask)]
    completions = [ids[m] for ids, m in zip(input_ids[:, -logits_to_keep:], completion)]
    groups: dict[tuple, list[int]] = {}  # rows with the same prompt, in first-seen order (deterministic)
    for i, p in enumerate(prompts):
        groups.setdefault(tuple(p.tolist()) if share_prompts else i, []).append(i)
    units = list(groups.values())
    lengths = [len(prompts[u[0]]) + sum(len(completions[i]) for i in u) for u in units]
    rows = pack_rows(lengths, int(ROW_WIDTH * max(lengths)))
    width = max(sum(lengths[j] for j in row) for row in rows)
    ids = input_ids.new_zeros((len(rows), width))
    positions = torch.zeros_like(ids)
    allowed = torch.zeros((len(rows), 1, width, width), dtype=torch.bool)  # True: may attend
    predictor: list[torch.Tensor] = [None] * len(prompts)  # flat index of the state predicting each token
    for r, row in enumerate(rows):
        at = 0
        for j in row:
            prompt = prompts[units[j][0]]
            n = len(prompt)
            ids[r, at:at + n] = prompt
            positions[r, at:at + n] = torch.arange(n)
            allowed[r, 0, at:at + n, at:at + n] = torch.ones(n, n, dtype=torch.bool).tril()
            end = at + n
            for i in units[j]:
                c = len(completions[i])
                ids[r, end:end + c] = completions[i]
                positions[r, end:end + c] = torch.arange(n, n + c)
                allowed[r, 0, end:end + c, at:at + n] = True
                allowed[r, 0, end:end + c, end:end + c] = torch.ones(c, c, dtype=torch.bool).tril()
                # token 0 is predicted from the prompt's last state, token k from completion token k - 1
                predictor[i] = r * width + torch.cat([torch.tensor([at + n - 1]), torch.arange(end, end + c)])[:c]
                end += c
            at = end
        allowed[r, 0, at:, at:] = torch.eye(width - at, dtype=torch.bool)  # padding sees itself: no empty rows
    at = torch.cat(predictor)  # row by row, token by token: the order of completion's True entries
    target = torch.cat(completions)
    hidden = model.get_decoder()(input_ids=ids, position_ids=positions, attention_mask=allowed,
                                 use_cache=False).last_hidden_state
    hidden = hidden.reshape(-1, hidden.shape[-1])[at]
    logp = torch.log_softmax(model.get_output_embeddings()(hidden).float() / temperature, -1)
    token_logps = input_ids.new_zeros(completion.shape, dtype=logp.dtype)
    token_logps[completion] = logp.gather(-1, target[:, None]).squeeze(-1)
    entropies = None
    if compute_entropy:
        entropies = torch.zeros_like(token_logps)
        entropies[completion] = -(logp.exp() * logp).sum(-1)
    return token_logps, entropies
