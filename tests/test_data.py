"""Invariants of the generated world and question sets (paper.md's rules), on real smoke-sized data."""
import collections
import copy
import filecmp
import json

import pytest

from src.data.checks import check_dataset
from src.data.generate import generate
from src.data.relations import BY_NAME, CONTEXTUAL, PARAMETRIC, RELATIONS
from src.params.stages import settings

from .conftest import ROOT, load_data


def test_relations_match_the_paper():
    assert len(RELATIONS) == 39
    assert sum(r.group == PARAMETRIC for r in RELATIONS) == 20
    assert {r.name for r in RELATIONS if r.symmetric} == {
        "spouse", "best_friend", "colleague", "sibling", "rival", "neighbor", "classmate", "roommate"}
    pairs = {frozenset((r.name, r.inverse)) for r in RELATIONS if r.inverse}
    assert pairs == {frozenset(p) for p in [("child", "parent"), ("mentoring", "mentored_by"),
                                            ("boss", "boss_of"), ("influenced_by", "influence")]}
    assert all(len(set(r.templates)) == 3 for r in RELATIONS)
    assert all(r.templates[0] == "{s}'s " + r.noun + " is {o}." for r in RELATIONS)


def test_relation_subset_and_single_template(smoke_data, smoke_cfg):
    facts, records, plan, bios = load_data(smoke_data)
    active = set(smoke_cfg["world"]["relations"])
    assert {f["relation"] for f in facts} == active
    assert set().union(*(t["relation_levels"] for t in plan["tasks"].values())) == active
    assert all(set(r["relation_path"]) <= active for r in records)
    if smoke_cfg["world"]["templates"] == 1:  # every text sentence is the canonical one
        kb = {(f["subject"], f["relation"]): f["object"] for f in facts}
        for b in bios[:20]:
            expected = {BY_NAME[r].templates[0].format(s=s, o=o) for (s, r), o in kb.items() if s == b["person"]
                        and BY_NAME[r].group == PARAMETRIC}
            assert all(sent in expected for sent in split_sentences(b["text"], expected))


def split_sentences(text, expected):
    """The sentences of `text`, cut at the known sentences (values may contain periods)."""
    found = [e for e in expected if e in text]
    assert sum(len(e) for e in found) + len(found) - 1 == len(text), "text has sentences outside the canonical set"
    return found


def test_generated_data_is_sound(smoke_data):
    assert check_dataset(*load_data(smoke_data)) == []


def test_every_task_has_every_split(smoke_data):
    stats = json.loads((smoke_data / "stats.json").read_text())
    for task in ("mem", "ctx", "comp"):
        for split in ("train", "iid", "composition", "zero_shot"):
            assert stats[f"{task}/{split}"] > 0, f"{task}/{split}"


def test_record_fields(smoke_data):
    facts, records, _, _ = load_data(smoke_data)
    assert set(facts[0]) == {"subject", "relation", "object", "group"}
    assert {r["task"] for r in records} == {"mem", "ctx", "comp"}
    for r in records:
        assert set(r) == {"id", "task", "split", "relation_path", "entities", "question", "context",
                          "answer_cot", "answer"}
        assert len(r["entities"]) == len(r["relation_path"]) + 1
    assert len({r["id"] for r in records}) == len(records)


def test_biographies_hold_only_parametric_facts(smoke_data):
    facts, _, _, bios = load_data(smoke_data)
    contextual = [f for f in facts if f["group"] == CONTEXTUAL and f["relation"] in ("spouse", "birth_place")]
    texts = " ".join(b["text"] for b in bios)
    for f in contextual[:50]:
        for t in BY_NAME[f["relation"]].templates:
            assert t.format(s=f["subject"], o=f["object"]) not in texts
    renderings = {}
    for b in bios:
        renderings.setdefault(b["person"], set()).add(b["text"])
    assert all(len(v) > 1 for v in renderings.values()), "each biography must be rendered several ways"


