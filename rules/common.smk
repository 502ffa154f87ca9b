# Loads params.yaml through the same validator the entry points use (src/config.py, with its JSON
# schema): a wrong key or value stops the workflow here, before any job starts.
import sys

import yaml

sys.path.insert(0, workflow.basedir)
from src.config import ConfigError, chain_slug, load_params, recipe_slugs, slug_steps


def _load():
    on_disk = yaml.safe_load(open("params.yaml"))
    # DVC reads params.yaml only; a --configfile/--config that changes other keys would make the two
    # tools run different studies, so only `preset` may be set on the command line.
    changed = sorted(k for k in set(config) | set(on_disk) if k != "preset" and config.get(k) != on_disk.get(k))
    if changed:
        raise ConfigError(f"--config/--configfile may only set `preset`; edit params.yaml (or add a preset "
                          f"there) to change: {', '.join(changed)}")
    return load_params("params.yaml", config.get("preset"))


CFG = _load()
PRESET = CFG["preset"]
RESULTS = f"results/{PRESET}"
SEEDS = CFG["seeds"]
FINAL_MODELS = sorted(set(recipe_slugs(CFG).values()))
EVALUATED_MODELS = ["inject"] + FINAL_MODELS  # every recipe's model and their common base
ENV = "../envs/pipeline.yaml"


CHAIN = r"[a-z]+-[a-z+]+(__[a-z]+-[a-z+]+)*"  # a model folder named after its stage chain


wildcard_constraints:
    seed=r"\d+",
    chain=CHAIN,


def steps_of(chain):
    """'sft-mem+ctx__grpo-comp' -> parent model folder, training tasks of the last step."""
    steps = slug_steps(chain)
    return chain_slug(steps[:-1]) or "inject", " ".join(steps[-1].data)
