"""The trainers at the machine's speed: packed batches (no arithmetic on padding; an example is the same packed
as alone), GRPO's sampler (the model's own distribution) and GRPO scoring on packed rows without TRL's fused LM
head on the CPU (the same numbers)."""
import pytest
import torch
from datasets import Dataset
from transformers import LlamaConfig, LlamaForCausalLM
from trl import SFTConfig

from src.io import read_jsonl
from src.text import completion_of, prompt_of
from src.training.packing import PackedCollator, PackedSFTTrainer, pack_rows
from src.training.tokenizer import build_word_tokenizer


def tiny_model(attn: str = "sdpa", vocab: int = 60) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=128,
                         attn_implementation=attn)
    return LlamaForCausalLM(config).eval()


def test_rows_hold_every_example_once_and_never_overflow():
    lengths = [5, 9, 3, 7, 7, 2, 12, 4]
    rows = pack_rows(lengths, 12)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 12 for row in rows)
    assert len(rows) == 5  # 12 | 9+3 | 7+5 | 7+4 | 2: best fit leaves one short row
    assert pack_rows(lengths, 12) == rows  # deterministic
    assert pack_rows([20, 3], 12) == [[0], [1]]  # an example wider than a row gets one of its own


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_a_packed_example_has_the_same_logits_and_loss_as_alone(attn):
    model = tiny_model(attn)
    examples = [{"input_ids": [1, 5, 6, 7, 8, 9, 10], "labels": [-100, -100, -100, 7, 8, 9, 10]},  # prompt + completion
                {"input_ids": [1, 11, 12, 13], "labels": [-100, -100, 12, 13]},
                {"input_ids": [1, 20, 21, 22, 23], "labels": [-100, -100, -100, 22, 23]},
                {"input_ids": [1, 30, 31]}]  # language modelling: every token but the first
    batch = PackedCollator(pad_token_id=0, row_width=3.0)(examples)
    assert batch.pop("num_real_tokens") == 19
    assert batch["input_ids"].shape[0] < len(examples)  # several examples share a row
    with torch.no_grad():
        packed = model(**batch, use_cache=False)
        token_losses, label_tokens = [], 0
        for e in examples:
            ids = torch.tensor([e["input_ids"]])
            labels = torch.tensor([e.get("labels", [-100] + e["input_ids"][1:])])
            alone = model(input_ids=ids, labels=labels, use_cache=False)
            row, at = next((r, a) for r in range(batch["input_ids"].shape[0])
                           for a in range(batch["input_ids"].shape[1] - ids.shape[1] + 1)
                           if batch["input_ids"][r, a:a + ids.shape[1]].tolist() == e["input_ids"]
                           and batch["position_ids"][r, a] == 0)
            torch.testing.assert_close(packed.logits[row, at:at + ids.shape[1]], alone.logits[0], atol=1e-5, rtol=1e-5)
            n = int((labels[0, 1:] != -100).sum())
            token_losses.append(alone.loss * n)
            label_tokens += n
    # the batch loss is the mean over all label tokens of the batch, as with padding
    torch.testing.assert_close(packed.loss, sum(token_losses) / label_tokens, atol=1e-5, rtol=1e-5)