def test_same_params_and_seed_give_identical_files(tmp_path, smoke_cfg, smoke_data):
    generate(settings("generate_data", smoke_cfg), tmp_path / "again")
    names = sorted(p.name for p in smoke_data.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(smoke_data, tmp_path / "again", names, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(names) >= 7


def test_another_seed_gives_another_world(tmp_path, smoke_cfg, smoke_data):
    cfg = copy.deepcopy(smoke_cfg)
    cfg["world"]["seed"] += 1
    generate(settings("generate_data", cfg), tmp_path / "other")
    assert (tmp_path / "other" / "facts.jsonl").read_bytes() != (smoke_data / "facts.jsonl").read_bytes()


def test_distractor_paragraphs_state_the_same_relations_about_other_people(tmp_path, smoke_cfg):
    cfg = copy.deepcopy(smoke_cfg)
    cfg["questions"]["distractor_paragraphs"] = 2
    generate(settings("generate_data", cfg), tmp_path / "d")
    facts, records, plan, bios = load_data(tmp_path / "d")
    assert check_dataset(facts, records, plan, bios) == []  # every contextual hop still readable, none leaked
    by_subject: dict[str, list] = {}
    for f in facts:
        by_subject.setdefault(f["subject"], []).append((f["relation"], f["object"]))
    checked = 0
    for r in records:
        if r["task"] == "mem":
            continue
        chain, hops = r["entities"], list(zip(r["relation_path"], r["entities"]))
        needed = {(a, rel) for rel, a in hops if BY_NAME[rel].group == CONTEXTUAL}
        paragraphs = r["context"].split("\n\n")
        assert len(paragraphs) == 3 * len({a for a, _ in needed}), r["id"]
        for a, rel in needed:  # the relation is stated about two other people too, never the chain's
            others = [p for p in paragraphs if f"'s {BY_NAME[rel].noun} is " in p and not p.startswith(a)]
            assert len(others) >= 2, r["id"]
        for p in paragraphs:  # a distractor names no one of the chain
            subject = p.split("'s ")[0]
            if subject not in chain:
                stated = [o for rel, o in by_subject[subject] if f"{subject}'s {BY_NAME[rel].noun} is {o}." in p]
                assert stated and not set(stated) & set(chain), r["id"]
        checked += 1
    assert checked > 100
    cfg["questions"]["distractor_paragraphs"] = 10_000  # more than the world has people
    with pytest.raises(ValueError, match="questions.distractor_paragraphs"):
        generate(settings("generate_data", cfg), tmp_path / "too_many")


# ---- each invariant check fails when its invariant is broken ----

def _first(records, task, split):
    return next(r for r in records if r["task"] == task and r["split"] == split)


def _broken(smoke_data, mutate):
    facts, records, plan, bios = copy.deepcopy(load_data(smoke_data))
    mutate(facts, records, plan, bios)
    return "\n".join(check_dataset(facts, records, plan, bios))


def test_check_catches_a_wrong_answer(smoke_data):
    def mutate(facts, records, plan, bios):
        r = _first(records, "mem", "train")
        r["answer"] = r["entities"][-1] = "Nobody"
    assert "do not follow from facts" in _broken(smoke_data, mutate)


def test_check_catches_a_missing_contextual_paragraph(smoke_data):
    def mutate(facts, records, plan, bios):
        r = next(r for r in records if r["task"] == "comp" and r["context"])
        r["context"] = ""
    assert "lacks the contextual hop" in _broken(smoke_data, mutate)


def test_check_catches_a_leaked_parametric_hop(smoke_data):
    def mutate(facts, records, plan, bios):
        r = _first(records, "comp", "train")
        i = next(i for i, x in enumerate(r["relation_path"]) if BY_NAME[x].group == PARAMETRIC)
        rel, a, b = r["relation_path"][i], r["entities"][i], r["entities"][i + 1]
        r["context"] += " " + BY_NAME[rel].templates[1].format(s=a, o=b)
    assert "states the parametric hop" in _broken(smoke_data, mutate)


def test_check_catches_a_distractor_linking_a_parametric_hops_people(smoke_data):
    """The question asks A's child (recalled); a context sentence "B's neighbor is A" would let a reader
    guess that hop without recalling it. The generator never writes one; the check names it."""
    def mutate(facts, records, plan, bios):
        r = next(r for r in records if r["task"] == "comp" and r["context"]
                 and any(BY_NAME[x].group == PARAMETRIC for x in r["relation_path"]))
        i = next(i for i, x in enumerate(r["relation_path"]) if BY_NAME[x].group == PARAMETRIC)
        a, b = r["entities"][i], r["entities"][i + 1]
        link = next(x for x in BY_NAME if BY_NAME[x].group == CONTEXTUAL and BY_NAME[x].person and BY_NAME[x].symmetric)
        for f in facts:  # make b and a neighbours (say), and say so in the context
            if f["subject"] in (a, b) and f["relation"] == link:
                f["object"] = a if f["subject"] == b else b
        r["context"] += " " + BY_NAME[link].templates[0].format(s=b, o=a)
    assert "the context links" in _broken(smoke_data, mutate)


def test_check_catches_a_zero_shot_relation_in_training(smoke_data):
    def mutate(facts, records, plan, bios):
        zs = _first(records, "mem", "zero_shot")
        zs["split"] = "train"
    out = _broken(smoke_data, mutate)
    assert "training question uses a zero-shot relation" in out
    assert "a zero-shot test path has no relation that the task's training questions lack" in out


def test_check_catches_comp_recalling_what_mem_never_trains(smoke_data):
    def mutate(facts, records, plan, bios):
        comp = next(r for r in records if r["task"] == "comp" and r["split"] == "train")
        recalled = next(x for x in comp["relation_path"] if BY_NAME[x].group == PARAMETRIC)
        for r in records:  # Mem's training questions stop asking that relation
            if r["task"] == "mem" and r["split"] == "train" and recalled in r["relation_path"]:
                r["split"] = "removed"
    assert "a Comp question recalls a relation that no Mem training question asks" in _broken(smoke_data, mutate)


def test_check_catches_a_recallable_ctx_hop(smoke_data):
    """A Ctx question about injected people must be read, not recalled: the check names a hop whose two
    people an injected fact links."""
    def mutate(facts, records, plan, bios):
        injected = {b["person"] for b in bios}
        r = next(r for r in records if r["task"] == "ctx" and r["entities"][0] in injected
                 and BY_NAME[r["relation_path"][0]].person)
        a, b = r["entities"][0], r["entities"][1]
        facts.append({"subject": a, "relation": "pet", "object": b, "group": PARAMETRIC})
    assert "a Ctx hop can be recalled" in _broken(smoke_data, mutate)


def test_check_catches_a_contextual_fact_in_the_injection_corpus(smoke_data):
    def mutate(facts, records, plan, bios):
        f = next(f for f in facts if f["group"] == CONTEXTUAL and f["subject"] == bios[0]["person"])
        bios[0]["text"] += " " + BY_NAME[f["relation"]].templates[2].format(s=f["subject"], o=f["object"])
    assert "contextual fact" in _broken(smoke_data, mutate) and "is in the injection corpus" in _broken(smoke_data, mutate)


def test_each_task_draws_its_own_levels(smoke_data):
    """The authors' design: Mem splits the parametric relations, Ctx the contextual ones, Comp recalls only
    what Mem's I.I.D. paths train, and Comp's zero-shot relations are absent from Comp training only."""
    _, records, plan, _ = load_data(smoke_data)
    assert plan["level_split"] == "per_task"
    tasks = plan["tasks"]
    for task, t in tasks.items():
        assert all(t["relations"][lv] for lv in ("iid", "composition", "zero_shot")), task
    assert {BY_NAME[r].group for r in tasks["mem"]["relation_levels"]} == {PARAMETRIC}
    assert {BY_NAME[r].group for r in tasks["ctx"]["relation_levels"]} == {CONTEXTUAL}
    mem_iid = {x for p in tasks["mem"]["test_paths"]["iid"] for x in p}
    assert set(plan["comp_relation_pool"]["parametric"]) <= mem_iid
    assert not set(plan["comp_relation_pool"]["parametric"]) & set(tasks["mem"]["relations"]["zero_shot"])
    trained = {t: {x for r in records if r["task"] == t and r["split"] == "train" for x in r["relation_path"]}
               for t in tasks}
    for rel, where in plan["comp_zero_shot_trained_in"].items():
        assert rel not in trained["comp"]
        assert where == [t for t in ("mem", "ctx") if rel in trained[t]]
    assert any(plan["comp_zero_shot_trained_in"].values()), "no Comp zero-shot relation is trained atomically"


def test_shared_split_is_one_level_per_relation(tmp_path, smoke_cfg):
    cfg = copy.deepcopy(smoke_cfg)
    cfg["questions"].update(level_split="shared", ctx_familiar_share=0.0)
    generate(settings("generate_data", cfg), tmp_path / "shared")
    facts, records, plan, bios = load_data(tmp_path / "shared")
    levels = {}
    for t in plan["tasks"].values():
        for rel, lv in t["relation_levels"].items():
            assert levels.setdefault(rel, lv) == lv
    assert set(plan["comp_relation_pool"]["parametric"]) == {r for r in levels if BY_NAME[r].group == PARAMETRIC}
    injected = {b["person"] for b in bios}
    assert not any(set(r["entities"]) & injected for r in records if r["task"] == "ctx")


def test_ctx_questions_about_injected_people(smoke_data, smoke_cfg):
    """The asked share of Ctx training questions start from injected people and stay among them; every
    test level has the training's share, up to rounding."""
    _, records, _, bios = load_data(smoke_data)
    injected = {b["person"] for b in bios}
    ctx = [r for r in records if r["task"] == "ctx"]
    familiar = [r for r in ctx if r["entities"][0] in injected]
    train = [r for r in ctx if r["split"] == "train"]
    share = smoke_cfg["questions"]["ctx_familiar_share"]
    train_share = sum(r in familiar for r in train) / len(train)
    assert share > 0 and abs(train_share - share) < 1 / len(train) + 1e-9
    for level in ("composition", "zero_shot"):
        test = [r for r in ctx if r["split"] == level]
        assert abs(sum(r in familiar for r in test) - train_share * len(test)) < 1, level
    people = [e for r in familiar for e, rel in zip(r["entities"][1:], r["relation_path"]) if BY_NAME[rel].person]
    assert people and set(people) <= injected
    stats = json.loads((smoke_data / "stats.json").read_text())
    assert stats["ctx/familiar"] == len(familiar)


@pytest.mark.parametrize("task", ["mem", "ctx", "comp"])
def test_iid_test_is_drawn_like_training_on_iid_paths(smoke_data, task):
    """Cell by cell (path length, start at an injected person) the I.I.D. test is its share of all
    questions on I.I.D. paths, up to rounding (a stratified split); plan.json gives each set's mix."""
    _, records, plan, bios = load_data(smoke_data)
    injected = {b["person"] for b in bios}
    iid_paths = {tuple(p) for p in plan["tasks"][task]["test_paths"]["iid"]}
    cell = lambda r: (len(r["relation_path"]), r["entities"][0] in injected)  # noqa: E731
    train = collections.Counter(cell(r) for r in records if r["task"] == task and r["split"] == "train"
                                and tuple(r["relation_path"]) in iid_paths)
    test = collections.Counter(cell(r) for r in records if r["task"] == task and r["split"] == "iid")
    pool = train + test
    n, total = sum(test.values()), sum(pool.values())
    assert n and set(test) <= set(train)
    assert all(abs(test[k] - n * v / total) < 1 for k, v in pool.items())
    mix = plan["tasks"][task]["mix"]
    assert mix["iid"]["questions"] == n and mix["train_on_iid_paths"]["questions"] == total - n
    assert sum(mix["iid"]["hops"].values()) == n


def test_check_catches_an_iid_test_not_drawn_like_training(smoke_data):
    def mutate(facts, records, plan, bios):
        iid = [r for r in records if r["task"] == "mem" and r["split"] == "iid"]
        hops = len(iid[0]["relation_path"])
        for r in iid:  # the I.I.D. test loses every question of one length
            if len(r["relation_path"]) == hops:
                r["split"] = "removed"
    assert "the mem I.I.D. test has 0 of" in _broken(smoke_data, mutate)


def test_check_catches_a_level_with_another_familiar_share(smoke_data):
    def mutate(facts, records, plan, bios):
        injected = {b["person"] for b in bios}
        for r in records:  # Ctx Zero-shot keeps only its questions about new people
            if r["task"] == "ctx" and r["split"] == "zero_shot" and r["entities"][0] in injected:
                r["split"] = "removed"
    assert "the ctx zero_shot test has 0 of" in _broken(smoke_data, mutate)


def test_length_matched_levels_take_the_iid_length_mix(tmp_path, smoke_cfg):
    """With questions.length_matched_levels, Composition and Zero-shot tests have the I.I.D.-path
    training's path lengths (over the lengths their paths have), checked by the data check too."""
    cfg = copy.deepcopy(smoke_cfg)
    cfg["questions"]["length_matched_levels"] = True
    generate(settings("generate_data", cfg), tmp_path / "matched")
    facts, records, plan, bios = load_data(tmp_path / "matched")
    assert plan["length_matched_levels"] and not check_dataset(facts, records, plan, bios)
    for task, t in plan["tasks"].items():
        ref = {int(h): n for h, n in t["mix"]["train_on_iid_paths"]["hops"].items()}
        for level in ("composition", "zero_shot"):
            lengths = {len(p) for p in t["test_paths"][level]}
            got = {int(h): n for h, n in t["mix"][level]["hops"].items()}
            total, n = sum(v for h, v in ref.items() if h in lengths), t["mix"][level]["questions"]
            assert all(abs(got.get(h, 0) - n * ref[h] / total) < 1 for h in ref if h in lengths), (task, level)

    def mutate(facts, records, plan, bios):  # a matched level that keeps only its shortest questions
        shortest = min(len(r["relation_path"]) for r in records if r["task"] == "comp" and r["split"] == "zero_shot")
        for r in records:
            if r["task"] == "comp" and r["split"] == "zero_shot" and len(r["relation_path"]) > shortest:
                r["split"] = "removed"
    broken = copy.deepcopy((facts, records, plan, bios))
    mutate(*broken)
    assert "the length-matched comp zero_shot test has" in "\n".join(check_dataset(*broken))


def test_check_catches_a_trained_composition_path(smoke_data):
    def mutate(facts, records, plan, bios):
        test = _first(records, "ctx", "composition")
        train = _first(records, "ctx", "train")
        train.update(copy.deepcopy({k: test[k] for k in ("relation_path", "entities", "answer",
                                                         "answer_cot", "context", "question")}))
    out = _broken(smoke_data, mutate)
    assert "composition test path is trained on" in out and "also appears in training" in out


def test_check_catches_an_untrained_iid_path_and_a_reused_pair(smoke_data):
    def mutate(facts, records, plan, bios):
        iid = _first(records, "comp", "iid")
        for r in records:  # drop every training question of that path
            if r["split"] == "train" and r["task"] == "comp" and r["relation_path"] == iid["relation_path"]:
                r["split"] = "removed"
    assert "I.I.D. test path is never trained on" in _broken(smoke_data, mutate)

    def reuse(facts, records, plan, bios):
        iid = _first(records, "comp", "iid")
        train = next(r for r in records if r["split"] == "train" and r["relation_path"] == iid["relation_path"])
        iid.update(copy.deepcopy({k: train[k] for k in ("entities", "answer", "answer_cot")}))
    assert "reuses a trained (path, person) pair" in _broken(smoke_data, reuse)


def test_check_catches_inconsistent_inverse_facts(smoke_data):
    def mutate(facts, records, plan, bios):
        f = next(f for f in facts if f["relation"] == "parent")
        other = next(g["subject"] for g in facts if g["subject"] not in (f["subject"], f["object"]))
        f["object"] = other
    assert "disagrees with its inverse" in _broken(smoke_data, mutate)


@pytest.mark.parametrize("task,groups", [("mem", {PARAMETRIC}), ("ctx", {CONTEXTUAL})])
def test_atomic_tasks_use_one_group(smoke_data, task, groups):
    _, records, _, _ = load_data(smoke_data)
    for r in records:
        if r["task"] == task:
            assert {BY_NAME[x].group for x in r["relation_path"]} == groups


def test_the_default_study_has_enough_test_paths_for_a_verdict(tmp_path):
    """Every task of the default study: at least 2 zero-shot relations and 10 composition-test paths."""
    from src.params.check import load_params
    generate(settings("generate_data", load_params(ROOT / "params.yaml", "default")), tmp_path / "default")
    plan = json.loads((tmp_path / "default" / "plan.json").read_text())
    for task, t in plan["tasks"].items():
        assert len(t["relations"]["zero_shot"]) >= 2, task
        assert len(t["test_paths"]["composition"]) >= 10, task


def test_familiar_within_moves_the_familiar_quota_to_lengths_that_have_such_chains_and_warns_of_a_shortfall(caplog):
    """A length-matched level keeps its lengths first: familiar questions go where familiar chains exist, and
    what no length can hold is named in a warning, not silently dropped."""
    from collections import Counter

    from src.data.draw import familiar_within
    free = Counter({(2, True): 1, (2, False): 9, (3, True): 5, (3, False): 5})
    # 4 familiar of 10: proportionally 2 at 2 hops and 2 at 3, but 2 hops has one familiar chain: one moves to 3
    assert familiar_within({2: 5, 3: 5}, 4, free) == {(2, True): 1, (2, False): 4, (3, True): 3, (3, False): 2}
    assert not caplog.records
    scarce = Counter({(2, True): 1, (2, False): 9, (3, True): 1, (3, False): 9})
    got = familiar_within({2: 5, 3: 5}, 4, scarce)
    assert got[(2, True)] + got[(3, True)] == 2 and sum(got.values()) == 10  # the level keeps its size
    assert "2 fewer questions about injected people" in caplog.text


def test_length_matching_is_refused_where_a_level_shares_no_length_with_its_iid_training():
    import random

    from src.data.draw import draw_task
    chains = {p: [(f"s{p}{i}", "x") for i in range(20)] for p in ("a", "b", "cc", "ddd")}  # paths as strings
    with pytest.raises(ValueError, match="length_matched_levels: the ctx composition paths have \\[2\\] hops"):
        draw_task(random.Random(0), lambda p: chains[p], ["a", "b"], {"iid": ["a"], "composition": ["cc"],
                  "zero_shot": ["ddd"]}, 10, {"iid": 2, "composition": 2, "zero_shot": 2}, lambda c: False, 0.0,
                  True, "ctx")


def test_counterfactual_ctx_training_questions_hold_in_their_prompt_only(tmp_path, smoke_cfg, smoke_data):
    cfg = copy.deepcopy(smoke_cfg)
    cfg["questions"]["ctx_counterfactual_share"] = 1.0
    generate(settings("generate_data", cfg), tmp_path / "cf")  # generate refuses data that fails check_dataset
    facts, records, plan, bios = load_data(tmp_path / "cf")
    _, before, _, _ = load_data(smoke_data)
    kb = {(f["subject"], f["relation"]): f["object"] for f in facts}
    renamed = [r for r in records if r.get("counterfactual")]
    assert {(r["task"], r["split"]) for r in renamed} == {("ctx", "train")}
    ctx_train = [r for r in records if r["task"] == "ctx" and r["split"] == "train"]
    assert len(renamed) >= 0.8 * len(ctx_train)  # the few with no clean renaming stay as they were
    for r in renamed:
        chain = r["entities"]
        # the same question (start, path), every hop stated in its prompt, but not the world's facts
        assert all(any(t.format(s=a, o=b) in r["context"] for t in BY_NAME[rel].templates)
                   for rel, a, b in zip(r["relation_path"], chain, chain[1:]))
        assert kb.get((chain[0], r["relation_path"][0])) != chain[1] and r["answer"] == chain[-1]
    # everything else is byte for byte the data without them (their draw has its own random stream)
    strip = lambda rs: [r for r in rs if not (r["task"] == "ctx" and r["split"] == "train")]  # noqa: E731
    assert strip(records) == strip(before)
    assert [(r["id"], r["question"]) for r in ctx_train] == [(r["id"], r["question"]) for r in before
                                                            if r["task"] == "ctx" and r["split"] == "train"]
    assert (tmp_path / "cf" / "facts.jsonl").read_bytes() == (smoke_data / "facts.jsonl").read_bytes()


def test_check_catches_a_counterfactual_test_question(smoke_data):
    def mutate(facts, records, plan, bios):
        _first(records, "ctx", "iid")["counterfactual"] = True
    assert "only Ctx training questions may be counterfactual" in _broken(smoke_data, mutate)
