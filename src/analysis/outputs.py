"""The report's outputs, declared once: the report rule's `output:` (with the HTML report's captions and
categories) and the paths src/analysis/report.py writes both come from this table. A light import:
Snakemake reads it at planning."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..data.questions import LEVELS


@dataclass(frozen=True)
class Output:
    name: str  # the rule's output name
    path: str  # under results/<preset>/
    caption: str | None = None  # report/<caption>.rst: shown by `snakemake --report`; None: not in that report
    category: str | None = None
    needs: str | None = None  # written only when the study has it: "share" (share recipes), "shifts" (RL(Comp))


OUTPUTS = (
    Output("report", "REPORT.md", "report_md", "Report"),
    Output("passk_csv", "passk.csv", "passk_csv", "Tables"),
    Output("passk_samples_csv", "passk_samples.csv"),
    *(Output(f"passk_{lv}_csv", f"passk_{lv}.csv") for lv in LEVELS),  # dvc plots show: a curve per model
    Output("errors_csv", "error_localisation.csv", "errors_csv", "Tables"),
    Output("atomic_errors_csv", "atomic_errors.csv", "atomic_errors_csv", "Tables"),
    Output("headline", "headline.json"),
    Output("speed_csv", "speed.csv", "speed_csv", "Speed"),
    Output("zero_shot_csv", "zero_shot_relations.csv", "zero_shot_relations_csv", "Tables"),
    Output("shifts_csv", "hidden_shifts.csv", "hidden_shifts_csv", "Tables"),
    Output("path_length_csv", "path_length.csv"),  # accuracy by path length, every model and seed
    Output("curves_csv", "training_curves.csv"),  # the figure's data: src.analysis.curves redraws it
    Output("passk_png", "figures/passk.png", "passk", "Figures"),
    Output("comp_png", "figures/comp_levels.png", "comp_levels", "Figures"),
    Output("shifts_png", "figures/hidden_shifts.png", "hidden_shifts", "Figures", needs="shifts"),
    Output("curves_png", "figures/training_curves.png", "training_curves", "Figures"),
    Output("share_png", "figures/data_share.png", "data_share", "Figures", needs="share"),
)
BY_NAME = {o.name: o for o in OUTPUTS}


def at(results: Path, name: str) -> Path:
    """Where the report writes output `name` of the study in `results`."""
    return Path(results) / BY_NAME[name].path
