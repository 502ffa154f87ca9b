"""The study's estimators against brute force and hand computation."""
import itertools
import math
from statistics import mean, stdev

import pytest

from src.analysis.errors import error_kind, first_wrong_hop, localise, stated_facts, value_source
from src.analysis.intervals import mean_ci, paired_diff_ci, pass_at_k, t975
from src.data.world import sentence


@pytest.mark.parametrize("n,c", [(1, 0), (1, 1), (5, 0), (5, 2), (6, 5), (8, 3), (10, 10)])
def test_pass_at_k_equals_brute_force(n, c):
    samples = [True] * c + [False] * (n - c)
    for k in range(1, n + 1):
        subsets = list(itertools.combinations(samples, k))
        brute = sum(any(s) for s in subsets) / len(subsets)
        assert pass_at_k(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_pass_at_k_large_n_is_stable_and_monotone():
    values = [pass_at_k(512, 3, k) for k in range(1, 513)]
    assert values[0] == pytest.approx(3 / 512)
    assert all(a <= b + 1e-12 for a, b in zip(values, values[1:])) and values[-1] == 1.0


def test_pass_at_k_rejects_bad_counts():
    with pytest.raises(ValueError):
        pass_at_k(4, 5, 1)
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 5)


def test_mean_ci_matches_the_t_interval():
    xs = [10.0, 14.0, 18.0]
    m, half = mean_ci(xs)
    assert m == 14.0
    assert half == pytest.approx(4.303 * stdev(xs) / math.sqrt(3))
    assert math.isnan(mean_ci([5.0])[1])
    assert t975(1) == 12.706 and t975(11) == 2.228 and t975(100) == 1.96


def test_paired_difference_uses_per_seed_differences():
    a, b = [50.0, 60.0, 70.0], [10.0, 25.0, 30.0]
    d, half = paired_diff_ci(a, b)
    diffs = [40.0, 35.0, 40.0]
    assert d == pytest.approx(mean(diffs))
    assert half == pytest.approx(4.303 * stdev(diffs) / math.sqrt(3))
    with pytest.raises(ValueError):
        paired_diff_ci([1.0], [1.0, 2.0])


# a hand-made 3-hop Comp question: child (parametric) -> colleague (contextual) -> hobby (parametric)
REC = {"id": "q1", "relation_path": ["child", "colleague", "hobby"], "entities": ["Ann Lee", "Bo Park", "Cy Dunn", "chess"],
       "answer": "chess"}
GOLD = [sentence(r, a, b) for r, a, b in zip(REC["relation_path"], REC["entities"], REC["entities"][1:])]


def test_first_wrong_hop_on_hand_made_chains():
    right = " ".join(GOLD) + " So, the answer is: chess"
    assert first_wrong_hop(REC, right) is None
    assert first_wrong_hop(REC, " ".join(GOLD[:1]) + " Bo Park's colleague is Di Ross. Di Ross's hobby is golf. "
                           "So, the answer is: golf") == 1
    assert first_wrong_hop(REC, "Ann Lee's child is Ed Moss. So, the answer is: Ed Moss") == 0
    assert first_wrong_hop(REC, " ".join(GOLD[:2]) + " So, the answer is: Cy Dunn") == 2  # stops early
    # the word-level tokenizer decodes with spaces around punctuation: matching is on normalised text
    spaced = " ".join(GOLD).replace("'s", " ' s").replace(".", " .")
    assert first_wrong_hop(REC, spaced) is None


def test_error_kind_tells_a_wrong_value_from_a_wrong_step():
    # right person and relation, another value: a fact not recalled (or not read)
    assert error_kind(REC, GOLD[0] + " Bo Park's colleague is Di Ross. So, the answer is: x") == (1, "value")
    # another relation at the first hop: the path was not followed
    assert error_kind(REC, "Ann Lee's boss is Bo Park. So, the answer is: x") == (0, "step")
    assert error_kind(REC, "So, the answer is: chess") == (0, "step")  # no chain at all
    # every hop right, the final statement wrong: counted at the last hop
    assert error_kind(REC, " ".join(GOLD) + " So, the answer is: golf") == (2, "answer")
    # normalised like first_wrong_hop: the tokenizer's spacing does not matter
    assert error_kind(REC, "Ann Lee ' s child is Ed Moss .") == (0, "value")


def test_a_wrong_read_value_is_traced_to_the_fact_it_copies():
    """Bo Park's colleague is read from the prompt; a wrong value is someone's fact, or no stated one."""
    context = ("Bo Park's colleague is Cy Dunn. Cy Dunn's colleague is Ed Moss. Di Ross's colleague is Fay Wu. "
               "Bo Park's neighbor is Gil Hart.")
    by_subject = {"Bo Park": [("colleague", "Cy Dunn"), ("neighbor", "Gil Hart")], "Cy Dunn": [("colleague", "Ed Moss")],
                  "Di Ross": [("colleague", "Fay Wu")], "Hal Ng": [("colleague", "Ivy Cole")]}  # Hal: not in the prompt
    stated = stated_facts(context, by_subject)
    assert len(stated) == 4 and ("Hal Ng", "colleague", "Ivy Cole") not in stated

    def source(value):
        generation = f"{GOLD[0]} Bo Park ' s colleague is {value} . So, the answer is: x"
        assert error_kind(REC, generation) == (1, "value")
        return value_source(REC, generation, stated)
    assert source("Zed Quinn") == "not in the prompt"
    assert source("Ed Moss") == "another hop's fact"  # Cy Dunn's colleague: the chain's next hop
    assert source("Fay Wu") == "same relation, another person"  # Di Ross, outside the chain
    assert source("Gil Hart") == "another fact"  # Bo Park's neighbor


def test_localise_counts_contextual_first_errors_and_positions():
    recs = {"q1": REC, "q2": {**REC, "id": "q2"}}
    wrong_ctx = " ".join(GOLD[:1]) + " Bo Park's colleague is Di Ross. So, the answer is: x"  # hop 1: contextual
    wrong_first = "Ann Lee's child is Ed Moss. So, the answer is: x"  # hop 0: parametric
    right = " ".join(GOLD) + " So, the answer is: chess"
    before = {"q1": {"generation": wrong_ctx, "correct": False}, "q2": {"generation": wrong_first, "correct": False}}
    after = {"q1": {"generation": wrong_first, "correct": False}, "q2": {"generation": right, "correct": True}}
    out = localise(recs, before, after)
    assert out["questions"] == 1  # q2 is right after RL: not counted
    assert out["before"] == {"contextual_share": 1.0, "mean_position": 0.5}
    assert out["after"] == {"contextual_share": 0.0, "mean_position": 0.0}
