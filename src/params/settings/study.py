"""params.yaml as a whole: the study's own keys and every section, in the file's order (what planning
validates and documents, and what the report prints)."""
from __future__ import annotations

from .declare import param, section
from .evaluation import Evaluation
from .findings import Finding
from .generic import Generic
from .grpo import GRPO
from .inject import Inject
from .model import Model
from .pools import Pool
from .questions import Questions
from .resources import Resources
from .sft import SFT
from .world import World


@section
class Training:
    inject: Inject = param("knowledge injection: causal LM on the parametric biographies")
    sft: SFT = param("supervised fine-tuning (TRL SFTTrainer), loss on the completion only")
    grpo: GRPO = param("reinforcement learning (TRL GRPOTrainer), reward = exact match of the final answer")


@section
class Params:
    preset: str = param("the preset merged over the defaults (a key of `presets`); its results go to "
                        "results/PRESET/", pattern="^[A-Za-z0-9_-]+$")
    seeds: list[int] = param("training seeds; every recipe is trained once per seed", min_items=1, unique=True,
                             minimum=0)
    recipes: list[str] = param("the models to train, in the paper's notation, e.g. SFT(Mem+Ctx)->RL(Comp); stages "
                               "SFT, LoRA, RL; data Mem, Ctx, Comp; an SFT share as SFT(Mem+Ctx@30%)", min_items=1,
                               unique=True)
    world: World = param("the synthetic biography world")
    questions: Questions = param("the Mem, Ctx and Comp question sets")
    generic: Generic = param("the generic language stage, a deviation off by default: a separate world a "
                             "from-scratch model trains on before knowledge injection")
    model: Model = param("the model every recipe starts from")
    training: Training = param("the three training stages")
    resources: Resources = param("scheduling of each kind of job, locally and under SLURM (profiles/slurm)")
    evaluation: Evaluation = param("evaluation of every model")
    # the four below choose what the sweep tables compare and join: no study reads them (operational: no rerun)
    sweep: list[str] = param("presets that `python -m src.analysis.sweep` compares claim by claim", unique=True,
                             operational=True)
    scaling: list[str] = param("presets of one world and regime that differ in the model's size; `python -m "
                               "src.analysis.sweep` draws the claims' figures against their parameter counts "
                               "(results/scaling.md)", unique=True, operational=True)
    findings: list[Finding] = param("comparisons of sweep studies that `python -m src.analysis.sweep` writes up in "
                                    "results/findings.md (and the README)", operational=True)
    pools: list[Pool] = param("studies run one seed per preset (a study too long for one sitting); `python -m "
                              "src.analysis.pool` joins the parts that ran into results/STUDY/", operational=True)
