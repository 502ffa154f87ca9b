"""The paper's reported numbers (Qwen2.5-1.5B, exact match %, Comp test set), from docs/paper.md.

These are the reference we compare against, not results of this pipeline.
"""
PAPER_COMP = {  # recipe -> (I.I.D., Composition, Zero-shot)
    "SFT(Mem+Ctx)": (35.18, 28.20, 24.07),
    "SFT(Comp)": (90.30, 76.25, 18.41),
    "SFT(Mem+Ctx+Comp)": (80.14, 62.90, 43.25),
    "SFT(Mem+Ctx)->RL(Mem+Ctx)": (28.43, 28.34, 27.89),
    "SFT(Mem+Ctx)->RL(Mem+Ctx)->RL(Comp)": (74.00, 62.47, 49.56),
    "SFT(Mem+Ctx)->RL(Comp)": (73.11, 60.85, 50.87),
}

# Error localisation (paper.md), questions wrong before and after RL, keyed by the RL recipe's start:
# (before RL, after RL) share of first errors at a contextual hop and mean normalised position, in %.
PAPER_ERRORS = {
    "SFT(Comp)": {"contextual_share": (90.0, 86.0), "mean_position": (54.5, 45.0)},
    "SFT(Mem+Ctx)": {"contextual_share": (86.0, 30.0), "mean_position": (18.5, 71.8)},
}
