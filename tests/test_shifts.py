"""Where RL moves the hidden states: the positions read, and the analysis on a case with a known answer."""
import numpy as np

from src.analysis import shifts as h
from src.data.relations import BY_NAME, PARAMETRIC
from src.evaluation.hidden import points
from src.io import read_jsonl
from src.training.tokenizer import build_word_tokenizer


def test_the_positions_are_the_prompt_end_and_each_hops_first_token(smoke_data):
    tokenizer = build_word_tokenizer(smoke_data)
    record = next(r for r in read_jsonl(smoke_data / "qa_comp.jsonl") if r["split"] == "zero_shot")
    ids, marks = points(record, tokenizer)
    tokens = tokenizer.convert_ids_to_tokens(ids)
    (prompt_at, (kind, hop)), hops = marks[0], marks[1:]
    assert (kind, hop) == ("prompt", -1) and tokens[prompt_at] == ":"  # "... Answer:"
    assert len(hops) == len(record["relation_path"])
    for (at, (kind, hop)), rel, subject in zip(hops, record["relation_path"], record["entities"]):
        assert kind == ("recalled" if BY_NAME[rel].group == PARAMETRIC else "read")
        assert tokens[at] == subject.split()[0]  # each hop's sentence starts with its subject's name
    assert [hop for _, (_, hop) in hops] == list(range(len(hops)))


def _toy(scale_hops: float, rng) -> dict:
    """Shifts with a known structure: recalled hops move along axis 0, read hops along axis 1."""
    n, layers, d = 40, 3, 6
    kind = np.array(["prompt"] * n + ["recalled"] * n + ["read"] * n)
    shift = rng.normal(0, 0.01, (3 * n, layers, d))
    shift[n:2 * n, :, 0] += scale_hops
    shift[2 * n:, :, 1] += scale_hops
    return {"shift": shift, "start_norm": np.ones((3 * n, layers)), "kind": kind,
            "level": np.array(["iid", "composition", "zero_shot"] * n), "id": np.arange(3 * n), "hop": np.zeros(3 * n)}


def test_the_analysis_finds_a_known_contrast():
    rng = np.random.default_rng(0)
    shifts = {"SFT(Mem+Ctx)->RL(Comp)": _toy(1.0, rng), "SFT(Comp)->RL(Comp)": _toy(0.1, rng)}
    s = h.summary(shifts)
    big, small = s["models"]["SFT(Mem+Ctx)->RL(Comp)"], s["models"]["SFT(Comp)->RL(Comp)"]
    assert abs(big["hop_shift"] - 1.0) < 0.05 and abs(small["hop_shift"] - 0.1) < 0.05
    assert big["separation"] > 10  # the two hop kinds move along different axes, far beyond their scatter
    assert sum(s["explained"]) > 0.9  # two axes hold the variance
    sentence = h.contrast(s["models"], "SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)")
    assert sentence.startswith("The paper's contrast appears")
    flipped = h.contrast(s["models"], "SFT(Comp)->RL(Comp)", "SFT(Mem+Ctx)->RL(Comp)")
    assert flipped.startswith("The paper's contrast does not appear")
    rows = h.layer_rows("toy", shifts["SFT(Mem+Ctx)->RL(Comp)"])
    assert [r["layer"] for r in rows] == [0, 1, 2] and all(r["recalled"] > 10 * r["prompt"] for r in rows)
