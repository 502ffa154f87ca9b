"""The claim verdicts and the sweep table, on hand-made metrics whose verdicts are known."""
import csv
import json

import pytest
import yaml

from src.analysis.claims import verdicts
from src.analysis.figures import share_figure
from src.analysis.passk import passk_advantages, passk_rows
from src.analysis.render import other_experiments
from src.analysis.sweep import sweep_rows, to_markdown
from src.recipes import rl_pairs, share_recipes

from .conftest import ROOT

LEVELS = ("iid", "composition", "zero_shot")


def rows_for(table: dict) -> list[dict]:
    """table: recipe -> level -> per-seed accuracies in %."""
    out = []
    for recipe, levels in table.items():
        for lv, accs in levels.items():
            for seed, acc in enumerate(accs):
                out.append({"model": recipe, "seed": seed, "task": "comp", "level": lv, "accuracy": acc / 100, "n": 50})
    return out


PAPER_LIKE = {  # the paper's pattern, three seeds
    "SFT(Mem+Ctx)": {"iid": [30, 35, 40], "composition": [25, 30, 28], "zero_shot": [20, 24, 22]},
    "SFT(Comp)": {"iid": [90, 92, 88], "composition": [75, 77, 76], "zero_shot": [18, 20, 16]},
    "SFT(Mem+Ctx)->RL(Comp)": {"iid": [73, 75, 71], "composition": [60, 62, 58], "zero_shot": [50, 52, 48]},
    "SFT(Comp)->RL(Comp)": {"iid": [93, 94, 92], "composition": [78, 79, 77], "zero_shot": [19, 21, 17]},
    "SFT(Mem)": {"iid": [5, 6, 7], "composition": [4, 5, 6], "zero_shot": [3, 4, 5]},
    "SFT(Mem)->RL(Comp)": {"iid": [6, 7, 8], "composition": [5, 6, 7], "zero_shot": [4, 5, 6]},
}


def test_verdicts_on_the_papers_pattern():
    v = {x["claim"].split(".")[0]: x["verdict"] for x in verdicts(rows_for(PAPER_LIKE))}
    assert v == {"1": "reproduced", "2": "reproduced", "3": "reproduced", "4": "not testable"}


def test_verdicts_when_nothing_is_learned():
    flat = {r: {lv: [1, 2, 1] for lv in LEVELS} for r in PAPER_LIKE}
    v = {x["claim"].split(".")[0]: x["verdict"] for x in verdicts(rows_for(flat))}
    assert v["1"] == v["2"] == v["3"] == "not reproduced"


def test_claim_3_needs_a_real_gain_from_atomic_sft():
    """A gain from SFT(Mem+Ctx) within noise (the default study under per-task levels: +1.6, interval
    across 0) proves nothing, however small the other gains beside it."""
    noisy = {**PAPER_LIKE,
             "SFT(Mem+Ctx)->RL(Comp)": {"iid": [1, 2, 1], "composition": [3, 4, 4], "zero_shot": [26, 20, 25]},
             "SFT(Comp)->RL(Comp)": {"iid": [90, 92, 88], "composition": [75, 77, 76], "zero_shot": [18, 20, 16]},
             "SFT(Mem)->RL(Comp)": {"iid": [5, 6, 7], "composition": [4, 5, 6], "zero_shot": [3, 4, 5]}}
    v = {x["claim"].split(".")[0]: x for x in verdicts(rows_for(noisy))}
    assert v["3"]["verdict"] == "not reproduced" and "from SFT(Mem+Ctx): +1.7 ±" in v["3"]["ours"]
    one_seed = {r: {lv: a[:1] for lv, a in levels.items()} for r, levels in PAPER_LIKE.items()}
    assert {x["claim"][0]: x["verdict"] for x in verdicts(rows_for(one_seed))}["3"] == "reproduced"  # +30 >= 10


def test_claim_2_on_one_seed_is_judged_by_margin():
    """A one-seed probe has no interval: a Zero-shot lead of 10 points reads 'partly', 20 'reproduced', less
    'not reproduced'; with seeds, the interval decides."""
    def claim2(synth_zs: list, comp_zs: list) -> str:
        table = {**PAPER_LIKE, "SFT(Mem+Ctx)->RL(Comp)": {**PAPER_LIKE["SFT(Mem+Ctx)->RL(Comp)"], "zero_shot": synth_zs},
                 "SFT(Comp)": {**PAPER_LIKE["SFT(Comp)"], "zero_shot": comp_zs}}
        return {x["claim"][0]: x["verdict"] for x in verdicts(rows_for(table))}["2"]
    assert claim2([40], [18]) == "reproduced" and claim2([30], [18]) == "partly" and claim2([25], [18]) == "not reproduced"
    assert claim2([30, 31, 29], [18, 19, 17]) == "partly"  # +12, interval excludes 0
    assert claim2([40, 5, 10], [18, 19, 17]) == "not reproduced"  # +0.3 on average, wide interval


def test_claim_4_needs_similar_bases_that_respond_differently():
    table = {**PAPER_LIKE,
             "SFT(Comp)": {"iid": [30, 35, 40], "composition": [25, 30, 28], "zero_shot": [20, 24, 22]},
             "SFT(Comp)->RL(Comp)": {"iid": [31, 36, 41], "composition": [26, 31, 29], "zero_shot": [21, 25, 23]}}
    v = {x["claim"].split(".")[0]: x["verdict"] for x in verdicts(rows_for(table))}
    assert v["4"] == "reproduced"