def test_sft_loss_is_on_the_completion_only_and_counts_real_tokens(smoke_data, tmp_path):
    tokenizer = build_word_tokenizer(smoke_data)
    rows = [r for r in read_jsonl(smoke_data / "qa_comp.jsonl") if r["split"] == "train"][:6]
    data = Dataset.from_list([{"prompt": prompt_of(r), "completion": completion_of(r)} for r in rows])
    config = SFTConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=6, max_length=384,
                       completion_only_loss=True, report_to="none", use_cpu=True, bf16=False,
                       gradient_checkpointing=False)
    model = tiny_model(vocab=len(tokenizer))
    trainer = PackedSFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer)
    examples = [trainer.train_dataset[i] for i in range(len(rows))]
    batch = trainer.data_collator(examples)
    completion = [len(tokenizer(completion_of(r), add_special_tokens=False)["input_ids"]) + 1 for r in rows]  # + EOS
    assert int((batch["labels"] != -100).sum()) == sum(completion)  # the prompt carries no loss
    real = batch["num_real_tokens"]
    assert real == sum(len(e["input_ids"]) for e in examples) < batch["input_ids"].numel() + 1
    model.train()
    loss = trainer.compute_loss(model, dict(batch))
    assert trainer._total_train_tokens == real  # the speed table's tokens: real ones, no padding
    # the same loss as the padded batch TRL would otherwise build: right padding, attention mask
    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), -100)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n], labels[i, :n], mask[i, :n] = torch.tensor(e["input_ids"]), torch.tensor(e["labels"]), 1
    padded = model(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False).loss
    torch.testing.assert_close(loss, padded, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("stage", ["sft", "inject"])
def test_packed_trainer_learns_as_trls_padded_one(smoke_data, tmp_path, stage):
    """The speed changes compute the same thing: step by step, PackedSFTTrainer's losses are those of
    TRL's SFTTrainer as the pipeline ran it before (padded batches, fused LM head, gradient checkpointing)."""
    from transformers import TrainerCallback
    from trl import SFTTrainer

    tokenizer = build_word_tokenizer(smoke_data)
    if stage == "sft":
        rows = [r for t in ("mem", "ctx", "comp") for r in read_jsonl(smoke_data / f"qa_{t}.jsonl") if r["split"] == "train"]
        data = Dataset.from_list([{"prompt": prompt_of(r), "completion": completion_of(r)} for r in rows])
    else:
        data = Dataset.from_list([{"text": r["text"]} for r in read_jsonl(smoke_data / "biographies.jsonl")])

    class Losses(TrainerCallback):
        def __init__(self):
            self.seen = []

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                self.seen.append(float(logs["loss"]))

    losses = {}
    for name, cls in (("before", SFTTrainer), ("packed", PackedSFTTrainer)):
        config = SFTConfig(output_dir=str(tmp_path / name), max_steps=8, learning_rate=3e-3, per_device_train_batch_size=8,
                           max_length=256, completion_only_loss=stage == "sft", report_to="none", use_cpu=True,
                           bf16=False, seed=0, data_seed=0, logging_steps=1, save_strategy="no", disable_tqdm=True,
                           gradient_checkpointing=name == "before")
        callback = Losses()
        cls(model=tiny_model(vocab=len(tokenizer)).train(), args=config, train_dataset=data, processing_class=tokenizer,
            callbacks=[callback]).train()
        losses[name] = callback.seen
    assert len(losses["packed"]) == 8 and losses["packed"][-1] < losses["packed"][0]  # it learns
    assert losses["packed"] == pytest.approx(losses["before"], rel=1e-4)


@pytest.mark.parametrize("lora", [False, True])
def test_the_lm_head_on_label_tokens_gives_the_models_own_loss_and_gradients(lora):
    """SFT's CPU loss skips the LM head where no label is predicted: the same loss and the same gradient
    for every trained weight as the model's own causal-LM loss over all positions, full model or LoRA."""
    from peft import LoraConfig, get_peft_model

    from src.training.packing import label_token_loss

    examples = [{"input_ids": [1, 5, 6, 7, 8, 9, 10], "labels": [-100, -100, -100, 7, 8, 9, 10]},
                {"input_ids": [1, 11, 12, 13], "labels": [-100, -100, 12, 13]},
                {"input_ids": [1, 20, 21, 22, 23, 24, 25, 26], "labels": [-100, -100, -100, -100, -100, -100, 25, 26]}]
    batch = PackedCollator(pad_token_id=0, row_width=1.5)(examples)
    batch.pop("num_real_tokens")
    results = []
    for own in (True, False):
        model = tiny_model().train()
        if lora:
            model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                                     task_type="CAUSAL_LM"))
            torch.manual_seed(1)  # LoRA's B starts at zero: give it weights, so A's gradient is not zero
            for n, w in model.named_parameters():
                if "lora_B" in n:
                    w.data.normal_(0, 0.1)
        loss = model(**batch, use_cache=False).loss if own else label_token_loss(model, **batch)
        loss.backward()
        results.append((loss.detach(), {n: w.grad for n, w in model.named_parameters() if w.requires_grad}))
    (own_loss, own_grads), (loss, grads) = results
    torch.testing.assert_close(loss, own_loss, atol=1e-6, rtol=1e-6)
    assert grads.keys() == own_grads.keys() and len(grads) > 0
    assert all(g is not None and g.abs().sum() > 0 for g in grads.values())  # every trained weight learns
    for n in grads:
        torch.testing.assert_close(grads[n], own_grads[n], atol=1e-6, rtol=1e-5)


