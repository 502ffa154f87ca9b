"""The trainers at the machine's speed: packed batches (no arithmetic on padding; an example is the same packed
as alone) and GRPO scoring without TRL's fused LM head on the CPU (the same numbers)."""
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


def test_grpo_scores_completions_as_trls_fused_lm_head():
    """On the CPU, PipelineGRPOTrainer reads log-probabilities off the full logits; TRL's fused head
    (its torch fallback) must give the same numbers, padding and temperature included."""
    import contextlib
    from types import SimpleNamespace

    from trl import GRPOTrainer
    from trl.trainer.utils import add_fused_lm_head

    from src.training.grpo import PipelineGRPOTrainer

    model = tiny_model()
    add_fused_lm_head(model, temperature=0.7, outputs=("log_probs", "entropy"))
    trainer = SimpleNamespace(temperature=0.7, args=SimpleNamespace(report_to=[]), state=SimpleNamespace(global_step=0),
                              accelerator=SimpleNamespace(autocast=contextlib.nullcontext, is_main_process=True))
    torch.manual_seed(1)
    ids = torch.randint(3, 60, (4, 12))
    mask = torch.ones_like(ids)
    mask[0, :3] = 0  # a left-padded prompt
    mask[1, -2:] = 0  # a completion that ended early (padding after EOS)
    with torch.no_grad():
        ours = PipelineGRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, 5, compute_entropy=True)
        trls = GRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, 5, compute_entropy=True)
    torch.testing.assert_close(ours[0], trls[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours[1], trls[1], atol=1e-5, rtol=1e-5)


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
