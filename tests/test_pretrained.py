"""A local pretrained checkpoint: an input of the stages that load it, and LoRA adapters over it.

A tiny checkpoint is built here (the smoke world's tokenizer, a Llama of a few thousand parameters),
never downloaded. The study trains SFT(Mem+Ctx)->LoRA(Comp) from it with Snakemake; replacing the
checkpoint's weights makes the stages that load it out of date, and dvc.yaml lists its files as deps.
"""
import subprocess
import sys

import pytest
import yaml
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from .conftest import ROOT, copy_workflow, run

pytestmark = pytest.mark.slow
LORA = "sft-mem+ctx__lora-comp"


def tiny_checkpoint(smoke_data, folder, seed: int) -> None:
    """A saved Llama and the smoke world's tokenizer, as save_pretrained writes a Hugging Face checkpoint."""
    import torch
    if not (folder / "tokenizer.json").exists():
        subprocess.run([sys.executable, "-m", "src.training.tokenizer", "--params", "params.yaml", "--preset", "smoke",
                        "--data", str(smoke_data), "--out", str(folder)], cwd=ROOT, check=True, capture_output=True)
    tok = AutoTokenizer.from_pretrained(folder)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                                         tie_word_embeddings=True, pad_token_id=tok.pad_token_id,
                                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id))
    model.save_pretrained(folder)


def test_a_pretrained_checkpoint_is_an_input_and_lora_saves_adapters(smoke_data, tmp_path):
    ckpt = tmp_path / "checkpoint"
    tiny_checkpoint(smoke_data, ckpt, seed=0)
    work = copy_workflow(tmp_path / "wf")
    raw = yaml.safe_load((work / "params.yaml").read_text())
    raw["presets"]["smoke_pt"] = {"extends": "smoke", "seeds": [0], "recipes": ["SFT(Mem+Ctx)->LoRA(Comp)"],
                                  "model": {"pretrained": str(ckpt)}}
    (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    config = ["--config", "preset=smoke_pt"]
    target = f"results/smoke_pt/eval/seed0/{LORA}/metrics.json"
    run(["snakemake", target, "--cores", "2", *config], work)

    lora = work / f"results/smoke_pt/models/seed0/{LORA}"
    saved = {p.name for p in lora.iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= saved and "model.safetensors" not in saved
    assert (work / target).exists()  # evaluation loaded the adapter over its base

    # the checkpoint's files are inputs: new weights put the stages that load them out of date
    tiny_checkpoint(smoke_data, ckpt, seed=1)
    plan = run(["snakemake", target, "-n", "--cores", "2", *config], work)
    said = plan.stdout + plan.stderr
    assert "rule inject_knowledge:" in said and "Updated input files" in said, said[-3000:]
    # ... and in dvc.yaml, whose deps DVC compares by content
    from src.workflow.export_dvc import build
    stages = yaml.safe_load(build("smoke_pt", work / "params.yaml"))["stages"]
    assert str(ckpt / "model.safetensors") in stages["inject_knowledge"]["deps"]
    assert str(ckpt / "tokenizer.json") in stages["build_tokenizer"]["deps"]
    # an adapter is loaded over the model its stage started from: that folder is an input of what loads it
    base = "results/smoke_pt/models/seed0/sft-mem+ctx"
    assert base in stages["evaluate-seed0_sft-mem_ctx__lora-comp"]["deps"]
    assert "results/smoke_pt/models/inject" not in stages["evaluate-seed0_sft-mem_ctx__lora-comp"]["deps"]

    # model.lora: every stage saves an adapter, so loading one reads its whole line down to the checkpoint
    raw["presets"]["smoke_pt_lora"] = {"extends": "smoke_pt", "recipes": ["SFT(Mem+Ctx)->RL(Comp)"],
                                       "model": {"lora": {"enabled": True}}}
    (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    stages = yaml.safe_load(build("smoke_pt_lora", work / "params.yaml"))["stages"]
    line = ["results/smoke_pt_lora/models/seed0/sft-mem+ctx", "results/smoke_pt_lora/models/inject",
            str(ckpt / "model.safetensors")]
    assert set(line) <= set(stages["evaluate-seed0_sft-mem_ctx__grpo-comp"]["deps"])
    assert set(line[1:]) <= set(stages["train_grpo-seed0-sft-mem_ctx__grpo-comp"]["deps"])
    assert str(ckpt / "model.safetensors") in stages["evaluate-inject"]["deps"]
