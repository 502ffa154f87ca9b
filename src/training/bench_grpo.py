"""Where a GRPO step's CPU time goes: TRL's GRPOTrainer as the pipeline ran it before, each change made
since, side by side in one process, on the same SFT model and the same questions. Not part of the study
(a benchmark, not a test):

    python -m src.training.bench_grpo --preset quick --model results/quick/models/seed0/sft-mem+ctx

Times are CPU seconds (`time.process_time`), so another job on the machine does not distort them, and the
yardstick is the matmul peak per thread in GFLOP per CPU-second, measured in the same process. Writes
results/<preset>/speed/trainer_grpo_1t.md.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from statistics import median

import torch
from datasets import Dataset
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

from ..io import atomic_write_text
from ..job import matmul_peak
from ..model_io import load_model, load_tokenizer
from ..params.check import results_dir, study
from ..text import prompt_of
from .grpo import PipelineGRPOTrainer, exact_match_reward
from .packing import packed_token_logps
from .questions import qa_dataset


class Before(PipelineGRPOTrainer):
    """The trainer as it was: transformers' `generate` and scoring on the padded batch (full logits)."""

    def _generate_single_turn(self, *args, **kwargs):
        return GRPOTrainer._generate_single_turn(self, *args, **kwargs)

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                           batch_size=None, compute_entropy=False, **extra):
        logits = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=logits_to_keep + 1,
                       use_cache=False).logits[:, :-1].float() / self.temperature
        logp = torch.log_softmax(logits, -1)
        kept = attention_mask[:, -logits_to_keep:]
        token_logps = logp.gather(-1, input_ids[:, -logits_to_keep:, None]).squeeze(-1) * kept
        entropies = -(logp.exp() * logp).sum(-1) * kept if compute_entropy else None
        return token_logps, entropies, None


class SamplerOnly(Before):
    """The pipeline's sampler, the padded scoring of before."""

    def _generate_single_turn(self, *args, **kwargs):
        return PipelineGRPOTrainer._generate_single_turn(self, *args, **kwargs)


class Unshared(PipelineGRPOTrainer):
    """Packed scoring in which every completion rereads its prompt (the pipeline before prompts were shared)."""

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                           batch_size=None, compute_entropy=False, **extra):
        return (*packed_token_logps(model, input_ids, attention_mask, logits_to_keep, self.temperature,
                                    compute_entropy, share_prompts=False), None)


class Bf16Update(PipelineGRPOTrainer):
    """The pipeline's trainer with `training.grpo.precision: bf16`: the update under bf16 autocast."""

    bf16_update = True


