"""The whole DAG on the smoke preset, for real: Snakemake (killed twice, then resumed), DVC, and a real
SLURM cluster."""
import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from src.io import atomic_dir
from src.params.check import load_params
from src.recipes import chain_label, model_chains

from . import slurm_cluster
from .conftest import ROOT, copy_workflow, run, use_preset

pytestmark = pytest.mark.slow
SMOKE = ["--config", "preset=smoke"]


def processes(work: Path, module: str) -> list:
    """Running processes of this workflow copy whose command line runs `module`."""
    import psutil
    out = []
    for p in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if p.info["cwd"] == str(work) and any(module in part for part in p.info["cmdline"] or []):
                out.append(p)
        except psutil.Error:
            continue
    return out


def wait_for(condition, proc, seconds=600):
    deadline = time.time() + seconds
    while not condition() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    return condition()


@pytest.fixture(scope="module")
def snakemake_run(tmp_path_factory):
    """The smoke study, killed twice: `kill -9` of a training job mid-stage (Snakemake stops, the job
    failed), then, in the next run, `kill -9` of Snakemake's whole process group; the run after that is
    refused for Snakemake's lock, `snakemake --unlock` is the way out, and it finishes the study."""
    work = copy_workflow(tmp_path_factory.mktemp("snakemake"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    def start():
        return subprocess.Popen(["snakemake", "--cores", "2", *SMOKE], cwd=work, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
    inject = work / "results/smoke/models/inject"
    first = start()
    assert wait_for(lambda: processes(work, "src.training.sft"), first), "no SFT job started"
    assert inject.exists(), "knowledge injection had not finished before SFT"
    time.sleep(2)  # into training
    job = processes(work, "src.training.sft")[0]
    job.kill()
    killed_job_log = first.communicate(timeout=600)[0]
    stamps = {p: p.stat().st_mtime_ns for p in (work / "results/smoke/data", inject)}
    second, started = start(), time.time()
    locked = work / ".snakemake/locks"
    assert wait_for(lambda: list(locked.glob("*.lock")) and
                    [p for p in processes(work, "src.training") if p.create_time() >= started], second), \
        "the second run trained nothing"
    time.sleep(2)
    os.killpg(second.pid, signal.SIGKILL)  # Snakemake and its jobs, as a crash or the OOM killer would
    second.wait(timeout=60)
    refused = run(["snakemake", "--cores", "2", *SMOKE], work, check=False)
    run(["snakemake", "--unlock", *SMOKE], work)
    resumed = run(["snakemake", "--cores", "2", *SMOKE], work)
    return {"work": work, "first": first.returncode, "killed_job_log": killed_job_log, "stamps": stamps,
            "refused": refused, "resumed": resumed.stdout + resumed.stderr}


def test_killed_runs_resume_without_redoing_finished_stages(snakemake_run):
    assert snakemake_run["first"] != 0 and "Error in rule train_sft" in snakemake_run["killed_job_log"]
    refused = snakemake_run["refused"]
    assert refused.returncode != 0 and "--unlock" in refused.stdout + refused.stderr  # the lock, and the way out
    for path, stamp in snakemake_run["stamps"].items():
        assert path.stat().st_mtime_ns == stamp, f"{path} was rebuilt after the kills"
    assert "rule inject_knowledge" not in snakemake_run["resumed"]
    assert "rule train_sft" in snakemake_run["resumed"] or "rule train_grpo" in snakemake_run["resumed"]
    results = snakemake_run["work"] / "results/smoke"
    leftovers = list(results.rglob("*.partial-*")) + list(results.rglob("*.trainer"))
    assert leftovers == [], f"half-written outputs left behind: {leftovers}"


def test_results_table_and_metrics(snakemake_run):
    work = snakemake_run["work"]
    cfg = load_params(work / "params.yaml", "smoke")
    with open(work / "results/smoke/metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["model", "seed", "task", "level", "accuracy", "n"]
    # every model of every seed plus the injected base (once), each task at each level, plus fact recall
    assert len(rows) == (len(model_chains(cfg["recipes"])) * len(cfg["seeds"]) + 1) * (3 * 3 + 1)
    assert {r["model"] for r in rows} == set(cfg["recipes"]) | {"Base (knowledge injection)"}
    assert {r["seed"] for r in rows} == {""} | {str(s) for s in cfg["seeds"]}
    assert all(0 <= float(r["accuracy"]) <= 1 and int(r["n"]) > 0 for r in rows)
    table = (work / "results/smoke/results.md").read_text()
    for label in cfg["recipes"]:
        assert f"| {label} |" in table
    assert "50.87" in table  # the paper's Zero-shot number of SFT(Mem+Ctx)->RL(Comp) stands beside ours
    assert " ± " in table  # two seeds: means with confidence intervals


def test_report_figures_and_analyses(snakemake_run):
    out = snakemake_run["work"] / "results/smoke"
    report = (out / "REPORT.md").read_text()
    for section in ("## The paper's claims", "## pass@k", "## Error localisation", "## Where the atomic skills fail",
                    "## RL's learning signal", "## Speed", "## How this was produced", "## Accuracy by path length",
                    "The claims on the standardized accuracies"):
        assert section in report
    steps = load_params(snakemake_run["work"] / "params.yaml", "smoke")["training"]["grpo"]["steps"]
    for recipe in ("SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)"):  # two seeds of GRPO steps, each logged
        assert re.search(rf"\| {re.escape(recipe)} \| 2 \| \d+\.\d \| \d+ of {2 * steps} \|", report)
    assert "1. SFT generalization paradox" in report and "**" in report  # a verdict per claim
    for png in ("figures/passk.png", "figures/comp_levels.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "passk.csv") as f:
        pk = list(csv.DictReader(f))
    cfg = load_params(snakemake_run["work"] / "params.yaml", "smoke")
    n = cfg["evaluation"]["passk"]["samples"]
    assert {int(r["k"]) for r in pk} == set(range(1, n + 1))
    assert {r["recipe"] for r in pk} == {"SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)"}
    with open(out / "passk_samples.csv") as f:  # per question, so the verdicts can be recomputed later
        samples = list(csv.DictReader(f))
    assert len(samples) == 2 * 2 * 3 * cfg["evaluation"]["passk"]["questions"]  # RL recipes x sides x levels
    assert all(0 <= int(s["c"]) <= int(s["n"]) == n for s in samples)
    assert re.search(r"\| SFT\(Comp\)->RL\(Comp\) \| Zero-shot \| 2 \| [+-]\d", report)
    with open(out / "atomic_errors.csv") as f:  # SFT(Mem+Ctx)'s wrong Mem and Ctx answers, by kind
        atomic = list(csv.DictReader(f))
    assert {(r["seed"], r["task"]) for r in atomic} == {(s, t) for s in ("seed0", "seed1") for t in ("mem", "ctx")}
    for r in atomic:
        assert int(r["wrong"]) <= int(r["questions"])
        assert int(r["value"]) + int(r["step"]) + int(r["answer"]) == int(r["wrong"]) >= int(r["first_hop"])
        # each wrong value read from the prompt is traced to one source; Mem reads none
        sources = sum(int(v) for k, v in r.items() if k.startswith("value: "))
        assert sources == (int(r["value"]) if r["task"] == "ctx" else 0)
    gen = json.loads((out / "speed/generation.json").read_text())
    assert gen["batched_s"] > 0 and gen["one_at_a_time_s"] > 0
    # pass@k at a larger n, timed on one question per level (smoke: n = 8), and what it would cost in the report
    assert (gen["passk_sampling"]["questions"], gen["passk_sampling"]["samples"]) == (3, 8)
    assert json.loads((out / "headline.json").read_text())["parameters"] > 0  # the scaling table's x axis
    assert "### What a larger n costs\n\nDrawing n = 8 completions" in report
    # where RL moves the hidden states: every RL(Comp) model of seed 0, every layer, the three position kinds
    assert "## Where RL moves the hidden states" in report and (out / "figures/hidden_shifts.png").exists()
    with open(out / "hidden_shifts.csv") as f:
        shifts = list(csv.DictReader(f))
    layers = 1 + 1  # the smoke model's one block, and the embeddings
    assert sorted(r["model"] for r in shifts) == sorted(["SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)"] * layers)
    assert all(float(r["prompt"]) >= 0 and float(r["recalled"]) >= 0 and float(r["read"]) >= 0 for r in shifts)
    # the headline (`dvc metrics show`): a verdict per claim, and what the study cost
    head = json.loads((out / "headline.json").read_text())
    assert set(head["claims"]) == {"1", "2", "3", "4"} and head["job_minutes"] > 0 and head["machine"]
    assert head["wall_minutes"] > 0  # Snakemake's benchmark files date every job
    # pass@k for `dvc plots show`: a column per model, the ones dvc.yaml's plots name
    from src.workflow.export_dvc import build
    plots = {k: v for p in yaml.safe_load(build("smoke", snakemake_run["work"] / "params.yaml"))["plots"]
             if isinstance(p, dict) for k, v in p.items()}
    # every figure the report drew is one `dvc plots show` shows
    assert {f"results/smoke/figures/{f.name}" for f in (out / "figures").glob("*.png")} <= set(
        p for p in yaml.safe_load(build("smoke", snakemake_run["work"] / "params.yaml"))["plots"] if isinstance(p, str))
    with open(out / "path_length.csv") as f:  # every evaluated model and seed, by task, level and path length
        by_length = list(csv.DictReader(f))
    assert {int(r["hops"]) for r in by_length} >= {2} and all(0 <= int(r["correct"]) <= int(r["n"]) for r in by_length)
    # the training curves' data beside the figure: every curve model's loss or reward, redrawn from the CSV alone
    with open(out / "training_curves.csv") as f:
        logged = list(csv.DictReader(f))
    from src.models import curve_models
    assert {r["model"] for r in logged} == {m.label for m in curve_models(cfg["seeds"], cfg["recipes"])}
    assert {r["metric"] for r in logged} == {"loss", "reward", "reward_std"}
    run([sys.executable, "-m", "src.analysis.curves", str(out / "training_curves.csv"), "--out",
         str(out / "redrawn.png")], snakemake_run["work"])
    assert (out / "redrawn.png").read_bytes() == (out / "figures/training_curves.png").read_bytes()
    (out / "redrawn.png").unlink()
    for lv in ("iid", "composition", "zero_shot"):
        with open(out / f"passk_{lv}.csv") as f:
            curves = list(csv.DictReader(f))
        assert len(curves) == n  # k = 1..n
        assert list(curves[0]) == ["k", *plots[f"pass@k (%), Comp {lv}"]["y"][f"results/smoke/passk_{lv}.csv"]]


def test_models_and_predictions_are_saved(snakemake_run):
    work = snakemake_run["work"]
    cfg = load_params(work / "params.yaml", "smoke")
    stats = json.loads((work / "results/smoke/data/stats.json").read_text())
    n_test = sum(v for k, v in stats.items() if not k.endswith("/train"))
    for slug in model_chains(cfg["recipes"]):
        model = work / f"results/smoke/models/seed0/{slug}"
        assert chain_label(slug) in cfg["recipes"]
        assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in model.iterdir()}
        preds = (work / f"results/smoke/eval/seed0/{slug}/predictions.jsonl").read_text().splitlines()
        assert len(preds) > n_test  # every test question, then the fact-recall probe
        assert set(json.loads(preds[0])) == {"id", "task", "level", "generation", "prediction", "correct"}
        # each evaluation names its own model, so the tables never parse folder names
        metrics = json.loads((work / f"results/smoke/eval/seed0/{slug}/metrics.json").read_text())
        assert metrics["model"] == {"slug": slug, "label": chain_label(slug), "seed": 0}


def test_snakemake_report_shows_the_study(snakemake_run, tmp_path):
    """`snakemake --report`: the tables and figures marked with report(), each with its caption."""
    html = tmp_path / "report.html"
    run(["snakemake", "--report", str(html), *SMOKE], snakemake_run["work"])
    text = html.read_text()
    for name in ("REPORT.md", "metrics.csv", "results.md", "passk.csv", "passk.png", "comp_levels.png", "speed.csv"):
        assert name in text, name
    assert "largest k means RL" in text  # the pass@k figure's caption (report/passk.rst)


def test_a_finished_study_has_nothing_to_do(snakemake_run):
    out = run(["snakemake", "--cores", "2", "-n", *SMOKE], snakemake_run["work"])
    assert "Nothing to be done" in out.stdout + out.stderr


def test_a_finished_output_damaged_afterwards_is_named_on_the_next_run(snakemake_run):
    """A file cut or overwritten after its job finished keeps its timestamp's verdict ("Nothing to be done"):
    the content hashes written with it (src/io.py) name it, and what to delete, before anything runs."""
    results = snakemake_run["work"] / "results/smoke"
    victims = [results / "data/qa_comp.jsonl", results / "models/inject/model.safetensors",
               next(results.glob("eval/seed*/*/metrics.json"))]
    kept = {f: (f.read_bytes(), f.stat()) for f in victims}
    try:
        cut = victims[0].read_text().splitlines(keepends=True)
        victims[0].write_text("".join(cut[: len(cut) // 2]))  # cut at a line boundary: still valid JSON lines
        weights = bytearray(victims[1].read_bytes())
        weights[-64:] = b"\x7f" * 64  # bytes over the last tensor: the file still loads
        victims[1].write_bytes(bytes(weights))
        victims[2].write_text(victims[2].read_text().replace('"accuracy"', '"accuracy" ', 1))
        out = run(["snakemake", "--cores", "2", "-n", *SMOKE], snakemake_run["work"], check=False)
        said = out.stdout + out.stderr
        assert out.returncode != 0 and "Nothing to be done" not in said
        for f in victims:
            assert f"{f.relative_to(snakemake_run['work'])}: changed since the job" in said, said
        assert "(delete results/smoke/data)" in said and "(delete results/smoke/models/inject)" in said
    finally:
        for f, (data, st) in kept.items():
            f.write_bytes(data)
            os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert "Nothing to be done" in run(["snakemake", "--cores", "2", "-n", *SMOKE], snakemake_run["work"]).stdout


def test_jobs_say_where_they_run_and_planning_says_what_gpus_mean(snakemake_run):
    """Each training and evaluation job's first log line names its device, threads and precision; asking
    for GPUs this machine lacks is said once at planning (PIPELINE_GPU_COUNT=0 simulates a machine without)."""
    logs = snakemake_run["work"] / "results/smoke/logs"
    jobs = [f for f in logs.rglob("*.log") if f.name not in ("generate_data.log", "build_tokenizer.log",
                                                              "check_lengths.log", "tables.log", "report.log",
                                                              "benchmark_matmul.log")]
    assert len(jobs) > 10
    for f in jobs:
        first = next(line for line in f.read_text().splitlines() if " INFO " in line)
        assert re.search(r"INFO runs on (CPU|GPU) .*; \d+ thread\(s\); precision (fp32|bf16)", first), (f, first)
    out = run(["snakemake", "-n", "--cores", "2", "--resources", "gpu=4", *SMOKE], snakemake_run["work"],
              env={"PIPELINE_GPU_COUNT": "0"})
    said = out.stdout + out.stderr
    assert said.count("--resources gpu=4, but this machine has no GPU") == 1, said[-2000:]


@pytest.fixture(scope="module")
def dvc_run(snakemake_run, tmp_path_factory):
    """The smoke study reproduced by `dvc repro` in a copy of the workflow, beside Snakemake's run."""
    work = copy_workflow(tmp_path_factory.mktemp("dvc") / "dvc")
    use_preset(work, "smoke")  # DVC runs the preset params.yaml names, exported
    run([sys.executable, "-m", "src.workflow.export_dvc"], work)
    run(["dvc", "init", "--no-scm", "-q"], work)
    cache_type = re.search(r"^\s*type = (.+)$", (ROOT / ".dvc/config").read_text(), re.M).group(1)
    run(["dvc", "config", "cache.type", cache_type], work)  # the repository's cache settings
    run(["dvc", "repro", "-q"], work, timeout=1200)
    return {"work": work, "ours": work / "results/smoke", "theirs": snakemake_run["work"] / "results/smoke"}


def test_dvc_repro_runs_the_same_study(dvc_run):
    """dvc repro, from the same params, gives byte-identical data and identical CPU metrics and hidden-state shifts."""
    ours, theirs = dvc_run["ours"], dvc_run["theirs"]
    for name in ("facts.jsonl", "qa_comp.jsonl", "biographies.jsonl"):
        assert (ours / "data" / name).read_bytes() == (theirs / "data" / name).read_bytes()
    assert (ours / "metrics.csv").read_text() == (theirs / "metrics.csv").read_text()
    assert (ours / "passk.csv").read_text() == (theirs / "passk.csv").read_text()
    assert (ours / "hidden_shifts.csv").read_text() == (theirs / "hidden_shifts.csv").read_text()


def test_dvc_metrics_and_plots_show_the_claims_and_the_curves(dvc_run, tmp_path):
    work = dvc_run["work"]
    shown = run(["dvc", "metrics", "show", "--json"], work).stdout
    assert '"verdict"' in shown and "job_minutes" in shown  # headline.json: the claims and the cost
    run(["dvc", "plots", "show", "-o", str(tmp_path / "plots")], work)
    html = (tmp_path / "plots" / "index.html").read_text()
    for title in ("pass@k (%), Comp zero_shot", "training loss (injection, SFT)", "GRPO reward"):
        assert title in html, title  # pass@k a curve per model; the trainers' dvclive curves


def test_the_dvc_cache_holds_one_copy_of_each_checkpoint(dvc_run):
    """After relinking, a checkpoint is a link to its one copy in the cache (DVC copies a directory output
    into the cache when a stage writes it); no intermediate checkpoints are left."""
    work, ours = dvc_run["work"], dvc_run["ours"]
    run(["dvc", "checkout", "--relink", "-q"], work)
    weights = sorted((ours / "models").rglob("model.safetensors"))
    # >= 2: the cache's copy and this file (more when stages wrote identical weights: still one copy)
    assert weights and all(w.stat().st_nlink >= 2 for w in weights)
    assert not list(ours.rglob("checkpoint-*")) and not list(ours.rglob("*.trainer"))


def test_a_dvc_remote_restores_the_study_in_a_fresh_clone(dvc_run, tmp_path):
    """Push to a local remote, lose the results and the cache, pull: the same metrics, nothing to rerun."""
    work, ours = dvc_run["work"], dvc_run["ours"]
    expected = (ours / "metrics.csv").read_text()
    run(["dvc", "remote", "add", "-d", "local", str(tmp_path / "remote")], work)
    run(["dvc", "push", "-q"], work)
    stages = yaml.safe_load((work / "dvc.yaml").read_text())["stages"]
    in_git = [next(iter(o)) for st in stages.values() for o in st.get("outs", [])  # cache: false outs
              if isinstance(o, dict) and not next(iter(o.values())).get("cache", True)]
    kept = {path: (work / path).read_bytes() for path in in_git}  # tables and report: git keeps them
    shutil.rmtree(work / "results")
    shutil.rmtree(work / ".dvc/cache")
    for path, data in kept.items():  # a fresh clone of the project repository
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_bytes(data)
    run(["dvc", "pull", "-q"], work)
    assert (ours / "metrics.csv").read_text() == expected
    assert "up to date" in run(["dvc", "status"], work).stdout.lower()
    run(["snakemake", "--touch", "--cores", "1", *SMOKE], work)  # pulled files get fresh, unordered mtimes
    plan = run(["snakemake", "-n", *SMOKE], work)
    assert "Nothing to be done" in plan.stdout + plan.stderr, plan.stdout[-2000:]


def test_an_edited_source_file_stales_exactly_the_stages_that_run_it(dvc_run, snakemake_run):
    """In both tools. Snakemake is asked in its own run's folder: DVC does not keep the jobs' benchmark
    files, which the report reads, so in a DVC-made folder Snakemake would rerun every job to remake them."""
    work, smk = dvc_run["work"], snakemake_run["work"]
    stages = yaml.safe_load((work / "dvc.yaml").read_text())["stages"]
    sources = sorted({d for st in stages.values() for d in st["deps"] if d.startswith("src/")})
    assert {"src/training/packing.py", "src/decode.py", "src/params/settings/grpo.py"} <= set(sources)
    # validation runs at planning, so no stage depends on it: editing an error message reruns nothing
    assert not {"src/params/check.py", "src/params/cross.py"} & set(sources)
    # a parameter's declaration (its description) is code of the stages that read it, and of no other
    # (the report, which prints every parameter, reads them all)
    readers = {n.split("-")[0] for n, st in stages.items() if "src/params/settings/grpo.py" in st["deps"]}
    assert readers == {"train_grpo", "report"}
    # one file for each set of stages that run it: how the tools answer an edit depends on that set alone
    # (test_dvc_sync checks that a job's inputs, code included, are the same in both tools)
    by_stages = {}
    for source in sources:
        by_stages.setdefault(frozenset(name for name, st in stages.items() if source in st["deps"]), source)
    for expected, source in sorted(by_stages.items(), key=lambda item: item[1]):
        edits = [(folder / source, (folder / source).stat(), (folder / source).read_bytes()) for folder in (work, smk)]
        for path, _, original in edits:
            path.write_bytes(original + b"\n# an edit\n")
        try:  # both tools at once, each in its own folder
            with ThreadPoolExecutor(2) as pool:
                dvc = pool.submit(run, ["dvc", "status", "--json"], work)
                dry = pool.submit(run, ["snakemake", "-n", *SMOKE], smk)
                stale, planned = set(json.loads(dvc.result().stdout)), planned_outputs(dry.result().stdout)
        finally:
            for path, before, original in edits:
                path.write_bytes(original)
                os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert stale == expected, source  # DVC: the stages whose code runs the file
        # Snakemake: those stages and what follows from their outputs
        assert planned == {o for name in downstream(stages, expected) for o in outs(stages[name])}, source


def test_a_changed_param_stales_only_the_stages_that_read_it(dvc_run):
    """The pass@k sampling reads evaluation.passk, the generation benchmark times sampling at its temperature,
    and the report prints it: nothing else goes stale once exported. Before the export, `dvc repro` refuses
    at its first stage and runs nothing else. A key of the preset's own overlay stales only its readers too."""
    work = dvc_run["work"]
    original = (work / "params.yaml").read_text()
    raw = yaml.safe_load(original)

    def stale_after(edit) -> set[str]:
        edit(raw)
        (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
        refused = run(["dvc", "repro"], work, check=False)
        said = refused.stdout + refused.stderr
        assert refused.returncode != 0 and "changed since dvc.yaml was exported" in said, said[-2000:]
        assert "Running stage 'generate_data'" not in said
        run([sys.executable, "-m", "src.workflow.export_dvc"], work)
        run(["dvc", "repro", "-q", "check_params"], work)  # the refusal removed its stamp; the same one again
        return set(json.loads(run(["dvc", "status", "--json"], work).stdout))

    try:
        stale = stale_after(lambda r: r["evaluation"]["passk"].update(temperature=0.7))
        assert {n for n in stale if not n.startswith("sample_passk")} == {"benchmark_generation", "report"}, \
            sorted(stale)
        assert any(name.startswith("sample_passk") for name in stale), sorted(stale)
        (work / "params.yaml").write_text(original)
        raw = yaml.safe_load(original)
        stale = stale_after(lambda r: r["presets"]["smoke"]["training"]["grpo"].update(steps=3))
        assert {n.split("-")[0] for n in stale} == {"train_grpo", "report"}, sorted(stale)
    finally:
        (work / "params.yaml").write_text(original)
        run([sys.executable, "-m", "src.workflow.export_dvc"], work)
        run(["dvc", "repro", "-q", "check_params"], work)


def test_dvc_refuses_a_preset_it_was_not_exported_for(dvc_run):
    """`dvc exp run -S preset=NAME` or an edited `preset:`: the first stage stops with the commands that run
    it, before any other stage; an unknown preset is refused as Snakemake refuses it."""
    work = dvc_run["work"]
    original = (work / "params.yaml").read_text()
    try:
        for name, expected in (("smoke_generic", "dvc.yaml is exported for preset 'smoke' but params.yaml names "
                                                 "'smoke_generic'; DVC cannot switch presets itself (a preset has its own "
                                                 "stages): run `python -m src.workflow.export_dvc`"),
                               ("nosuch", "unknown preset 'nosuch'; params.yaml defines: default, smoke")):
            use_preset(work, name)
            out = run(["dvc", "repro"], work, check=False)
            said = out.stdout + out.stderr
            assert out.returncode != 0 and expected in said, said[-2000:]
            assert "Running stage 'generate_data'" not in said and not (work / f"results/{name}").exists()
            (work / "params.yaml").write_text(original)
    finally:
        (work / "params.yaml").write_text(original)
        run(["dvc", "repro", "-q", "check_params"], work)  # a refusal removes the stamp: restore it


def outs(stage: dict) -> list[str]:
    return [o if isinstance(o, str) else next(iter(o)) for o in stage["outs"]]


def planned_outputs(dry_run: str) -> set[str]:
    """The outputs of every job a Snakemake dry run plans."""
    return {o.strip() for line in re.findall(r"^\s*output: (.*)$", dry_run, re.M) for o in line.split(",")}


def downstream(stages: dict, names: set[str]) -> set[str]:
    """The stages and every stage that depends on their outputs, transitively."""
    made_by = {o: name for name, st in stages.items() for o in outs(st)}
    out, grew = set(names), True
    while grew:
        grew = False
        for name, st in stages.items():
            if name not in out and any(made_by.get(d) in out for d in st["deps"]):
                out.add(name)
                grew = True
    return out


def test_dvc_repro_killed_mid_stage_resumes(snakemake_run, tmp_path):
    """`kill -9` of `dvc repro` during knowledge injection; the same command again rebuilds the stage with
    no half-written output left, and the same weights as the Snakemake run's."""
    work = copy_workflow(tmp_path / "dvc_killed")
    use_preset(work, "smoke")
    run([sys.executable, "-m", "src.workflow.export_dvc"], work)
    run(["dvc", "init", "--no-scm", "-q"], work)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", DVC_NO_ANALYTICS="1")
    first = subprocess.Popen(["dvc", "repro", "-q", "inject_knowledge"], cwd=work, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: processes(work, "src.training.inject"), first), "knowledge injection never started"
    time.sleep(2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    inject = work / "results/smoke/models/inject"
    assert not inject.exists()
    run(["dvc", "repro", "-q", "inject_knowledge"], work)
    ours, theirs = inject / "model.safetensors", snakemake_run["work"] / "results/smoke/models/inject/model.safetensors"
    assert ours.read_bytes() == theirs.read_bytes()
    leftovers = list((work / "results").rglob("*.partial-*")) + list((work / "results").rglob("*.trainer"))
    assert leftovers == []


def test_bad_params_stop_snakemake_before_any_job(tmp_path):
    work = copy_workflow(tmp_path / "bad")
    params = work / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["world"]["bio_rendering"] = raw["world"].pop("bio_renderings")  # a typo in a key
    params.write_text(yaml.safe_dump(raw))
    out = run(["snakemake", "--cores", "1", "-n", *SMOKE], work, check=False)
    assert out.returncode != 0
    assert "world: Additional properties are not allowed ('bio_rendering' was unexpected)" in out.stdout + out.stderr
    assert not (work / "results").exists()
    clash = run(["snakemake", "--cores", "1", "-n", "--config", "seeds=[5]"], copy_workflow(tmp_path / "clash"),
                check=False)
    assert clash.returncode != 0 and "may only set `preset`" in clash.stdout + clash.stderr


def test_an_interrupted_stage_leaves_no_output(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(tmp_path / "model") as tmp:
            (tmp / "weights").write_text("half")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_snakemake_lint_passes():
    out = run(["snakemake", "--lint"], ROOT, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_fresh_clone_reruns_the_study_despite_the_committed_tables(tmp_path):
    """results/default/{metrics.csv,results.md} are in git; a clone without models must still train."""
    work = copy_workflow(tmp_path / "clone")
    (work / "results/default").mkdir(parents=True)
    for name in ("metrics.csv", "results.md", "REPORT.md"):
        (work / "results/default" / name).write_text((ROOT / "results/default" / name).read_text())
    out = run(["snakemake", "--cores", "1", "-n"], work)
    assert "inject_knowledge" in out.stdout and "tables" in out.stdout


@pytest.mark.slurm
def test_slurm_cluster_runs_the_same_study(snakemake_run, tmp_path):
    """The smoke study through a real single-node SLURM cluster (tests/slurm_cluster.py), with the
    workflow profile a user runs: refused before any submission while its jobs ask for what no node has
    (GPUs, more CPUs than the node's), then, with `resources.use_gpus: false` and `resources.max_threads`,
    every job goes through sbatch (the accounting lists each), the metrics equal the local run's, and the
    cluster is stopped afterwards."""
    why = slurm_cluster.missing()
    if why:
        pytest.skip(why)
    work = copy_workflow(tmp_path / "slurm")
    command = ["snakemake", "--workflow-profile", "profiles/slurm", *SMOKE,
               "--slurm-init-seconds-before-status-checks", "5"]  # a test's jobs are short: poll often
    with slurm_cluster.cluster(tmp_path / "cluster", cpus=2) as node:
        sacct = ["sacct", "-a", "-X", "-n", "-P", "-o", "JobName,Comment,State,AllocCPUS,Account"]
        refused = run(command, work, check=False)
        text = refused.stdout + refused.stderr
        assert refused.returncode != 0 and "nothing was submitted" in text, text[-3000:]
        assert "set resources.use_gpus: false" in text and f"set resources.max_threads: {node['cpus']}" in text
        assert run(sacct, work).stdout.strip() == "" and not (work / "results").exists()
        params = work / "params.yaml"
        raw = yaml.safe_load(params.read_text())
        raw["resources"].update(use_gpus=False, max_threads=node["cpus"], account=slurm_cluster.NAME,
                                partition=slurm_cluster.NAME)
        params.write_text(yaml.safe_dump(raw, sort_keys=False))
        done = run(command, work, timeout=2400)
        jobs = [line.split("|") for line in run(sacct, work).stdout.splitlines()]
    left = [d for d in (*slurm_cluster.SLURM, "mariadbd") if slurm_cluster.running(d)]
    assert not left, f"the cluster was left running: {left}"
    # every job of the DAG but the `all` target went through sbatch, and completed
    planned = re.search(r"^total\s+(\d+)$", done.stdout + done.stderr, re.M)
    assert planned and len(jobs) == int(planned.group(1)) - 1, (planned, jobs)
    assert all(state == "COMPLETED" and account == slurm_cluster.NAME for _, _, state, _, account in jobs), jobs
    rules = {comment.removeprefix("rule_").split("_wildcards_")[0] for _, comment, *_ in jobs}
    assert {"generate_data", "inject_knowledge", "train_sft", "train_grpo", "evaluate", "report"} <= rules
    assert max(int(cpus) for *_, cpus, _ in jobs) <= node["cpus"]  # injection asked 4: capped at the node's
    for name in ("metrics.csv", "passk.csv"):
        ours, local = work / "results/smoke" / name, snakemake_run["work"] / "results/smoke" / name
        assert ours.read_text() == local.read_text(), name

