"""One model, one name, one lineage: every model a study trains, as one object with its slug, label, seed,
folder, the model it starts from and what its stage does.

Made from the params (`study_models`); the rules name jobs by `Model.path` and ask a model for its parent,
its stage's flags and the folders loading it reads; the evaluation writes the model's identity into its
metrics.json, and the tables read it from there. `Model.at` is the one place a folder name is read back.
"""
from __future__ import annotations

from dataclasses import dataclass

from .recipes import Step, chain_label, chain_slug, model_chains, slug_steps

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

    @classmethod
    def at(cls, path: str) -> Model:
        """The model whose folder under models/ is `path` ('inject' or 'seed0/<chain>')."""
        if path == BASE_SLUG:
            return cls(BASE_SLUG)
        seed, slug = path.split("/", 1)
        return cls(slug, int(seed.removeprefix("seed")))

    @property
    def step(self) -> Step | None:
        """Its stage: SFT, LoRA or GRPO on some tasks; None for the base (knowledge injection)."""
        return None if self.slug == BASE_SLUG else slug_steps(self.slug)[-1]

    @property
    def parent(self) -> Model | None:
        """The model its stage starts from: 'sft-mem+ctx__grpo-comp' from 'sft-mem+ctx', a first stage from the
        base; None for the base (it starts from a new, generic or pretrained model)."""
        if self.slug == BASE_SLUG:
            return None
        prefix = chain_slug(slug_steps(self.slug)[:-1])
        return Model(prefix, self.seed) if prefix else Model(BASE_SLUG)

    @property
    def tasks(self) -> tuple[str, ...]:
        """Its stage's training data: ('mem', 'ctx')."""
        return self.step.data

    def saves_adapter(self, lora_everywhere: bool) -> bool:
        """Whether its stage saves a LoRA adapter instead of full weights: `model.lora.enabled` (every stage),
        or a LoRA(...) stage."""
        return lora_everywhere or (self.step is not None and self.step.method == "lora")

    def loads(self, lora_everywhere: bool) -> tuple[list[Model], bool]:
        """The folders that loading it reads besides its own: an adapter is put back over the model its stage
        started from, and that over its own start, down to full weights (src/model_io.py load_model
        follows the same chain through each adapter's config). Also whether the chain goes below the base
        (the base saved an adapter over the generic model or the pretrained checkpoint)."""
        found, model = [], self
        while model.saves_adapter(lora_everywhere):
            if model.parent is None:
                return found, True
            model = model.parent
            found.append(model)
        return found, False

    @property
    def sft_flags(self) -> str:
        """Flags of its SFT entry point: LoRA(...) trains an adapter; @N% takes a share of the questions; an
        SFT or LoRA stage after another trains on RL's question set, so SFT, LoRA and RL from one base compare
        on the same questions. Each with its leading space: none, no double space."""
        options = ["--lora"] if self.step.method == "lora" else []
        options += [f"--share {self.step.share / 100}"] if self.step.share != 100 else []
        options += ["--rl-questions"] if self.parent.slug != BASE_SLUG else []
        return "".join(f" {o}" for o in options)

    @property
    def settings_stage(self) -> str:
        """Which stage's settings its job reads (src/params/stages.py): an SFT stage after another also reads how
        many questions RL takes."""
        if self.step is None:
            return "inject_knowledge"
        if self.step.method == "grpo":
            return "train_grpo"
        return "train_sft_rl_questions" if self.parent.slug != BASE_SLUG else "train_sft"


BASE = Model(BASE_SLUG)


def study_models(seeds: list[int], recipes: list[str]) -> list[Model]:
    """The base, then every recipe and its prefixes for every seed (shared prefixes once)."""
    return [BASE] + [Model(chain, seed) for seed in seeds for chain in model_chains(recipes)]


def reading_models(seeds: list[int], recipes: list[str]) -> list[Model]:
    """The models whose reading is probed (src/evaluation/reading.py): every SFT or LoRA stage from the base
    that trained on Ctx, every seed."""
    return [m for m in study_models(seeds, recipes)[1:]
            if m.step.method != "grpo" and "ctx" in m.tasks and m.parent.slug == BASE_SLUG]


def label_order(recipes: list[str]) -> list[str]:
    """Labels in table order: the base, the recipes as listed, then the intermediate models."""
    return [BASE_LABEL] + list(dict.fromkeys(recipes + [chain_label(c) for c in model_chains(recipes)]))


def curve_models(seeds: list[int], recipes: list[str]) -> list[Model]:
    """The models whose training curves the report draws and dvc plots show: the base and every model of
    the first seed."""
    return [BASE] + [Model(chain, seeds[0]) for chain in model_chains(recipes)]
