"""The premise tables (src/analysis/premise.py): the copy shortcut counted on hand-made data, and the
atomic-skills bar on hand-made metrics."""
import json

from src.analysis import premise


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_shortcut_counts_only_a_lone_final_relation_fact(tmp_path):
    facts = [{"subject": "Ann Lee", "relation": "awards", "object": "Oak Prize", "group": "contextual"},
             {"subject": "Bo Tan", "relation": "awards", "object": "Elm Medal", "group": "contextual"},
             {"subject": "Cy Roe", "relation": "awards", "object": "Ash Cup", "group": "contextual"}]
    _jsonl(tmp_path / "facts.jsonl", facts)
    q = {"relation_path": ["classmate", "awards"], "task": "comp"}
    _jsonl(tmp_path / "qa_comp.jsonl", [
        # the only awards sentence gives the answer: copyable
        {**q, "split": "iid", "answer": "Oak Prize", "context": "Ann Lee's award is Oak Prize."},
        # a distractor paragraph states the relation too: reading must pick whose fact
        {**q, "split": "iid", "answer": "Oak Prize", "context": "Ann Lee's award is Oak Prize. Bo Tan's award is Elm Medal."},
        # the answer is recalled, not printed
        {**q, "split": "iid", "answer": "Ash Cup", "context": "Bo Tan's award is Elm Medal."},
        {**q, "split": "train", "answer": "Oak Prize", "context": "Ann Lee's award is Oak Prize."},  # not a test level
    ])
    rows = {r["level"]: r for r in premise.shortcut_rows(tmp_path)}
    assert rows["iid"] == {"level": "iid", "questions": 3, "in_prompt": 2, "copyable": 1, "share": 50.0}
    assert rows["zero_shot"]["questions"] == 0 and rows["zero_shot"]["share"] == 0.0
    text = "\n".join(premise.section([], list(rows.values())))
    assert "open (above 10%) at: I.I.D." in text


def test_atomic_bar_needs_every_judged_level():
    def rows(model, task, accs):
        return [{"model": model, "seed": s, "task": task, "level": lv, "accuracy": a}
                for lv, per_seed in accs.items() for s, a in enumerate(per_seed)]
    m = (rows("SFT(Mem+Ctx)", "mem", {"iid": [0.95, 0.97], "composition": [0.85, 0.81], "zero_shot": [0.0, 0.1]})
         + rows("SFT(Mem+Ctx)", "ctx", {"iid": [0.95, 0.93], "composition": [0.70, 0.86], "zero_shot": [0.5, 0.5]}))
    got = {r["task"]: r for r in premise.atomic_rows(m, ["SFT(Mem+Ctx)->RL(Comp)"])}
    # Mem meets both bars (Zero-shot is not judged); Ctx reads I.I.D. but not Composition (78 < 80)
    assert got["mem"]["mastered"] and not got["ctx"]["mastered"]
    head = premise.headline(list(got.values()), [])
    assert head["sft_mem_ctx"]["ctx_composition"] == 78.0 and head["sft_mem_ctx_mastered"] is False


def test_zero_shot_answers_apart_by_the_copy_and_the_readme_sentence():
    """The copyable questions are a subset of the in-prompt ones: what is left must follow the chain. The README
    sentence names the three kinds, or the two of a report drawn before the copy was counted apart."""
    from src.analysis.premise import zero_shot_by_answer
    from src.analysis.readme import answers_sentence

    def rows(model, prompt, copy, recalled):  # (correct, questions) per kind, one seed
        return [{"model": model, "level": "zero_shot", "answer": k, "correct": c, "questions": n}
                for k, (c, n) in (("in the prompt", prompt), ("copyable", copy), ("recalled only", recalled))]

    by = zero_shot_by_answer(rows("SFT(Mem+Ctx)", (3, 10), (2, 4), (1, 10))
                             + rows("SFT(Mem+Ctx)->RL(Comp)", (8, 10), (4, 4), (2, 10)))
    assert by["SFT(Mem+Ctx)"] == {"in the prompt": 30.0, "copyable": 50.0, "recalled only": 10.0,
                                  "printed, not to copy": 16.7}
    text = answers_sentence({"premise": {"zero_shot_by_answer": by}})
    assert "SFT(Mem+Ctx) -> RL(Comp): answer to copy 50.0% -> 100.0%, printed, not to copy 16.7% -> 66.7%, " \
           "recalled only 10.0% -> 20.0%." in text
    old = {m: {"in the prompt": v["in the prompt"], "recalled only": v["recalled only"]} for m, v in by.items()}
    assert "in the prompt 30.0% -> 80.0%, recalled only 10.0% -> 20.0%" in \
        answers_sentence({"premise": {"zero_shot_by_answer": old}})