def test_sampled_tokens_have_the_models_own_log_probabilities():
    """The GRPO sampler (shared prompts read once, preallocated cache, finished rows dropped) draws each token
    from the model's own distribution: the log-probability it drew with equals the one a plain forward pass
    over prompt + completion gives, for every token of every row, rows that stop early included."""
    from src.decode import decode

    model = tiny_model()
    torch.manual_seed(2)
    prompts = [torch.randint(3, 60, (n,)).tolist() for n in (3, 7, 12, 5)]
    prompts = [p for p in prompts for _ in range(4)]  # groups of 4, as GRPO asks
    eos = 17
    out, lps = decode(model, prompts, 20, eos, 0, temperature=0.8, with_logprobs=True)
    assert any(o[-1] == eos and len(o) < 20 for o in out)  # some rows end early, so rows were dropped
    assert len({tuple(o) for o in out}) > 4  # a group's rows differ: sampled, not copied
    for p, o, lp in zip(prompts, out, lps):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([p + o])).logits[0, len(p) - 1:-1].float() / 0.8
        own = torch.log_softmax(logits, -1).gather(1, torch.tensor(o)[:, None]).squeeze(1)
        torch.testing.assert_close(torch.tensor(lp), own, atol=1e-4, rtol=1e-4)


def test_greedy_decoding_is_the_same_with_shared_prompts_and_dropped_rows():
    """Greedy answers do not depend on what else is in the batch: alone, or beside repeats and rows that end."""
    from src.decode import decode

    model = tiny_model()
    torch.manual_seed(3)
    prompts = [torch.randint(3, 60, (n,)).tolist() for n in (4, 9, 6, 13, 2)]
    batch = [p for p in prompts for _ in range(3)]
    together = decode(model, batch, 15, 28, 0)
    alone = [decode(model, [p], 15, 28, 0)[0] for p in batch]
    assert together == alone


def scoring_setup(temperature: float):
    """A tiny model with TRL's fused LM head, and the trainer attributes GRPO's scoring reads."""
    import contextlib
    from types import SimpleNamespace

    from trl.trainer.utils import add_fused_lm_head

    model = tiny_model()
    add_fused_lm_head(model, temperature=temperature, outputs=("log_probs", "entropy"))
    trainer = SimpleNamespace(temperature=temperature, bf16_update=False, args=SimpleNamespace(report_to=[]),
                              state=SimpleNamespace(global_step=0),
                              accelerator=SimpleNamespace(autocast=contextlib.nullcontext, is_main_process=True))
    return model, trainer


