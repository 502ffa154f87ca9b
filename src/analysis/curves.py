"""Training curves: saved as a small CSV beside the figures, drawn from it.

Three panels, so that nothing hides another: knowledge injection's loss (its own step count), each SFT
stage's loss, and GRPO's reward. The reward per step is a mean over the step's completions and jumps from
step to step, so it is drawn as a rolling mean with the 95% interval of that mean (over the window's
steps), clipped to the reward's range [0, 100]. The claims' models are drawn bold, the others thin;
a curve with few points gets markers (a smoke study logs one or two).

Re-render without retraining:  python -m src.analysis.curves results/<preset>/training_curves.csv
"""
from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from .figures import plt, save_figure

WINDOW = 10  # steps in the reward's rolling mean
FEW = 20  # a curve with at most this many points is drawn with markers
COLUMNS = ("model", "metric", "step", "value")  # training_curves.csv


def to_rows(curves: dict[str, dict[str, list[tuple[int, float]]]]) -> list[dict]:
    """{model: {metric: [(step, value)]}} as CSV rows: model, metric, step, value."""
    return [dict(zip(COLUMNS, (m, k, s, v)))
            for m, got in curves.items() for k, pts in got.items() for s, v in pts]


def from_rows(rows: list[dict]) -> dict[str, dict[str, list[tuple[int, float]]]]:
    out: dict[str, dict[str, list]] = {}
    for r in rows:
        out.setdefault(r["model"], {}).setdefault(r["metric"], []).append((int(r["step"]), float(r["value"])))
    return out


def rolling(values: list[float], window: int = WINDOW) -> tuple[list[float], list[float], list[float]]:
    """Rolling mean over the last `window` values and its 95% interval (normal, over the window's values),
    clipped to [0, 1]: the reward's own range."""
    mean, low, high = [], [], []
    for i in range(len(values)):
        w = values[max(0, i - window + 1):i + 1]
        m = sum(w) / len(w)
        half = 1.96 * math.sqrt(sum((x - m) ** 2 for x in w) / (len(w) - 1) / len(w)) if len(w) > 1 else 0.0
        mean.append(m)
        low.append(max(0.0, m - half))
        high.append(min(1.0, m + half))
    return mean, low, high


def _style(label: str, bold: set[str], n: int) -> dict:
    return {"label": label, "lw": 2.2 if label in bold else 0.9, "alpha": 1.0 if label in bold else 0.7,
            "marker": "o" if n <= FEW else None, "ms": 4}


def curves_figure(curves: dict[str, dict[str, list[tuple[int, float]]]], bold: set[str], inject: str,
                  out: Path) -> None:
    """`inject`: the knowledge-injected base's label (its own panel); `bold`: the claims' models."""
    fig, (inj_ax, sft_ax, rl_ax) = plt.subplots(1, 3, figsize=(17, 4.8))
    for label, got in curves.items():
        if "reward" in got:
            steps, values = zip(*got["reward"])
            mean, low, high = rolling(list(values))
            line, = rl_ax.plot(steps, [100 * m for m in mean], **_style(label, bold, len(steps)))
            rl_ax.fill_between(steps, [100 * x for x in low], [100 * x for x in high], color=line.get_color(),
                               alpha=0.25 if label in bold else 0.1, lw=0)
        elif "loss" in got:
            steps, values = zip(*got["loss"])
            (inj_ax if label == inject else sft_ax).plot(steps, values, **_style(label, bold, len(steps)))
    inj_ax.set(title="knowledge injection: loss per step", ylabel="loss")
    sft_ax.set(title="SFT: loss per step (the claims' models bold)", ylabel="loss")
    rl_ax.set(title=f"GRPO: reward, rolling mean of {WINDOW} steps ± 95% interval", ylabel="exact-match reward (%)",
              ylim=(-2, 102))
    for ax in (inj_ax, sft_ax, rl_ax):
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
        if ax is not rl_ax and ax.lines:
            ax.set_yscale("log")
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)


def read_csv(path: Path) -> dict[str, dict[str, list[tuple[int, float]]]]:
    with open(path) as f:
        return from_rows(list(csv.DictReader(f)))


def main() -> None:
    from ..models import BASE_LABEL
    from .claims import CLAIM_MODELS

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path, help="a study's training_curves.csv")
    ap.add_argument("--out", type=Path, help="the figure (default: figures/training_curves.png beside the CSV)")
    args = ap.parse_args()
    out = args.out or args.csv.parent / "figures" / "training_curves.png"
    curves_figure(read_csv(args.csv), CLAIM_MODELS, BASE_LABEL, out)
    print(out)


if __name__ == "__main__":
    main()