def test_data_share_and_same_questions_sections(tmp_path):
    recipes = ["SFT(Mem+Ctx)", "SFT(Mem+Ctx)->SFT(Comp)", "SFT(Mem+Ctx)->LoRA(Comp)", "SFT(Mem+Ctx)->RL(Comp)",
               "SFT(Mem+Ctx @ 30%)->RL(Comp)", "SFT(Mem+Ctx@10%)->RL(Comp)", "SFT(Comp)->RL(Comp)"]
    assert share_recipes(recipes) == {10: ("SFT(Mem+Ctx@10%)", "SFT(Mem+Ctx@10%)->RL(Comp)"),
                                      30: ("SFT(Mem+Ctx@30%)", "SFT(Mem+Ctx@30%)->RL(Comp)"),
                                      100: ("SFT(Mem+Ctx)", "SFT(Mem+Ctx)->RL(Comp)")}
    assert share_recipes(["SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)"]) == {}  # one share: no section
    table = {"SFT(Mem+Ctx)": {lv: [20, 22] for lv in LEVELS},
             "SFT(Mem+Ctx)->RL(Comp)": {lv: [50, 54] for lv in LEVELS},
             "SFT(Mem+Ctx)->SFT(Comp)": {lv: [60, 60] for lv in LEVELS},
             "SFT(Mem+Ctx)->LoRA(Comp)": {lv: [40, 40] for lv in LEVELS},
             "SFT(Mem+Ctx@10%)": {lv: [5, 5] for lv in LEVELS},
             "SFT(Mem+Ctx@10%)->RL(Comp)": {lv: [6, 8] for lv in LEVELS},
             "SFT(Mem+Ctx@30%)": {lv: [10, 10] for lv in LEVELS}}  # its RL model is missing: shown as '-'
    from src.params.check import load_params
    from src.params.read import merge
    from src.params.settings.declare import parse
    from src.params.settings.study import Params
    smoke = load_params(ROOT / "params.yaml", "smoke", every_preset=False)
    params = parse(Params, merge(smoke, {"recipes": recipes, "training": {"grpo": {"questions": 128}}}))
    text = "\n".join(other_experiments(rows_for(table), params))
    share_figure(rows_for(table), share_recipes(recipes), tmp_path / "figures" / "data_share.png")
    assert "| SFT(Mem+Ctx)->LoRA(Comp) | 40.0 ± 0.0 | 40.0 ± 0.0 | 40.0 ± 0.0 |" in text
    assert "128 Comp questions" in text
    assert "| 10% | 5.0 ± 0.0 -> 7.0 ± 12.7 |" in text and text.count("| 10% |") == 1
    assert "| +2.0 ± 12.7 |" in text  # paired gain 1 and 3: mean 2, t(1 df) x sd / sqrt 2 = 12.7
    assert "| 30% | 10.0 ± 0.0 -> - |" in text and "| 100% | 21.0 ± 12.7 -> 52.0 ± 25.4 |" in text
    assert (tmp_path / "figures" / "data_share.png").stat().st_size > 0
    assert other_experiments(rows_for(table), parse(Params, {**smoke, "recipes": ["SFT(Mem+Ctx)->RL(Comp)"]})) == []


def test_sweep_lists_run_and_unrun_presets(tmp_path):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    first = "atomic_mastery"
    (tmp_path / "results" / first).mkdir(parents=True)
    with open(tmp_path / "results" / first / "metrics.csv", "w") as f:
        w = csv.DictWriter(f, fieldnames=["model", "seed", "task", "level", "accuracy", "n"])
        w.writeheader()
        w.writerows(rows_for(PAPER_LIKE))
    rows = sweep_rows(params, tmp_path / "results")
    assert [r["preset"] for r in rows] == raw["sweep"]
    done = next(r for r in rows if r["preset"] == first)
    assert done["claim 1"] == "reproduced" and done["status"] == "seeds 3"
    # no headline.json: data drawn before the I.I.D. tests were stratified; not run: today's design
    assert "training.sft.epochs=" in done["changes"]
    assert done["design"] == "shared split (old); I.I.D. tests drawn path by path"
    assert next(r for r in rows if r["preset"] == "quick")["design"] == \
        "per-task levels (authors'); I.I.D. tests stratified like training"
    assert not any(k in done["changes"] for k in ("recipes=", "seeds=", "resources"))  # not knobs of the study
    assert all(r["status"].startswith("not run yet") for r in rows if r["preset"] != first)
    assert "| " + first + " |" in to_markdown(rows)
    assert done["SFT(Mem+Ctx) Ctx seen / I.I.D. / answer swapped"] == "-"  # no reading probes in its headline
    reads = {"seen": 100.0, "iid": 98.7, "swapped": 95.3, "no_context": 0.0, "kept_old": 0.0}
    (tmp_path / "results" / first / "headline.json").write_text(
        json.dumps({"premise": {"reading": {"SFT(Mem+Ctx)": reads}}, "wall_minutes": 10.0, "job_minutes": 12.0,
                    "machine": "AMD EPYC (AVX2)"}))
    done = next(r for r in sweep_rows(params, tmp_path / "results") if r["preset"] == first)
    assert done["SFT(Mem+Ctx) Ctx seen / I.I.D. / answer swapped"] == "100.0 / 98.7 / 95.3"