class Bf16All(PipelineGRPOTrainer):
    """Every forward under bf16 autocast, sampling too (what `precision` does not do: measured slower)."""

    def training_step(self, *args, **kwargs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return super().training_step(*args, **kwargs)

    def _generate_and_score_completions(self, inputs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return super()._generate_and_score_completions(inputs)


VARIANTS = {"TRL generate, padded scoring (before)": Before, "+ the pipeline's sampler": SamplerOnly,
            "+ packed scoring": Unshared, "+ each prompt read once per group (the pipeline, fp32)": PipelineGRPOTrainer,
            "+ bf16 update (precision: bf16)": Bf16Update, "+ bf16 sampling and update": Bf16All}


class CpuClock(TrainerCallback):
    """Each step's CPU seconds (and wall seconds)."""

    def __init__(self):
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def on_step_begin(self, args, state, control, **kwargs):
        self.start, self.start_wall = time.process_time(), time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.cpu.append(time.process_time() - self.start)
        self.wall.append(time.perf_counter() - self.start_wall)


def run(cls, model_path: Path, tokenizer, data: Dataset, g, steps: int, out: Path) -> dict:
    config = GRPOConfig(output_dir=str(out), max_steps=steps, learning_rate=g.learning_rate,
                        per_device_train_batch_size=g.batch_size, num_generations=g.num_generations,
                        temperature=g.temperature, beta=g.beta, max_completion_length=g.max_completion_length,
                        lr_scheduler_type="constant", report_to="none", save_strategy="no", disable_tqdm=True,
                        use_cpu=True, bf16=False, seed=0, data_seed=0, gradient_checkpointing=False, logging_steps=1)
    clock = CpuClock()
    torch.manual_seed(0)
    trainer = cls(model=load_model(model_path, tokenizer), reward_funcs=exact_match_reward, args=config,
                  train_dataset=data, processing_class=tokenizer, callbacks=[clock])
    steps_sampling: list[float] = []
    original = trainer._generate_and_score_completions

    def clocked(inputs):  # the sampling phase's CPU seconds, step by step
        cpu = time.process_time()
        try:
            return original(inputs)
        finally:
            steps_sampling.append(time.process_time() - cpu)

    trainer._generate_and_score_completions = clocked
    trainer.train()
    tokens = [float(h["num_tokens"]) for h in trainer.state.log_history if "num_tokens" in h]
    per_step = [b - a for a, b in zip([0.0] + tokens, tokens)]
    length = [h["completions/mean_length"] for h in trainer.state.log_history if "completions/mean_length" in h]
    warm = slice(1, None)  # the first step pays one-time costs
    return {"cpu_s": median(clock.cpu[warm]), "wall_s": median(clock.wall[warm]),
            "sampling_cpu_s": median(steps_sampling[warm]),
            "tokens": median(per_step[warm]), "completion_length": median(length[warm]),
            "reward": median(h["reward"] for h in trainer.state.log_history if "reward" in h)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--model", required=True, type=Path, help="an SFT model of the preset, e.g. SFT(Mem+Ctx)")
    ap.add_argument("--steps", type=int, default=6, help="steps per variant; the first is warm-up")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--out", type=Path, help="the table's file (default results/<preset>/speed/trainer_grpo_1t.md)")
    ap.add_argument("--note", default="", help="a line under the table, e.g. what else ran on the machine")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)  # as the study runs (src/job.py: setup)
    cfg = study(args.params, args.preset)
    g = cfg.training.grpo
    results = results_dir(cfg.preset)
    tokenizer = load_tokenizer(args.model)
    tokenizer.padding_side = "left"
    rows = qa_dataset(results / "data", ["comp"], 0.0, "rl")[: g.questions]
    data = Dataset.from_list([{"prompt": prompt_of(r), "answer": r["answer"]} for r in rows])
    peak = matmul_peak()
    params = sum(p.numel() for p in load_model(args.model).parameters())
    scratch = tempfile.mkdtemp()
    measured = {name: run(VARIANTS[name], args.model, tokenizer, data, g, args.steps, Path(scratch))
                for name in args.variants}
    shutil.rmtree(scratch, ignore_errors=True)
    again = matmul_peak()  # twice: another process on the machine lowers one measurement
    peak = max(peak, again, key=lambda p: p["fp32_gflops_per_cpu_s"])
    per_thread = peak["fp32_gflops_per_cpu_s"]
    first = measured[args.variants[0]]["cpu_s"]
    L = [f"# GRPO step, preset `{args.preset}`: 1 thread, CPU time", "",
         f"Machine: {peak['machine']}; matmul peak per thread {per_thread:.0f} GFLOP per CPU-second fp32, "
         f"{peak['bf16_gflops_per_cpu_s']:.0f} bf16. Model: {args.model} ({params / 1e6:.2f}M parameters); "
         f"{g.batch_size} completions per step in groups of {g.num_generations}. Median of {args.steps - 1} steps "
         f"after one of warm-up. Model FLOPs = 6 x parameters x the step's prompt and completion tokens (TRL's "
         f"count, padding excluded). `python -m src.training.bench_grpo --preset {args.preset} --model {args.model}`",
         "", "| variant | CPU s/step | sampling | update | speed-up | model GFLOP per CPU-s | share of the peak "
         "| completion tokens | reward |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, m in measured.items():
        flops = 6 * params * m["tokens"] / m["cpu_s"] / 1e9
        L.append(f"| {name} | {m['cpu_s']:.2f} | {m['sampling_cpu_s']:.2f} | {m['cpu_s'] - m['sampling_cpu_s']:.2f} "
                 f"| {first / m['cpu_s']:.2f}x | {flops:.1f} | {flops / per_thread:.0%} | {m['completion_length']:.1f} "
                 f"| {m['reward']:.2f} |")
    if args.note:
        L += ["", args.note]
    atomic_write_text(args.out or results / "speed" / "trainer_grpo_1t.md", "\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
