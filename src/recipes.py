"""The recipes: the paper's notation for how a model is trained, parsed into stages and named.

'SFT(Mem+Ctx)->RL(Comp)' is a chain of stages; its slug 'sft-mem+ctx__grpo-comp' names the model's folder
and its label (the notation, in one spelling) names it in every table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .params.read import ConfigError

METHODS = {"SFT": "sft", "LoRA": "lora", "RL": "grpo"}  # paper notation -> trainer; LoRA: SFT of an adapter
DATASETS = {"Mem": "mem", "Ctx": "ctx", "Comp": "comp"}


@dataclass(frozen=True)
class Step:
    method: str  # "sft" | "lora" | "grpo"
    data: tuple[str, ...]  # ("mem", "ctx")
    share: int = 100  # percent of the stage's training questions it uses: SFT(Mem+Ctx@30%)

    @property
    def slug(self) -> str:
        return f"{self.method}-{'+'.join(self.data)}" + (f"@{self.share}" if self.share != 100 else "")


def parse_recipe(label: str) -> list[Step]:
    """'SFT(Mem+Ctx@30%)->RL(Comp)' -> [Step('sft', ('mem', 'ctx'), 30), Step('grpo', ('comp',))]."""
    steps = []
    for part in label.split("->"):
        m = re.fullmatch(r"\s*(\w+)\(([^()@]*)(?:@\s*(\d+)\s*%)?\)\s*", part)
        if not m:
            raise ConfigError(f"recipe {label!r}: cannot read {part!r}; write stages as "
                              f"METHOD(Data+Data) joined by '->', e.g. 'SFT(Mem+Ctx)->RL(Comp)', "
                              f"optionally with a share of the questions: 'SFT(Mem+Ctx@30%)'")
        method, data = m.group(1), [d.strip() for d in m.group(2).split("+")]
        share = int(m.group(3)) if m.group(3) else 100
        if method not in METHODS:
            raise ConfigError(f"recipe {label!r}: unknown method {method!r}; use one of {sorted(METHODS)}")
        bad = [d for d in data if d not in DATASETS]
        if bad or len(set(data)) != len(data):
            raise ConfigError(f"recipe {label!r}: bad training data {bad or data}; "
                              f"use distinct names from {sorted(DATASETS)}")
        if not 1 <= share <= 100 or (share != 100 and METHODS[method] == "grpo"):
            raise ConfigError(f"recipe {label!r}: a share must be 1% to 100% and belongs to an SFT or LoRA "
                              f"stage (RL always takes training.grpo.questions)")
        order = list(DATASETS)  # one spelling: Ctx+Mem is Mem+Ctx
        steps.append(Step(METHODS[method], tuple(DATASETS[d] for d in sorted(data, key=order.index)), share))
    return steps


def chain_slug(steps: list[Step]) -> str:
    """Directory name of the model a chain of stages produces, e.g. 'sft-mem+ctx__grpo-comp'."""
    return "__".join(s.slug for s in steps)


def slug_steps(slug: str) -> list[Step]:
    steps = []
    for part in slug.split("__"):
        method, data = part.split("-", 1)
        data, _, share = data.partition("@")
        steps.append(Step(method, tuple(data.split("+")), int(share or 100)))
    return steps


def chain_label(slug: str) -> str:
    """'sft-mem+ctx@30__grpo-comp' -> 'SFT(Mem+Ctx@30%)->RL(Comp)', the paper's notation."""
    method = {v: k for k, v in METHODS.items()}
    data = {v: k for k, v in DATASETS.items()}
    return "->".join(f"{method[s.method]}({'+'.join(data[d] for d in s.data)}"
                     f"{f'@{s.share}%' if s.share != 100 else ''})" for s in slug_steps(slug))


def rl_pairs(recipes: list[str]) -> list[tuple[str, str]]:
    """(model before the last RL stage, model after it) of every recipe that ends in RL."""
    out = {}
    for label in recipes:
        steps = parse_recipe(label)
        if steps[-1].method == "grpo" and len(steps) > 1:
            out[chain_slug(steps)] = chain_slug(steps[:-1])
    return [(base, rl) for rl, base in out.items()]


def canonical_recipes(labels: list[str], where: str) -> list[str]:
    """Each recipe in the one spelling the tables use ('SFT(Mem + Ctx)' -> 'SFT(Mem+Ctx)'); two
    spellings of one recipe are an error."""
    out = [chain_label(chain_slug(parse_recipe(label))) for label in labels]
    twice = sorted({c for c in out if out.count(c) > 1})
    if twice:
        raise ConfigError(f"{where}: recipes lists {twice[0]} more than once (in different spellings); keep one")
    return out


def model_chains(recipes: list[str]) -> list[str]:
    """Every model the recipes need, prefixes included, each once (shared prefixes train once)."""
    out: dict[str, None] = {}
    for label in recipes:
        steps = parse_recipe(label)
        for i in range(1, len(steps) + 1):
            out[chain_slug(steps[:i])] = None
    return list(out)


# ---- the paper's other experiments: which recipes belong to them (src/analysis/render.py)
ATOMIC_SFT = Step("sft", ("mem", "ctx"))


def _label(steps: list[Step]) -> str:
    return chain_label(chain_slug(steps))  # the label metrics.csv uses, however the recipe was spelled


def same_questions_recipes(recipes: list[str]) -> list[str]:
    """SFT, LoRA or RL on Comp from SFT(Mem+Ctx): the paper's comparison on the same 12.8k questions."""
    out = []
    for r in recipes:
        steps = parse_recipe(r)
        if len(steps) == 2 and steps[0] == ATOMIC_SFT and steps[1].data == ("comp",):
            out.append(_label(steps))
    return out


def share_recipes(recipes: list[str]) -> dict[int, tuple[str, str]]:
    """{percent of the atomic data: (SFT base, recipe)} for SFT(Mem+Ctx@N%)->RL(Comp), 100% included;
    empty unless at least two shares are declared."""
    out = {}
    for r in recipes:
        steps = parse_recipe(r)
        if (len(steps) == 2 and steps[0].method == "sft" and steps[0].data == ATOMIC_SFT.data
                and steps[1] == Step("grpo", ("comp",))):
            out[steps[0].share] = (_label(steps[:1]), _label(steps))
    return dict(sorted(out.items())) if len(out) > 1 else {}