def test_sweep_refuses_a_report_without_its_metrics(tmp_path):
    """Results copied back in part (a REPORT.md without metrics.csv) are an error, not a 'not run yet' row."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    (tmp_path / "results" / "quick").mkdir(parents=True)
    (tmp_path / "results" / "quick" / "REPORT.md").write_text("# a report\n")
    with pytest.raises(FileNotFoundError, match="quick has a REPORT.md but no metrics.csv"):
        sweep_rows(params, tmp_path / "results")


def test_sweep_cost_from_headline_or_older_report(tmp_path):
    """A run's cost comes from its headline.json; a run older than that file, from its REPORT.md's Speed
    section; a run with neither (copied back without benchmarks) shows '-'."""
    import json

    from src.analysis.cost import cost
    from src.analysis.report import headline
    new, old, bare = (tmp_path / n for n in ("new", "old", "bare"))
    for d in (new, old, bare):
        d.mkdir()
    claims = [{"claim": "1. SFT generalization paradox: ...", "verdict": "partly", "ours": "I.I.D. 70.0"}]
    speed = [{"seconds": 600.0}, {"seconds": 1200.0}]
    (new / "headline.json").write_text(json.dumps(headline(claims, speed, {"machine": "AMD EPYC (AVX2)",
                                                                           "device": "cpu", "fp32_gflops": 131.4}, 1260.0,
                                                            1_400_000, "levels per task (authors')")))
    assert json.loads((new / "headline.json").read_text())["claims"]["1"] == {"verdict": "partly", "ours": "I.I.D. 70.0"}
    assert cost(new) == "21.0 (30.0), AMD EPYC (AVX2)"
    (old / "REPORT.md").write_text("## Speed\n\nMeasured matmul peak of this machine (cpu, 2 threads): 289 GFLOP/s.\n"
                                   "Wall time of the study: 75.7 min (first job's start to last job's end); "
                                   "sum of job times: 8653 s (144.2 min; jobs run side by side)\n")
    assert cost(old) == "75.7 (144.2), cpu, 2 threads"
    assert cost(bare) == "-"


def test_the_claims_against_model_size(tmp_path):
    """Two sizes run (one with three seeds, one with one), one not: the rows carry each claim's figures with
    their intervals, the figure is drawn, the missing size is listed as not run."""
    import json

    from src.analysis.scaling import scaling_figure, scaling_rows, to_markdown
    from src.analysis.tables import COLUMNS
    from src.io import csv_text

    def study(name, params, seeds, zs_synth):
        folder = tmp_path / name
        folder.mkdir()
        rows = []
        for s in seeds:
            cells = {("SFT(Comp)", "iid"): 0.9, ("SFT(Comp)", "zero_shot"): 0.1, ("SFT(Mem+Ctx)", "zero_shot"): 0.1,
                     ("SFT(Comp)->RL(Comp)", "zero_shot"): 0.12, ("SFT(Mem+Ctx)->RL(Comp)", "zero_shot"): zs_synth + s / 100}
            rows += [{"model": m, "seed": s, "task": "comp", "level": lv, "accuracy": a, "n": 100}
                     for (m, lv), a in cells.items()]
        (folder / "metrics.csv").write_text(csv_text(rows, COLUMNS))
        (folder / "headline.json").write_text(json.dumps({"parameters": params, "wall_minutes": 10.0,
                                                           "job_minutes": 20.0, "machine": "cpu"}))
    study("big", 5_000_000, [0], 0.5)
    study("mid", 1_400_000, [0, 1, 2], 0.4)
    rows = scaling_rows(["small", "mid", "big"], tmp_path)
    assert rows[0]["status"].startswith("not run yet")
    mid, big = rows[1], rows[2]
    assert (mid["parameters"], mid["seeds"], big["seeds"]) == (1_400_000, 3, 1)
    assert mid["SFT(Comp) I.I.D."] == 90.0 and mid["RL gain from SFT(Mem+Ctx), Zero-shot"] == 31.0  # 40 + s - 10
    assert mid["RL gain from SFT(Mem+Ctx), Zero-shot ±"] > 0 and big["SFT(Comp) I.I.D. ±"] != big["SFT(Comp) I.I.D. ±"]
    assert big["RL from SFT(Mem+Ctx) minus SFT(Comp), Zero-shot"] == 40.0 and big["claim 1"] == "reproduced"
    text = to_markdown(rows)
    assert "| mid | 1.40M | 3 | 90.0 ± 0.0 |" in text and "| big | 5.00M | 1 | 90.0 |" in text
    assert scaling_figure(rows, tmp_path / "scaling.png") and (tmp_path / "scaling.png").read_bytes()[:4] == b"\x89PNG"
    assert not scaling_figure(rows[:2], tmp_path / "one.png")  # one size: no curve to draw


def test_wall_time_counts_the_time_some_job_ran(tmp_path):
    """Jobs: 100 s ending at t=1000, 50 s ending at t=980 (inside it), 50 s ending at t=1200 after an idle
    gap: the study ran 100 + 50 = 150 s (a resumed study does not count the gap)."""
    import os

    from src.analysis.cost import summarise, wall_span
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    bench = tmp_path / "benchmarks"
    for name, seconds, end in (("a", 100, 1000), ("c", 50, 980), ("seed0/b", 50, 1200)):
        f = bench / f"{name}.tsv"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(header + f"{seconds}\t0:00:00\t12.5\t0\t0\t0\t0\t0\t0\t{seconds * 1.5}\n")
        os.utime(f, (end, end))
    (bench / "touched.tsv").write_text("")  # `snakemake --touch` after `dvc pull`: an empty file, skipped
    files = sorted(bench.rglob("*.tsv")) + [bench / "missing.tsv"]  # `dvc repro` writes none: skipped
    assert wall_span(files) == 150
    # (job, wall seconds, peak RSS, CPU seconds: a two-thread job's CPU time exceeds its wall time)
    assert summarise(files) == [("a", 100.0, 12.5, 150.0), ("c", 50.0, 12.5, 75.0), ("seed0/b", 50.0, 12.5, 75.0)]
    assert wall_span([bench / "missing.tsv"]) is None


def samples_for(recipe: str, side: str, cs: list[int], n: int = 8, level: str = "iid") -> list[dict]:
    """Hand-made pass@k samples: question i has cs[i] correct of n."""
    return [{"recipe": recipe, "side": side, "model": "m", "seed": 0, "level": level, "id": f"q{i}", "n": n, "c": c}
            for i, c in enumerate(cs)]


def test_a_jobs_share_of_the_peak_is_read_in_cpu_time(tmp_path):
    """A training job's share of the peak is its model GFLOP per CPU-second over the per-thread peak in GFLOP
    per CPU-second, whatever the wall clock did (a job beside another load takes longer, not more CPU);
    a run from before CPU timing falls back on wall-clock FLOP/s over the peak scaled to its threads. The
    GRPO target is judged on it, and the job's CPU seconds come from Snakemake's benchmark file."""
    import json

    from src.analysis.cost import GRPO_SHARE, peak_share, speed_rows, targets

    peak = {"device": "cpu", "threads": 2, "fp32_gflops": 180.0, "fp32_gflops_per_cpu_s": 90.0}
    models = {}
    for name, stats in {"seed0/sft-comp__grpo-comp": {"model_flops_per_s": 10e9, "model_flops_per_cpu_s": 27e9,
                                                      "samples_per_s": 40.0, "generation_s": 30.0,
                                                      "generation_cpu_s": 25.0},
                        "seed0/sft-comp": {"model_flops_per_s": 36e9}}.items():  # an older run: no CPU time
        folder = tmp_path / name
        folder.mkdir(parents=True)
        (folder / "train_stats.json").write_text(json.dumps(
            {"runtime_s": 100.0, "cpu_s": 100.0, "tokens_per_s": 1000.0, "threads": 1, **stats}))
        models[name] = folder
    bench = tmp_path / "benchmarks" / "seed0" / "sft-comp__grpo-comp.tsv"
    bench.parent.mkdir(parents=True)
    bench.write_text("s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
                     "300\t0:05:00\t900\t0\t0\t0\t0\t0\t0\t110\n")
    rows = {r["job"]: r for r in speed_rows(models, [bench])}
    grpo, sft = rows["seed0/sft-comp__grpo-comp"], rows["seed0/sft-comp"]
    assert grpo["seconds"] == 300 and grpo["cpu_s"] == 110  # the benchmark file's wall and CPU seconds
    assert peak_share(grpo, peak) == pytest.approx(27 / 90)  # CPU time, not 10 GFLOP/s of wall time
    assert peak_share(sft, peak) == pytest.approx(36 / 90)  # wall clock, the peak scaled to 1 of 2 threads
    assert grpo["generation_share"] == 0.25  # sampling's share of the CPU time
    grpo_target = next(t for t in targets(list(rows.values()), peak,
                                          {"questions": 1, "batch_size": 1, "speedup": 1, "batched_s": 1,
                                           "one_at_a_time_s": 1, "library_batched_s": 1}, None)
                       if t["what"].startswith("GRPO"))
    assert grpo_target["met"] == (27 / 90 >= GRPO_SHARE)


def test_passk_verdicts_need_an_interval_that_excludes_zero():
    r = "SFT(Mem+Ctx)->RL(Comp)"
    cases = {  # (base, RL) correct counts of 8 per question -> verdict
        "persists (synthesis)": ([0] * 6, [4, 5, 3, 6, 4, 5]),       # RL solves what the base never samples
        "vanishes (amplification)": ([2, 3, 2, 3, 2, 3], [7, 8, 7, 8, 7, 8]),  # both solve all at k=8
        "no significant advantage": ([2, 3, 2, 3, 2, 3], [3, 2, 3, 2, 3, 2]),
    }
    for want, (base, rl) in cases.items():
        (a,) = passk_advantages(samples_for(r, "base", base) + samples_for(r, "rl", rl))
        assert (a["verdict"], a["questions"], a["k_max"]) == (want, 6, 8), (want, a)
    # one question: no interval, so no verdict either way, however large the advantage
    (a,) = passk_advantages(samples_for(r, "base", [0]) + samples_for(r, "rl", [8]))
    assert a["adv_k1"] == 100 and a["verdict"] == "no significant advantage"


def test_passk_at_512_samples_and_what_it_costs(smoke_cfg):
    """pass@k to the paper's n = 512 per question: the verdict reads k = 512; the report scales the generation
    benchmark's timing to the study's pass@k sampling."""
    from src.analysis.render import sampling_cost
    from src.params.stages import settings
    r = "SFT(Mem+Ctx)->RL(Comp)"
    (a,) = passk_advantages(samples_for(r, "base", [0] * 6, n=512) + samples_for(r, "rl", [9, 30, 5, 12, 3, 1], n=512))
    assert a["k_max"] == 512 and a["verdict"] == "persists (synthesis)"
    assert [x["k"] for x in passk_rows(samples_for(r, "rl", [9, 0], n=512))] == list(range(1, 513))
    p = settings("report", smoke_cfg).params  # 2 questions per level, one seed, the smoke's RL pairs
    models = len({m for pair in rl_pairs(p.recipes) for m in pair})
    (_, _, line, _) = sampling_cost(p, {"passk_sampling": {"questions": 3, "samples": 512, "seconds": 60.0,
                                                     "seconds_per_question": 20.0}})
    assert f"about {20.0 * 2 * 3 * models / 60:.0f} job-minutes" in line and "n = 512" in line
    assert sampling_cost(p, {}) == []  # a generation benchmark from before the timing: nothing claimed


def test_the_report_says_when_a_level_has_fewer_passk_questions_than_asked(smoke_cfg):
    """passk.questions beyond the test set is clamped by the sampler; the report says so for that level only."""
    from src.analysis.render import passk_section
    from src.params.stages import settings
    p = settings("report", smoke_cfg).params
    asked = p.evaluation.passk.questions
    r = "SFT(Mem+Ctx)->RL(Comp)"
    full = [dict(q, level="iid") for q in samples_for(r, "base", [0] * asked) + samples_for(r, "rl", [1] * asked)]
    short = [dict(q, level="zero_shot") for q in samples_for(r, "base", [0]) + samples_for(r, "rl", [1])]
    text = "\n".join(passk_section(p, passk_advantages(full + short), {}))
    assert f"`evaluation.passk.questions` = {asked}, but the Zero-shot level has only 1 Comp" in text
    assert "I.I.D. level has only" not in text
    assert "Fewer questions" not in "\n".join(passk_section(p, passk_advantages(full), {}))


def test_passk_curves_average_the_unbiased_estimator_over_questions():
    rows = passk_rows(samples_for("X", "rl", [0, 2, 4], n=4))
    assert [r["k"] for r in rows] == [1, 2, 3, 4]
    # k=1 is the mean share correct; at k=n a question passes iff any of its samples is right
    assert rows[0]["pass_at_k"] == round((0 + 0.5 + 1) / 3, 6)
    assert rows[-1]["pass_at_k"] == round(2 / 3, 6)
    # k=2 with 2 of 4 right: 1 - C(2,2)/C(4,2) = 5/6
    assert rows[1]["pass_at_k"] == round((0 + 5 / 6 + 1) / 3, 6)


def test_metrics_csv_of_an_older_study_reads_the_same(tmp_path):
    """Studies tabled before metrics.csv's model column was named `model` call it `recipe` (the sweep's)."""
    from src.analysis.tables import read_csv
    rows = rows_for(PAPER_LIKE)
    for name in ("model", "recipe"):
        with open(tmp_path / f"{name}.csv", "w") as f:
            w = csv.DictWriter(f, fieldnames=[name, "seed", "task", "level", "accuracy", "n"])
            w.writeheader()
            w.writerows({name if k == "model" else k: v for k, v in r.items()} for r in rows)
    assert read_csv(tmp_path / "recipe.csv") == read_csv(tmp_path / "model.csv")
    assert read_csv(tmp_path / "model.csv")[0]["model"] == "SFT(Mem+Ctx)"


def test_comp_accuracy_apart_by_whether_the_prompt_prints_the_answer(tmp_path):
    """A reader that copies the context's value scores only where the context states the final answer; the
    copyable questions (one stated fact with the final relation, the answer) are counted apart, and RL's
    Zero-shot gain is split into copyable, printed among same-relation facts, and recalled only."""
    import json
    from types import SimpleNamespace

    from src.analysis.per_model import answer_source_rows
    from src.analysis.premise import answer_source_section

    facts = [("B", "awards", "Oak Prize"), ("C", "awards", "Elm Medal"), ("A", "boss", "B"), ("D", "birth_place", "Lima")]
    (tmp_path / "facts.jsonl").write_text("".join(json.dumps({"subject": s, "relation": r, "object": o}) + "\n"
                                                  for s, r, o in facts))
    qs = [{"id": "q1", "split": "zero_shot", "answer": "Oak Prize", "relation_path": ["boss", "awards"],
           "context": "B's award is Oak Prize."},                                   # copyable
          {"id": "q2", "split": "zero_shot", "answer": "Eric", "relation_path": ["colleague"],
           "context": "A's colleague is B."},                                       # recalled only
          {"id": "q3", "split": "zero_shot", "answer": "Oak Prize", "relation_path": ["boss", "awards"],
           "context": "B's award is Oak Prize. C received the Elm Medal."},         # printed, not copyable
          {"id": "q4", "split": "iid", "answer": "Lima", "relation_path": ["birth_place"], "context": "D was born in Lima."}]
    (tmp_path / "qa_comp.jsonl").write_text("".join(json.dumps(q) + "\n" for q in qs))
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    right = {"before": {"q1"}, "after": {"q1", "q3"}}  # RL gains the question it must follow the chain for
    for path, name in ((before, "before"), (after, "after")):
        path.write_text("".join(json.dumps({"id": q["id"], "task": "comp", "level": q["split"],
                                            "correct": q["id"] in right[name]}) + "\n" for q in qs))
    files = SimpleNamespace(data=tmp_path, predictions={"seed0/sft-ctx": before, "seed0/sft-ctx__grpo-comp": after})
    rows = answer_source_rows(files, SimpleNamespace(recipes=["SFT(Ctx)->RL(Comp)"], seeds=[0]))
    got = {(r["model"], r["level"], r["answer"]): (r["correct"], r["questions"]) for r in rows}
    assert got[("SFT(Ctx)", "zero_shot", "in the prompt")] == (1, 2)
    assert got[("SFT(Ctx)", "zero_shot", "copyable")] == (1, 1)
    assert got[("SFT(Ctx)", "zero_shot", "recalled only")] == (0, 1)
    assert got[("SFT(Ctx)", "iid", "copyable")] == (0, 1) and got[("SFT(Ctx)", "composition", "copyable")] == (0, 0)
    text = answer_source_section(rows)
    line = next(x for x in text if x.startswith("| SFT(Ctx) |"))
    assert line == "| SFT(Ctx) | 0.0 (n=1) | - (n=0) | - (n=0) | - (n=0) | 50.0 (n=2) | 0.0 (n=1) |"
    gain = next(x for x in text if x.startswith("| SFT(Ctx)->RL(Comp) |") and "->" in x.split("|")[2])
    assert gain == "| SFT(Ctx)->RL(Comp) | 100.0 -> 100.0 (n=1) | 0.0 -> 100.0 (n=1) | 0.0 -> 0.0 (n=1) |"


def test_findings_are_written_from_the_studies_params_yaml_names(tmp_path):
    """Each finding of params.yaml shows its studies that ran with their knobs, cost, verdicts and cells (a
    pair as before -> after; a model the study did not train is left out); a finding with fewer than two of
    its studies run is left out. Per-task-level studies that ran are set against cost, cheapest first."""
    import json

    import yaml

    from src.analysis.findings import findings
    from src.analysis.report import headline

    def study(name: str, table: dict, wall_s: float):
        d = tmp_path / "results" / name
        d.mkdir(parents=True)
        with open(d / "metrics.csv", "w") as f:
            w = csv.DictWriter(f, fieldnames=["model", "seed", "task", "level", "accuracy", "n"])
            w.writeheader()
            w.writerows(rows_for(table))
        (d / "headline.json").write_text(json.dumps(headline([], [{"seconds": wall_s}], {"machine": "M", "device": "cpu", "fp32_gflops": 100.0}, wall_s,
                                                             None, "levels per task (authors')")))

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["findings"] = [
        {"title": "Distractors", "studies": ["default", "probe_distract", "probe_distract1"], "verdicts": True,
         "cells": ["SFT(Ctx) => SFT(Ctx)->RL(Comp) comp zero_shot", "SFT(Mem) mem iid"], "cost": True,
         "knobs": ["questions.distractor_paragraphs", "world.seed"]},
        {"title": "Not yet", "studies": ["default", "rich"], "cells": ["SFT(Comp) comp iid"], "knobs": [],
         "verdicts": False, "cost": False}]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    study("probe_rich_pf1_rl200", PAPER_LIKE, 3000.0)
    study("probe_rich_pf1_world43", PAPER_LIKE, 5400.0)
    study("default_shared", PAPER_LIKE, 60.0)  # shared split: not on the curve
    shortcut = {"SFT(Ctx)": {"iid": [9, 9, 9], "composition": [9, 9, 9], "zero_shot": [10, 10, 10]},
                "SFT(Ctx)->RL(Comp)": {"iid": [9, 9, 9], "composition": [9, 9, 9], "zero_shot": [40, 40, 40]}}
    study("default", {**PAPER_LIKE, **shortcut}, 9000.0)
    closed = {k: {lv: v[:1] for lv, v in t.items()} for k, t in {**PAPER_LIKE, **shortcut}.items()}
    closed["SFT(Ctx)->RL(Comp)"]["zero_shot"] = [11]
    study("probe_distract", closed, 4000.0)
    items = findings(tmp_path / "params.yaml", tmp_path / "results")
    assert not any(x.startswith("*Not yet") for x in items)  # `rich` has not run
    distract = next(x for x in items if x.startswith("*Distractors.*"))
    assert "`default` (questions.distractor_paragraphs 0; world.seed 42; 150.0 (150.0) wall (job) min; claims " \
           "1 / 2 / 3 reproduced / reproduced / partly): SFT(Ctx)->RL(Comp) Comp Zero-shot 10.0 -> 40.0" in distract
    assert "`probe_distract` (questions.distractor_paragraphs 2;" in distract and "Zero-shot 10.0 -> 11.0" in distract
    assert "probe_distract1" not in distract and "SFT(Mem) Mem" not in distract  # not run; not trained
    curve = next(x for x in items if x.startswith("*Claims 1 / 2 / 3 against cost*"))
    assert curve.index("`probe_rich_pf1_rl200` 50.0") < curve.index("`probe_rich_pf1_world43` 90.0")
    assert "default_shared" not in curve and "reproduced / reproduced / reproduced" in curve


def test_training_curves_keep_the_reward_band_in_range_and_mark_short_runs(tmp_path):
    """GRPO's reward per step is drawn as a rolling mean whose 95% band stays inside [0, 100] (a band of
    +- one standard deviation of the completions ran from -20 to 120); a run of few points gets markers;
    the CSV rows give back the curves they were made from."""
    from src.analysis import curves

    swings = [0.0, 1.0] * 20  # a reward that jumps between the bounds
    mean, low, high = curves.rolling(swings)
    assert all(0.0 <= lo <= m <= hi <= 1.0 for m, lo, hi in zip(mean, low, high))
    assert mean[-1] == 0.5 and high[-1] < 1.0  # over 10 steps the mean is known to within the band
    assert curves.rolling([0.3]) == ([0.3], [0.3], [0.3])  # one step: no interval to draw
    assert curves._style("SFT(Comp)", {"SFT(Comp)"}, 2)["marker"] == "o"
    assert curves._style("SFT(Mem)", {"SFT(Comp)"}, 200)["marker"] is None
    got = {"inject": {"loss": [(1, 7.0), (10, 6.5)]}, "SFT(Comp)": {"loss": [(1, 2.0)]},
           "SFT(Comp)->RL(Comp)": {"reward": [(1, 0.5)], "reward_std": [(1, 0.2)]}}
    assert curves.from_rows(curves.to_rows(got)) == got
    curves.curves_figure(got, {"SFT(Comp)"}, "inject", tmp_path / "c.png")  # one point each still draws
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_the_html_reports_pages_cite_only_files_that_exist():
    """The captions and front page of `snakemake --report` name repository files (which must exist) and
    the study's own files (which the workflow's rules must write); `python -m` modules must exist."""
    import re

    from src.analysis.outputs import OUTPUTS

    from .conftest import ROOT

    # what the rules write: their own paths, and the report's outputs (declared in src/analysis/outputs.py)
    rules = "".join(f.read_text() for f in (ROOT / "rules").glob("*.smk")) + "".join(f" /{o.path}" for o in OUTPUTS)
    for page in sorted((ROOT / "report").glob("*.rst")):
        text = page.read_text()
        for module in re.findall(r"python -m ([\w.]+)", text):
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), (page.name, module)
        for name in re.findall(r"``([^`\s]+\.(?:md|yaml|py|csv|json|png|rst))``", text):
            if "<" in name:
                continue  # a pattern such as results/<preset>/...
            if not (ROOT / name).exists():  # not a repository file: then a file of the study folder
                assert "/" not in name and f"/{name}" in rules, f"{page.name} cites {name}, which is not in " \
                    "the repository and no rule writes"


def test_accuracy_by_path_length_and_standardized_to_the_iid_mix(tmp_path):
    """Per-length counts from the data's relation paths and a model's predictions; a level's standardized
    accuracy reweights its per-length accuracies to the I.I.D. length mix, leaving out lengths I.I.D. lacks;
    Ctx accuracy split by whether a question starts at an injected person (biographies.jsonl)."""
    import json

    from src.analysis import path_length

    data = tmp_path / "data"
    data.mkdir()
    qs = [("i2a", "iid", 2), ("i2b", "iid", 2), ("i2c", "iid", 2), ("i3", "iid", 3),
          ("c2", "composition", 2), ("c3a", "composition", 3), ("c3b", "composition", 3), ("c5", "composition", 5)]
    injected = {"i2a", "i2c", "c3a"}  # these start at P, an injected person; the others at N, a new one
    (data / "biographies.jsonl").write_text(json.dumps({"person": "P", "text": "P ..."}) + "\n")
    for task in ("mem", "ctx", "comp"):
        (data / f"qa_{task}.jsonl").write_text("".join(
            json.dumps({"id": f"{task}-{i}", "split": s, "relation_path": ["r"] * h,
                        "entities": ["P" if i in injected else "N"] + ["x"] * h}) + "\n" for i, s, h in qs))
    right = {"i2a", "i2b", "i3", "c3a", "c5"}  # I.I.D.: 2-hop 2/3, 3-hop 1/1; Composition: 2-hop 0/1, 3-hop 1/2
    pred = tmp_path / "predictions.jsonl"
    pred.write_text("".join(json.dumps({"id": f"ctx-{i}", "task": "ctx", "level": s, "correct": i in right}) + "\n"
                            for i, s, _ in qs))
    rows = path_length.length_rows(data, {"seed0/sft-mem+ctx": pred})
    by_length: dict = {}
    for r in rows:
        n, c = by_length.get((r["level"], r["hops"]), (0, 0))
        by_length[(r["level"], r["hops"])] = (n + r["n"], c + r["correct"])
    assert by_length == {
        ("iid", 2): (3, 2), ("iid", 3): (1, 1), ("composition", 2): (1, 0), ("composition", 3): (2, 1),
        ("composition", 5): (1, 1)}
    std = {r["level"]: r for r in path_length.standardized(rows)}
    assert std["iid"]["accuracy"] == 0.75  # its own mix: the raw accuracy
    # weights 3:1 over 2 and 3 hops: (3 * 0 + 1 * 0.5) / 4; the 5-hop question is left out
    assert std["composition"]["accuracy"] == 0.125 and std["composition"]["n"] == 3
    # I.I.D.: injected i2a (right), i2c (wrong): 50.0 of 2; new i2b, i3 (both right): 100.0 of 2
    assert "| SFT(Mem+Ctx) | I.I.D. | 50.0 (2) | 100.0 (2) |" in "\n".join(path_length.start_section(rows))
    assert rows[0]["model"] == "SFT(Mem+Ctx)" and rows[0]["seed"] == 0


def test_a_study_run_one_seed_per_preset_is_joined_into_the_study(tmp_path):
    """`pools`: parts that ran one seed each are joined into the study's metrics (the base model once),
    claims over all seeds, premise and summed cost; while a part has not run nothing is written."""
    import json

    from src.analysis.pool import join
    from src.analysis.tables import read_csv
    from src.params.settings.pools import Pool

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["presets"].update({"whole": {"extends": "quick", "seeds": [0, 1, 2],
                                     "recipes": ["SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)", "SFT(Mem)->RL(Comp)"]},
                           **{f"whole_s{i}": {"extends": "whole", "seeds": [i]} for i in range(3)}})
    raw["pools"] = [{"study": "whole", "parts": ["whole_s0", "whole_s1", "whole_s2"]}]
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    pool, results = Pool(study="whole", parts=["whole_s0", "whole_s1", "whole_s2"]), tmp_path / "results"
    shortcut = [{"level": lv, "questions": 10, "in_prompt": 4, "copyable": 0, "share": 0.0}
                for lv in ("iid", "composition", "zero_shot")]
    base = [{"model": "Base (knowledge injection)", "seed": "", "task": "mem", "level": "iid", "accuracy": 0.0, "n": 9}]
    for i in range(3):
        part = results / f"whole_s{i}"
        part.mkdir(parents=True)
        seed_rows = [{**r, "seed": i} for r in rows_for({m: {lv: [v[i]] for lv, v in lvs.items()}
                                                          for m, lvs in PAPER_LIKE.items()})]
        with open(part / "metrics.csv", "w") as f:
            w = csv.DictWriter(f, fieldnames=["model", "seed", "task", "level", "accuracy", "n"])
            w.writeheader()
            w.writerows(base + seed_rows)
        reading = {"SFT(Mem+Ctx)": {"seen": 100.0, "iid": 97.0 + i, "swapped": 95.0, "no_context": 0.0,
                                    "kept_old": 0.0}}
        answers = {"SFT(Mem+Ctx)": {"copyable": None, "printed, not to copy": 30.0 + 3 * i, "recalled only": 10.0},
                   "SFT(Mem+Ctx)->RL(Comp)": {"copyable": None, "printed, not to copy": 29.0,
                                              "recalled only": 14.0 + 3 * i}}
        if i < 2:  # the last part has not run yet
            (part / "headline.json").write_text(json.dumps({
                "premise": {"shortcut": shortcut, "reading": reading, "zero_shot_by_answer": answers},
                "data_design": "d", "parameters": 5,
                "wall_minutes": 70.0, "job_minutes": 120.0, "cpu_minutes": 110.0, "machine": "AMD EPYC (AVX2)"}))
    assert not join(pool, params, results) and not (results / "whole").exists()
    (results / "whole_s2" / "headline.json").write_text((results / "whole_s1" / "headline.json").read_text()
                                                        .replace('"iid": 98.0', '"iid": 99.0'))
    assert join(pool, params, results)
    joined = read_csv(results / "whole" / "metrics.csv")
    assert [r for r in joined if r["seed"] == ""] == base  # the base model once
    assert len(joined) == 1 + len(rows_for(PAPER_LIKE))
    assert {r["seed"] for r in joined} == {"", "0", "1", "2"}
    head = json.loads((results / "whole" / "headline.json").read_text())
    assert head["claims"]["1"]["verdict"] == "reproduced" and head["claims"]["3"]["verdict"] == "reproduced"
    assert head["wall_minutes"] == 210.0 and head["cpu_minutes"] == 330.0 and head["machine"] == "AMD EPYC (AVX2)"
    assert head["premise"]["reading"]["SFT(Mem+Ctx)"]["iid"] == 98.0  # mean of 97, 98, 99
    text = (results / "whole" / "REPORT.md").read_text()
    assert "| SFT(Mem+Ctx) | 100.0 ± 0.0 | 98.0 ± 2.5 |" in text  # the reading probes over the three parts
    assert "[whole_s2](../whole_s2/REPORT.md)" in text and "The shortcut is closed at every level." in text
    # Zero-shot apart by where the answer is: each kind's mean over the parts (s2 copies s1's: 30, 33, 33)
    by = head["premise"]["zero_shot_by_answer"]
    assert by["SFT(Mem+Ctx)"] == {"copyable": None, "printed, not to copy": 32.0, "recalled only": 10.0}
    assert by["SFT(Mem+Ctx)->RL(Comp)"]["recalled only"] == 16.0
    assert "| SFT(Mem+Ctx)->RL(Comp) | - -> - | 32.0 -> 29.0 | 10.0 -> 16.0 |" in text
    assert "That the parts ran the same code is not checked: whole_s0, whole_s1, whole_s2 predate" in text
    # each part's models record the code that trained them: one stage chain, one code, whichever the seed
    for i in range(3):
        f = results / f"whole_s{i}" / "headline.json"
        code = {"inject": "b0", f"seed{i}/sft-mem+ctx": "s1", f"seed{i}/sft-mem+ctx__grpo-comp": "g1"}
        f.write_text(json.dumps({**json.loads(f.read_text()), "code": code}))
    assert join(pool, params, results)
    assert "Every part's models were trained by the same code" in (results / "whole" / "REPORT.md").read_text()
    f = results / "whole_s2" / "headline.json"
    f.write_text(f.read_text().replace('"b0"', 'null'))  # a model from before the digest: not compared, said so
    assert join(pool, params, results)
    assert "same code where it is recorded (train_stats.json `code`); not recorded for inject." in \
        (results / "whole" / "REPORT.md").read_text()
    f.write_text(f.read_text().replace('"g1"', '"g2"'))
    with pytest.raises(SystemExit, match=r"sft-mem\+ctx__grpo-comp was trained by different code in whole_s0 and whole_s2"):
        join(pool, params, results)
    (results / "whole_s2" / "headline.json").write_text(json.dumps({
        **json.loads((results / "whole_s2" / "headline.json").read_text()),
        "premise": {"shortcut": [{**shortcut[0], "copyable": 3}, *shortcut[1:]]}}))
    with pytest.raises(SystemExit, match="the parts' copy-shortcut counts differ"):
        join(pool, params, results)


def test_a_saved_model_records_the_code_that_made_it(smoke_data, tmp_path):
    """train_stats.json `code`: a digest of the package's source the saving process imported, gathered by the
    report into headline.json (what the pool compares); another set of imported files, another digest."""
    import json
    import subprocess
    import sys

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from src.analysis.report import code_digests
    from src.io import source_digest
    from src.model_io import save_model
    from src.training.tokenizer import build_word_tokenizer

    tokenizer = build_word_tokenizer(smoke_data)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, pad_token_id=tokenizer.pad_token_id)
    save_model(LlamaForCausalLM(config), tokenizer, tmp_path / "m", stats={"steps": 1})
    digest = json.loads((tmp_path / "m" / "train_stats.json").read_text())["code"]
    assert digest == source_digest() and len(digest) == 16
    assert code_digests({"seed0/sft-comp": tmp_path / "m", "untrained": tmp_path}) == {"seed0/sft-comp": digest}
    alone = subprocess.run([sys.executable, "-c", "from src.io import source_digest; print(source_digest())"],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    assert len(alone.stdout.strip()) == 16 and alone.stdout.strip() != digest
