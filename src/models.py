"""One model, one name: every model a study trains, as one object with its slug, label, seed and folder.

Made from the params (`study_models`); the rules name jobs by `Model.path`, the evaluation writes the
model's identity into its metrics.json, and the tables read it from there, so no one parses paths.
"""
from __future__ import annotations

from dataclasses import dataclass

from .recipes import chain_label, model_chains

# the files that hold a saved model's weights (any one of them): a folder without them cannot be loaded
WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")

BASE_SLUG = "inject"  # the knowledge-injected base: one model for all seeds (the paper's one pretrained model)
BASE_LABEL = "Base (knowledge injection)"


@dataclass(frozen=True)
class Model:
    slug: str  # 'inject', or the chain of stages that made it: 'sft-mem+ctx__grpo-comp'
    seed: int | None = None  # None for the base

    @property
    def label(self) -> str:
        """The paper's notation: 'SFT(Mem+Ctx)->RL(Comp)'."""
        return BASE_LABEL if self.slug == BASE_SLUG else chain_label(self.slug)

    @property
    def path(self) -> str:
        """Its folder under models/, eval/ and passk/: 'inject' or 'seed0/sft-mem+ctx__grpo-comp'."""
        return self.slug if self.seed is None else f"seed{self.seed}/{self.slug}"

    @property
    def args(self) -> str:
        """Its identity on an entry point's command line."""
        return f"--slug {self.slug}" + ("" if self.seed is None else f" --seed {self.seed}")

    def identity(self) -> dict:
        """What its metrics.json says it is."""
        return {"slug": self.slug, "label": self.label, "seed": self.seed}


BASE = Model(BASE_SLUG)


def study_models(seeds: list[int], recipes: list[str]) -> list[Model]:
    """The base, then every recipe and its prefixes for every seed (shared prefixes once)."""
    return [BASE] + [Model(chain, seed) for seed in seeds for chain in model_chains(recipes)]


def label_order(recipes: list[str]) -> list[str]:
    """Labels in table order: the base, the recipes as listed, then the intermediate models."""
    return [BASE_LABEL] + list(dict.fromkeys(recipes + [chain_label(c) for c in model_chains(recipes)]))


def curve_models(seeds: list[int], recipes: list[str]) -> list[Model]:
    """The models whose training curves the report draws and dvc plots show: the base and every model of
    the first seed."""
    return [BASE] + [Model(chain, seeds[0]) for chain in model_chains(recipes)]