def test_grpo_packed_scoring_equals_trls_padded_fused_head():
    """The GRPO update scores completions from packed rows (no padding slots): per-token log-probabilities
    and entropies equal TRL's own computation on its padded batch (left-padded prompts, completions padded
    after EOS)."""
    from trl import GRPOTrainer

    from src.training.grpo import PipelineGRPOTrainer

    model, trainer = scoring_setup(0.7)
    torch.manual_seed(1)
    prompt, completion = 9, 7
    ids = torch.randint(3, 60, (6, prompt + completion))
    mask = torch.ones_like(ids)
    for row, (pad_left, pad_right) in enumerate([(0, 0), (3, 0), (0, 4), (5, 6), (8, 2), (1, 1)]):
        mask[row, :pad_left] = 0
        mask[row, prompt + completion - pad_right:] = 0
    with torch.no_grad():
        ours = PipelineGRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, completion,
                                                                       compute_entropy=True)
        trls = GRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, completion,
                                                               compute_entropy=True)
    real = mask[:, -completion:].bool()
    torch.testing.assert_close(ours[0][real], trls[0][real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours[1][real], trls[1][real], atol=1e-5, rtol=1e-5)
    assert (ours[0][~real] == 0).all()


def test_grpo_scoring_reads_a_shared_prompt_once_with_the_same_values_and_gradients():
    """GRPO's groups share their prompt: the update reads it once per group (completions attend to it and to
    themselves). Log-probabilities, entropies and the gradients of a loss on them equal TRL's padded batch,
    in which every completion rereads its prompt; an empty completion scores nothing."""
    from trl import GRPOTrainer

    from src.training.grpo import PipelineGRPOTrainer

    model, trainer = scoring_setup(0.9)
    torch.manual_seed(2)
    prompt, completion, group = 10, 6, 4
    ids, mask = [], []
    for pad_left in (0, 4, 7):  # three prompts of 10, 6 and 3 tokens, each sampled `group` times
        p = torch.randint(3, 60, (prompt,))
        for ends in torch.randint(0, completion + 1, (group,)).tolist():
            ids.append(torch.cat([p, torch.randint(3, 60, (completion,))]))
            m = torch.ones(prompt + completion, dtype=torch.long)
            m[:pad_left] = 0
            m[prompt + ends:] = 0  # completion of `ends` tokens (0: empty)
            mask.append(m)
    ids, mask = torch.stack(ids), torch.stack(mask)
    real = mask[:, -completion:].bool()
    weights = torch.randn(real.shape)
    out, grads = {}, {}
    for name, fn in (("ours", PipelineGRPOTrainer), ("trl", GRPOTrainer)):
        model.zero_grad()
        logps, ent, _ = fn._get_per_token_logps_and_entropies(trainer, model, ids, mask, completion,
                                                              compute_entropy=True)
        ((logps * weights)[real].sum() + ent[real].sum()).backward()
        out[name] = (logps.detach(), ent.detach())
        grads[name] = [p.grad.clone() for p in model.parameters()]
    torch.testing.assert_close(out["ours"][0][real], out["trl"][0][real], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out["ours"][1][real], out["trl"][1][real], atol=1e-5, rtol=1e-5)
    for ours, trls in zip(grads["ours"], grads["trl"]):
        torch.testing.assert_close(ours, trls, atol=1e-5, rtol=1e-4)
    assert (out["ours"][0][~real] == 0).all() and (~real).any()


def test_sampling_draws_tokens_in_proportion_to_their_probability():
    """The sampler's inverse-CDF draw has softmax(logits / temperature)'s distribution (as `torch.multinomial`):
    frequencies over 40,000 draws within 0.01 of each probability; a zero-probability token is never drawn."""
    from src.decode import _sample

    logits = torch.tensor([[2.0, 0.5, -1.0, float("-inf"), 1.0, 0.0]])
    probs = torch.softmax(logits / 0.7, -1)[0]
    torch.manual_seed(4)
    draws = _sample(logits.expand(40_000, -1), 0.7)
    freq = torch.bincount(draws, minlength=6).float() / len(draws)
    assert freq[3] == 0
    torch.testing.assert_close(freq, probs, atol=0.01, rtol=0)


def test_the_bf16_update_computes_in_bf16_and_scores_as_fp32_does():
    """`training.grpo.precision: bf16` runs the update's matmuls in bf16 (autocast), with log-probabilities
    within bf16's rounding of fp32's; `auto` follows the CPU's native bf16 support, `fp32` never casts."""
    from types import SimpleNamespace

    from src.job import cpu_bf16
    from src.training.grpo import PipelineGRPOTrainer

    assert cpu_bf16("bf16") and not cpu_bf16("fp32")
    assert cpu_bf16("auto") == torch.ops.mkldnn._is_mkldnn_bf16_supported()
    model = tiny_model()
    dtypes = []
    model.model.layers[0].mlp.down_proj.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    torch.manual_seed(5)
    ids = torch.randint(3, 60, (6, 14))
    mask = torch.ones_like(ids)
    mask[1, :4] = 0
    mask[2, -3:] = 0
    out = {}
    for bf16 in (False, True):
        trainer = SimpleNamespace(temperature=1.0, bf16_update=bf16)
        with torch.no_grad():
            out[bf16] = PipelineGRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, 6)[0]
    assert dtypes == [torch.float32, torch.bfloat16]
    assert out[True].dtype == torch.float32  # log-softmax in fp32, as TRL's
    torch.testing.assert_close(out[True], out[False], atol=0.05, rtol=0.02)
