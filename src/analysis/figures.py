"""Every figure of the report, drawn from rows (metrics.csv's, passk.csv's, the training curves) and saved
atomically."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from ..data.questions import LEVELS  # noqa: E402
from .claims import comp  # noqa: E402
from .intervals import mean_ci  # noqa: E402
from .tables import LEVEL_NAMES  # noqa: E402


def save_figure(fig, out: Path) -> None:
    """PNG written under a temporary name, then renamed: never a half-written figure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.png")
    fig.savefig(tmp, dpi=120, metadata={"Software": None})  # no version stamp: same bytes on a rerun
    plt.close(fig)
    os.replace(tmp, out)


def passk_figure(rows: list[dict], out: Path) -> None:
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    fig, axes = plt.subplots(1, len(LEVELS), figsize=(5 * len(LEVELS), 5), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, lv in zip(axes, LEVELS):
        for i, recipe in enumerate(recipes):
            for side, style in (("base", "--"), ("rl", "-")):
                pts = [r for r in rows if r["recipe"] == recipe and r["side"] == side and r["level"] == lv
                       and r["seed"] == min(x["seed"] for x in rows)]
                if pts:
                    name = recipe if side == "rl" else f"base of {recipe}: {pts[0]['model']}"
                    ax.plot([p["k"] for p in pts], [100 * p["pass_at_k"] for p in pts], style,
                            color=colors[i % len(colors)], label=name)
        ax.set_xscale("log", base=2)
        ax.set_title(f"Comp {LEVEL_NAMES[lv]}")
        ax.set_xlabel("k")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("pass@k (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=4)
    fig.suptitle("pass@k: RL model (solid) vs the model it started from (dashed; same colour)")
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    save_figure(fig, out)


def comp_figure(rows: list[dict], recipes: list[str], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(LEVELS)
    for j, lv in enumerate(LEVELS):
        stats = [mean_ci(list(comp(rows, r, lv).values())) if comp(rows, r, lv) else (0, 0) for r in recipes]
        ax.bar([i + j * width for i in range(len(recipes))], [m for m, _ in stats], width,
               yerr=[0 if h != h else h for _, h in stats], capsize=2, label=LEVEL_NAMES[lv])
    ax.set_xticks([i + width for i in range(len(recipes))])
    ax.set_xticklabels(recipes, rotation=25, ha="right", fontsize=7)
    ax.set_ylabel("Comp exact match (%)")
    ax.set_title("Comp task by recipe and generalization level (mean ± 95% CI over seeds)")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, out)


def share_figure(rows: list[dict], shares: dict[int, tuple[str, str]], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for lv, colour in zip(LEVELS, ("C0", "C1", "C2")):
        for side, style, name in ((0, "--", "SFT base"), (1, "-", "after RL(Comp)")):
            values = [list(comp(rows, pair[side], lv).values()) for pair in shares.values()]
            ys = [mean_ci(v)[0] if v else float("nan") for v in values]
            ax.plot(list(shares), ys, style, color=colour, marker="o", label=f"{LEVEL_NAMES[lv]}, {name}")
    ax.set_xlabel("share of the atomic (Mem+Ctx) SFT data (%)")
    ax.set_ylabel("Comp exact match (%)")
    ax.set_title("Atomic data before RL")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)


def shifts_figure(projected: dict, shifts: dict[str, dict], explained: list[float], out: Path) -> None:
    """One panel per RL model: its last-layer shifts on the first two components of all models' shifts,
    coloured by position kind, marked by level."""
    fig, axes = plt.subplots(1, len(projected), figsize=(5 * len(projected), 4.5), squeeze=False,
                             sharex=True, sharey=True)
    colors = {"prompt": "tab:gray", "recalled": "tab:blue", "read": "tab:orange"}
    markers = {"iid": "o", "composition": "s", "zero_shot": "^"}
    for ax, (label, xy) in zip(axes[0], projected.items()):
        kinds, levels = shifts[label]["kind"], shifts[label]["level"]
        for kind, color in colors.items():
            for lv, marker in markers.items():
                pts = xy[(kinds == kind) & (levels == lv)]
                if len(pts):
                    ax.scatter(pts[:, 0], pts[:, 1], s=12, c=color, marker=marker, alpha=0.6,
                               label=f"{kind}, {LEVEL_NAMES[lv]}")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(f"PC1 ({100 * explained[0]:.0f}% of the variance)")
    axes[0][0].set_ylabel(f"PC2 ({100 * explained[1]:.0f}%)" if len(explained) > 1 else "PC2")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle("Where RL moves the hidden states: RL model minus its start, last layer (shared PCA)")
    fig.tight_layout()
    save_figure(fig, out)
