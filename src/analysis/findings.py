"""What the sweep shows, in sentences written from its results (results/findings.md, copied into the
README by src/analysis/readme.py), so that no number in the README's prose is typed by hand.

Which studies each finding compares, and what it shows of them, is data: params.yaml's `findings`
(src/params/settings/findings.py). A study that has not run is left out, and a finding while fewer than
two of its studies (one, if it names one) have run. Last comes claims 1-3 against cost, over every
per-task-levels study that ran.
"""
from __future__ import annotations

from functools import lru_cache, reduce
from pathlib import Path

from ..params.check import study
from ..params.read import preset_names
from ..params.settings.findings import Finding
from .claims import verdicts
from .cost import cost
from .intervals import mean_ci
from .tables import LEVEL_NAMES, TASK_NAMES, accuracies, read_csv


class Metrics:
    """Mean exact match (%) over seeds of one preset's metrics.csv."""

    def __init__(self, path: Path):
        self.rows = read_csv(path)

    def __call__(self, recipe: str, task: str, level: str) -> float:
        vals = list(accuracies(self.rows, recipe, task, level).values())
        return mean_ci(vals)[0] if vals else float("nan")


def _verdicts(x: Metrics) -> dict[str, str]:
    """{'1': verdict, ...} of a study's claims."""
    return {c["claim"].split(".")[0]: c["verdict"] for c in verdicts(x.rows)}


def cell_text(x: Metrics, cell: str) -> str | None:
    """'SFT(Mem+Ctx) Ctx I.I.D. 45.3', or for 'BASE => MODEL TASK LEVEL' 'MODEL Comp Zero-shot 7.6 -> 42.9';
    None where the study did not train a model the cell names."""
    models, task, level = cell.rsplit(" ", 2)
    values = [x(m.strip(), task, level) for m in models.split("=>")]
    if any(v != v for v in values):  # nan: no such model in this study
        return None
    shown = " -> ".join(f"{v:.1f}" for v in values)
    return f"{models.split('=>')[-1].strip()} {TASK_NAMES[task]} {LEVEL_NAMES[level]} {shown}"


@lru_cache(maxsize=None)
def _study(params: Path, preset: str):
    return study(params, preset, every_preset=False)


def _knob(params: Path, preset: str, dotted: str) -> str:
    """'sft.epochs 8': a parameter (its section dropped where it is nested deeper) and its value in the preset."""
    value = reduce(getattr, dotted.split("."), _study(params, preset))
    name = dotted.split(".", 1)[1] if dotted.count(".") >= 2 else dotted
    return f"{name} {f'{value:g}' if isinstance(value, float) else value}"


def finding_text(f: Finding, m: dict[str, Metrics], params: Path, results: Path) -> str | None:
    ran = [p for p in f.studies if p in m]
    if len(ran) < min(2, len(f.studies)):
        return None
    parts = []
    for p in ran:
        about = [_knob(params, p, k) for k in f.knobs]
        if f.cost:
            about.append(f"{cost(results / p).split(',')[0]} wall (job) min")
        if f.verdicts:
            v = _verdicts(m[p])
            about.append("claims 1 / 2 / 3 " + " / ".join(v.get(k, "-") for k in "123"))
        head = f"`{p}`" + (f" ({'; '.join(about)})" if about else "")
        cells = [t for c in f.cells if (t := cell_text(m[p], c))]
        parts.append(f"{head}: " + ", ".join(cells))
    return f"*{f.title}.* " + "; ".join(parts) + "."


def findings(params: Path, results: Path) -> list[str]:
    m = {p.name: Metrics(p / "metrics.csv") for p in sorted(results.iterdir()) if (p / "metrics.csv").exists()}
    out = [t for f in _study(params, "default").findings if (t := finding_text(f, m, params, results))]
    curve = _cost_curve(params, results, m)
    return out + ([curve] if curve else [])


def _cost_curve(params: Path, results: Path, m: dict) -> str | None:
    """Claims 1-3 against the wall time of every per-task-levels study that ran, cheapest first."""
    rows, known = [], {"default", *preset_names(params)}
    for p in m:  # a results folder of a preset no longer in params.yaml is left out
        if p not in known or _study(params, p).questions.level_split != "per_task":
            continue
        c = cost(results / p)
        if c == "-":
            continue
        v = _verdicts(m[p])
        rows.append((float(c.split()[0]), f"`{p}` {c.split(',')[0]}: {v.get('1', '-')} / {v.get('2', '-')} / "
                                          f"{v.get('3', '-')}"))
    if len(rows) < 2:
        return None
    return ("*Claims 1 / 2 / 3 against cost* (per-task levels; wall min (job min) as each study ran, some "
            "beside other work on the same cores): " + "; ".join(r for _, r in sorted(rows)) + ".")


def to_markdown(items: list[str]) -> str:
    return "# What the sweep shows\n\n" + "".join(f"- {x}\n" for x in items)
