"""Where RL moves the hidden states (the paper's Figure 7), from the shifts src/evaluation/hidden.py saved.

For each RL(Comp) model of the first seed and the model it started from: how far RL moves each layer's
state (the mean shift norm over the start's mean state norm, per layer and position kind), a PCA of the
shifts at the last layer, fitted on every model's shifts together so the panels share their axes, the
variance its first components explain, and how far the shifts at recalled hops and at read hops
separate (the distance between their means over the mean spread around them). The paper's contrast:
RL from SFT(Mem+Ctx) moves the hop positions where SFT(Comp)'s line does not.
"""
from __future__ import annotations

import numpy as np

KINDS = ("prompt", "recalled", "read")
CONTRAST = 1.5  # the contrast appears where one line's hop shift is at least 1.5x the other's


def load(path) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def layer_rows(label: str, s: dict) -> list[dict]:
    """Per layer and position kind: mean shift norm relative to the start's mean state norm."""
    norms = np.linalg.norm(s["shift"], axis=-1)  # [points, layers]
    rows = []
    for layer in range(norms.shape[1]):
        row = {"model": label, "layer": layer}
        for kind in KINDS:
            mine = s["kind"] == kind
            row[kind] = (round(float(norms[mine, layer].mean() / s["start_norm"][mine, layer].mean()), 4)
                         if mine.any() else None)
        rows.append(row)
    return rows


def hop_shift(s: dict) -> float:
    """The relative shift at the hop positions (recalled and read) of the last layer."""
    hops = s["kind"] != "prompt"
    return float(np.linalg.norm(s["shift"][hops, -1], axis=-1).mean() / s["start_norm"][hops, -1].mean())


def separation(x: np.ndarray, kinds: np.ndarray) -> float | None:
    """Distance between the mean recalled-hop and read-hop shifts over their mean spread (RMS distance to
    their own mean): above 1, the two kinds of hops move apart more than they scatter."""
    a, b = x[kinds == "recalled"], x[kinds == "read"]
    if len(a) < 2 or len(b) < 2:
        return None
    spread = np.sqrt((((a - a.mean(0)) ** 2).sum(1).mean() + ((b - b.mean(0)) ** 2).sum(1).mean()) / 2)
    return float(np.linalg.norm(a.mean(0) - b.mean(0)) / spread) if spread > 0 else None


def pca(shifts: dict[str, dict], components: int = 2) -> tuple[dict[str, np.ndarray], list[float]]:
    """Every model's last-layer shifts projected on the first components of all of them together, and the
    share of the variance each component explains."""
    pooled = np.concatenate([s["shift"][:, -1] for s in shifts.values()])
    mean = pooled.mean(0)
    _, sv, vt = np.linalg.svd(pooled - mean, full_matrices=False)
    explained = (sv ** 2 / (sv ** 2).sum())[:components]
    return ({m: (s["shift"][:, -1] - mean) @ vt[:components].T for m, s in shifts.items()},
            [round(float(e), 4) for e in explained])


def summary(shifts: dict[str, dict]) -> dict:
    """The numbers beside the figure, and whether the paper's contrast appears."""
    projected, explained = pca(shifts)
    out = {"explained": explained, "models": {}}
    for m, s in shifts.items():
        out["models"][m] = {"hop_shift": round(hop_shift(s), 4),
                            "separation": separation(s["shift"][:, -1], s["kind"]),
                            "points": int(len(s["kind"]))}
    return out


def contrast(models: dict[str, dict], synth: str, ampl: str) -> str | None:
    """One sentence: does RL from SFT(Mem+Ctx) move the hop positions where SFT(Comp)'s line does not?"""
    if synth not in models or ampl not in models:
        return None
    a, b = models[synth]["hop_shift"], models[ampl]["hop_shift"]
    appears = a >= CONTRAST * b
    return (f"The paper's contrast {'appears' if appears else 'does not appear'}: at the hop positions of the last "
            f"layer RL moves {synth}'s states by {a:.3f} of their norm and {ampl}'s by {b:.3f} "
            f"({a / b:.1f}x; the contrast needs {CONTRAST}x)." if b > 0 else None)
