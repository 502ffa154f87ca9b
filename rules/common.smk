# Loads and checks params.yaml (src/params/check.py: the schema from src/params/settings/, then cross.py):
# a wrong key or value stops the workflow here, before any job starts; jobs read it unchecked.
import json
from pathlib import Path
import sys

sys.path.insert(0, workflow.basedir)
from src.workflow.code_deps import code  # a rule's code inputs: the source files its entry points import
from src.params.check import ConfigError, load_params
from src.devices import gpu_plan_note, torch_build
from src.io import damaged  # finished outputs whose content changed since their job
from src.data.lengths import length_errors  # a light import: no torch at planning
from src.recipes import rl_pairs, share_recipes
from src.analysis.outputs import OUTPUTS  # the report's outputs, declared once
from src.models import BASE as BASE_MODEL, Model, reading_models, study_models
from src.data.questions import LEVELS  # the three generalization levels
from src.params.stages import tracked  # what each rule's script reads of params.yaml: its `params: settings=`


def _load():
    # DVC reads params.yaml only; a --configfile/--config that set other keys would make the two tools run
    # different studies, so only `preset` may be set on the command line.
    changed = sorted(k for k in config if k != "preset")
    if changed:
        raise ConfigError(
            f"--config/--configfile may only set `preset`; edit params.yaml (or add a preset "
            f"there) to change: {', '.join(changed)}"
        )
    cfg = load_params("params.yaml", config.get("preset"))
    # a finished study's measured lengths against its max_length settings, here and not only in the
    # check_lengths job: that job would first delete lengths.json, and every model after it would rerun
    lengths = Path("results") / cfg["preset"] / "checks" / "lengths.json"
    if lengths.exists():
        t = cfg["training"]
        bad = length_errors(json.loads(lengths.read_text()), t["inject"]["max_length"], t["sft"]["max_length"])
        if bad:
            raise ConfigError("the data is longer than the settings allow\n" + "\n".join(bad))
    return cfg


try:
    CFG = _load()
except ConfigError as e:  # the message alone: it names the key, its value and what would be valid
    sys.exit(f"Error in params.yaml, nothing was run:\n{e}")
PRESET = CFG["preset"]
RESULTS = f"results/{PRESET}"
# Snakemake judges finished outputs by their timestamps: one cut or overwritten afterwards would be read as
# whole. Their content hashes (src/io.py) are checked here, by the main process (cluster jobs re-read this).
if workflow.is_main_process and (_bad := damaged(RESULTS)):
    sys.exit(
        "Finished outputs changed after their jobs ended, nothing was run:\n  "
        + "\n  ".join(_bad)
        + "\nthen rerun: Snakemake rebuilds what was deleted and everything made from it."
    )
SEEDS = CFG["seeds"]
# the rules' conda environment: the CPU or CUDA build of torch, chosen as setup.sh chooses it
ENV = "../envs/pipeline-cuda.yaml" if torch_build() == "cuda" else "../envs/pipeline.yaml"

STAGE = r"[a-z]+-[a-z+]+(@\d+)?"  # e.g. sft-mem+ctx, sft-mem+ctx@30 (30% of the questions), grpo-comp
CHAIN = rf"{STAGE}(__{STAGE})*"  # a model folder named after its stage chain
BASE = BASE_MODEL.path  # the knowledge-injected base model, one for all seeds (the paper's one pretrained model)
GENERIC = CFG["generic"]["enabled"]  # the generic language stage before knowledge injection (a deviation)
GENERIC_MODEL = "generic"
# Every model the study trains, by its folder relative to models/ (src/models.py: the base, or
# seed<N>/<chain> for every recipe and its prefixes)
MODELS = {m.path: m for m in study_models(SEEDS, CFG["recipes"])}
EVALUATED = list(MODELS)
# pass@k and error localisation compare every RL model with the model it started from (first seed).
PASSK_SEEDS = SEEDS[: CFG["evaluation"]["passk"]["seeds"]]
PASSK_MODELS = sorted({f"seed{s}/{m}" for s in PASSK_SEEDS for pair in rl_pairs(CFG["recipes"]) for m in pair})
# where RL moves the hidden states: every RL(Comp) model of the first seed, against the model it started from
SHIFT_STARTS = {
    f"seed{SEEDS[0]}/{rl}": f"seed{SEEDS[0]}/{base}"
    for base, rl in rl_pairs(CFG["recipes"])
    if rl.endswith("grpo-comp")
}

