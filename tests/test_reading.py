"""The reading probes (src/evaluation/reading.py) on hand-made data, and how the report reads their files
(src/analysis/premise.py)."""
import json

from src.analysis import premise
from src.data.counterfactual import longer_names, objects_by_relation
from src.evaluation import reading


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


FACTS = [{"subject": s, "relation": "birth_place", "object": o, "group": "contextual"}
         for s, o in (("Ann Lee", "Keithview"), ("Bo Tan", "East Keithview"), ("Cy Roe", "Oakton"),
                      ("Di Fox", "Elmford"))]


def test_swap_replaces_the_whole_answer_and_only_with_a_value_the_prompt_lacks():
    objects = objects_by_relation(FACTS)
    longer = longer_names({f["object"] for f in FACTS} | {f["subject"] for f in FACTS})
    q = {"id": "ctx-iid-000003", "relation_path": ["colleague", "birth_place"], "answer": "Keithview",
         "question": "What is the birthplace of the colleague of Bo Tan?", "entities": ["Bo Tan", "Ann Lee", "Keithview"],
         "answer_cot": "Bo Tan's colleague is Ann Lee. Ann Lee's birthplace is Keithview. So, the answer is: Keithview",
         "context": "Bo Tan's colleague is Ann Lee.\n\nAnn Lee's birthplace is Keithview.\n\n"
                    "Cy Roe's birthplace is Oakton."}
    s = reading.swapped(q, objects, longer)
    # a value of the relation the prompt does not name (not Oakton, not the answer itself)
    assert s["answer"] in {"East Keithview", "Elmford"} and s["old_answer"] == "Keithview"
    assert s["context"] == q["context"].replace("is Keithview.", f"is {s['answer']}.")
    assert reading.swapped(q, objects, longer) == s  # drawn by the question's id: the same swap every run
    # a longer value containing the answer would be renamed with it: not swapped
    assert reading.swapped({**q, "context": q["context"] + "\n\nDi Fox's birthplace is East Keithview."},
                           objects, longer) is None
    # an answer the prompt does not print cannot be swapped
    assert reading.swapped({**q, "context": "Bo Tan's colleague is Ann Lee."}, objects, longer) is None


def test_spread_takes_rows_evenly_and_all_of_a_short_list():
    assert reading.spread(list(range(10)), 3) == [0, 3, 6]
    assert reading.spread([1, 2], 5) == [1, 2]


def test_probe_questions_take_seen_ones_from_the_sft_share_only(tmp_path):
    train = [{"id": f"ctx-train-{i}", "split": "train", "relation_path": ["colleague", "birth_place"],
              "answer": "Keithview", "context": "Ann Lee's birthplace is Keithview.", "question": "q",
              "answer_cot": "Ann Lee's birthplace is Keithview.", "entities": ["Ann Lee", "Keithview"]} for i in range(10)]
    iid = [{**t, "id": f"ctx-iid-{i}", "split": "iid"} for i, t in enumerate(train[:4])]
    _jsonl(tmp_path / "qa_ctx.jsonl", train + iid)
    _jsonl(tmp_path / "facts.jsonl", FACTS)
    got = reading.probe_questions(tmp_path, "sft-mem+ctx", holdout=0.2, n=4)
    # SFT saw the first 8 of the 10 (RL(Mem+Ctx) keeps the last 2): the seen probe never takes those
    assert {r["id"] for r in got["seen"]} <= {f"ctx-train-{i}" for i in range(8)} and len(got["seen"]) == 4
    assert [r["id"] for r in got["iid"]] == [r["id"] for r in got["no_context"]] == [r["id"] for r in iid]
    assert all(r["context"] == "" for r in got["no_context"])
    assert len(got["swapped"]) == 4 and all(r["answer"] != "Keithview" for r in got["swapped"])


def test_report_rows_and_diagnosis(tmp_path):
    files = {}
    for seed, (seen, iid) in enumerate(((0.96, 0.5), (0.94, 0.6))):
        f = tmp_path / f"r{seed}.json"
        f.write_text(json.dumps({"seen": {"accuracy": seen, "n": 150}, "iid": {"accuracy": iid, "n": 150},
                                 "swapped": {"accuracy": 0.3, "n": 149, "kept_old": 0.02},
                                 "no_context": {"accuracy": 0.0, "n": 150}}))
        files[f"seed{seed}/sft-mem+ctx"] = f
    rows = premise.reading_rows(files)
    assert len(rows) == 1 and rows[0]["model"] == "SFT(Mem+Ctx)" and rows[0]["iid"] == [50.0, 60.0]
    # reads its training questions (95 >= 90) but not new ones (55)
    assert premise.reading_diagnosis(rows[0]).startswith("learned its training questions")
    assert premise.reading_diagnosis({**rows[0], "seen": [80.0]}).startswith("underfits")
    assert premise.reading_diagnosis({**rows[0], "iid": [91.0, 93.0]}) == "reads"
    text = "\n".join(premise.section([], [], rows))
    assert "| SFT(Mem+Ctx) | 95.0 ± " in text and "| 30.0 ± 0.0 | 0.0 ± 0.0 | 2.0 ± 0.0 |" in text
    assert premise.headline([], [], [], rows)["reading"]["SFT(Mem+Ctx)"]["seen"] == 95.0