# whether each SFT model that learned Ctx reads its prompt (src/evaluation/reading.py)
READING = [m.path for m in reading_models(SEEDS, CFG["recipes"])]


# The report's outputs (src/analysis/outputs.py); a figure of something the study lacks (share recipes, RL(Comp)
# to take hidden-state shifts of) is not one. One with a caption is shown by `snakemake --report`.
def _report_output(o):
    path = f"{RESULTS}/{o.path}"
    return report(path, caption=f"../report/{o.caption}.rst", category=o.category) if o.caption else path


HAS = {"share": bool(share_recipes(CFG["recipes"])), "shifts": bool(SHIFT_STARTS)}
REPORT_OUTPUTS = {o.name: _report_output(o) for o in OUTPUTS if o.needs is None or HAS[o.needs]}


wildcard_constraints:
    seed=r"\d+",
    chain=CHAIN,
    model=rf"{BASE}|seed\d+/{CHAIN}",


LORA = CFG["model"]["lora"]["enabled"]  # every stage trains a LoRA adapter


# A model's lineage is src/models.py's (Model.parent, .loads, .tasks, .sft_flags, .settings_stage): the
# rules only turn its answers into folders.
def model_of(wildcards):
    """The model a training job writes, from its wildcards."""
    return Model(wildcards.chain, int(wildcards.seed))


def folder(model):
    return f"{RESULTS}/models/{model.path}"


def parent_dir(wildcards):
    return folder(model_of(wildcards).parent)


def loaded_with(model):
    """The folders that loading `model` (a Model, or its folder under models/) reads besides its own: the
    models under its adapters, down to full weights, and the generic model or the pretrained checkpoint where
    the base itself is an adapter. Inputs of every rule that loads `model`, so both tools see them."""
    found, below_base = (MODELS[model] if isinstance(model, str) else model).loads(LORA)
    extra = [folder(Model(GENERIC_MODEL))] if GENERIC else pretrained_inputs().get("pretrained", [])
    return [folder(m) for m in found] + (extra if below_base else [])


# `--resources gpu=N` beyond this machine's devices: said once, so a CPU fallback does not pass for a GPU run
if workflow.is_main_process and workflow.local_exec:
    _gpu = workflow.global_resources.get("gpu")
    if _note := gpu_plan_note(getattr(_gpu, "value", _gpu)):
        print(f"Note: {_note}", file=sys.stderr)


onstart:
    # on a SLURM cluster, refuse before the first submission a job that no node could ever run
    if workflow.executor_plugin is not None and workflow.executor_plugin.name == "slurm":
        from src.workflow.cluster import KINDS, slurm_nodes, unsatisfiable

        problems = unsatisfiable(CFG, {k: threads_of(k) for k in KINDS}, slurm_nodes())
        if problems:
            sys.exit("Error in params.yaml for this cluster, nothing was submitted:\n" + "\n".join(problems))


# GPUs a training job trains on: more than one runs it data parallel (src/training/launch.py)
LAUNCH_GPUS = {kind: CFG["resources"][kind]["gpus"] for kind in ("inject", "train")}


def threads_of(kind):
    """A rule's threads, from params.yaml `resources.<kind>.threads` (SLURM: its cpus per task), at most
    `resources.max_threads`."""
    cap = CFG["resources"]["max_threads"]
    return min(CFG["resources"][kind]["threads"], cap or CFG["resources"][kind]["threads"])


def pretrained_inputs():
    """A local pretrained checkpoint is an input of the stages that load it, file by file: replacing its
    weights reruns them (Snakemake compares the files' times, DVC their contents); {} from scratch."""
    folder = CFG["model"]["pretrained"]
    return {"pretrained": sorted(str(f) for f in Path(folder).rglob("*") if f.is_file())} if folder else {}


def resources_of(kind):
    """A rule's resources, from params.yaml `resources.<kind>`: `gpu` is both the local counter that
    `--resources gpu=N` bounds and the SLURM plugin's GPU request; account and partitions apply on SLURM."""
    res, job = CFG["resources"], CFG["resources"][kind]
    out = {"mem_mb": job["mem_mb"], "runtime": job["runtime_min"]}
    if job["gpus"] and res["use_gpus"]:  # a CPU-only cluster (use_gpus: false) is asked for no GPU
        out["gpu"] = job["gpus"]
        if res["gpu_model"]:
            out["gpu_model"] = res["gpu_model"]
    partition = res["gpu_partition"] if "gpu" in out else res["partition"]
    if partition:
        out["slurm_partition"] = partition
    if res["account"]:
        out["slurm_account"] = res["account"]
    return out
