"""How a task's questions are drawn from its paths: exact quotas per kind of question, so that every test
level is drawn like the training it is compared with.

A question's cell is (hops, familiar): the length of its path and whether it starts at an injected person
(every Mem and Comp question does; Ctx asks `questions.ctx_familiar_share` of its questions to).
- Training and the I.I.D. test are one draw over the training paths, split afterwards: the I.I.D. test
  takes from each cell of the questions on I.I.D. paths its share, by largest remainder, so its length mix
  and familiar share are those of the I.I.D.-path training up to rounding (stratified, not in expectation).
- Composition and Zero-shot tests get the training's familiar share, up to rounding; with
  `questions.length_matched_levels` (a deviation) the I.I.D. test's cells, over the lengths their paths have.
"""
from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger(__name__)


def quotas(n: int, weights: dict) -> dict:
    """n split over the keys of `weights` in proportion, by largest remainder: each part within 1 of its
    exact value, the parts summing to n; keys without weight get nothing."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items() if w}
    out = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: out[k] - exact[k])[:n - sum(out.values())]:
        out[k] += 1
    return {k: v for k, v in out.items() if v}


def kind(key) -> str:
    """A cell in words: (hops, familiar), familiar alone (a bool) or hops alone (an int)."""
    if isinstance(key, tuple):
        return f"of {key[0]} hops {kind(key[1])}"
    if isinstance(key, bool):
        return "about injected people" if key else "about new people"
    return f"of {key} hops"


def draw_pairs(rng, chains_of, paths, wanted: dict, used: set, what: str, round_robin: bool, cell) -> list:
    """wanted[k] (path, chain) pairs with cell(path, chain) == k, each (path, start) pair outside `used`
    (which grows). round_robin: a cell's paths taken in turn (test sets); otherwise at random (training)."""
    free: dict = {}
    for p in paths:
        chains = [c for c in chains_of(p) if (p, c[0]) not in used]
        rng.shuffle(chains)
        for c in chains:
            free.setdefault(cell(p, c), {}).setdefault(p, []).append(c)
    out = []
    for key, n in wanted.items():
        pool = free.get(key, {})
        live = [p for p in paths if pool.get(p)]
        rng.shuffle(live)
        turn = 0
        for got in range(n):
            if not live:
                raise ValueError(f"only {got} distinct {what} questions {kind(key)} exist, {n} asked; lower "
                                 "questions.train_questions / test_questions or questions.ctx_familiar_share, "
                                 "or add people (world.*_people)")
            k = turn % len(live) if round_robin else rng.randrange(len(live))
            p = live[k]
            chain = pool[p].pop()
            if pool[p]:
                turn += 1
            else:
                live.pop(k)
            used.add((p, chain[0]))
            out.append((p, chain))
    return out


def cover_iid_paths(pairs, iid_paths, chains_of, used, task) -> None:
    """An I.I.D. path must be trained on. A small random draw can miss one: then one question of a path
    drawn more than once is traded for a question of the missing path (in place)."""
    counts = Counter(p for p, _ in pairs)
    for path in iid_paths:
        if path in counts:
            continue
        chain = next((c for c in chains_of(path) if (path, c[0]) not in used), None)
        spare = next((i for i in range(len(pairs) - 1, -1, -1) if counts[pairs[i][0]] > 1), None)
        if chain is None or spare is None:
            raise ValueError(f"the I.I.D. {task} path {path} has no training question; "
                             f"raise questions.train_questions.{task}")
        used.add((path, chain[0]))
        counts[pairs[spare][0]] -= 1
        counts[path] = 1
        pairs[spare] = (path, chain)


def split_iid(rng, pairs, iid_paths: set, n_test: int, cell, task: str) -> tuple[list, list]:
    """(training, I.I.D. test): n_test of the pairs on I.I.D. paths, taken per cell in proportion, never
    a path's last question (every I.I.D. test path stays trained on)."""
    by_cell: dict = {}
    for i, (p, c) in enumerate(pairs):
        if p in iid_paths:
            by_cell.setdefault(cell(p, c), []).append(i)
    if not by_cell:
        raise ValueError(f"no {task} training question lies on an I.I.D. path; raise questions.train_questions.{task}")
    left = Counter(p for p, _ in pairs)
    taken: set = set()
    for key, n in sorted(quotas(n_test, {k: len(v) for k, v in by_cell.items()}).items()):
        idx = by_cell[key][:]
        rng.shuffle(idx)
        got = 0
        for i in idx:
            if got == n:
                break
            if left[pairs[i][0]] > 1:
                left[pairs[i][0]] -= 1
                taken.add(i)
                got += 1
        if got < n:
            raise ValueError(f"the {task} I.I.D. test needs {n} questions {kind(key)}, the training draw has {got} "
                             f"to spare; raise questions.train_questions.{task} or lower test_questions.{task}")
    test = [pairs[i] for i in sorted(taken)]
    rng.shuffle(test)
    return [x for i, x in enumerate(pairs) if i not in taken], test


def familiar_within(per_hops: dict, n_fam: int, free: Counter) -> dict:
    """(hops, familiar) quotas: per_hops[h] questions of h hops, n_fam of them in all about injected people,
    spread over the lengths in proportion where such chains exist, the rest moved to lengths that have them
    (a length-matched level keeps its lengths first and the familiar share as far as the chains allow)."""
    spread = quotas(n_fam, per_hops) if n_fam else {}
    f = {h: max(min(spread.get(h, 0), q, free[(h, True)]), q - free[(h, False)]) for h, q in per_hops.items()}
    short = n_fam - sum(f.values())
    for h, q in sorted(per_hops.items()):
        take = max(0, min(short, min(q, free[(h, True)]) - f[h]))
        f[h] += take
        short -= take
    if short:
        log.warning("a length-matched test level has %d fewer questions about injected people than the training's "
                    "share asks: its lengths hold too few such chains", short)
    return {k: v for h, q in sorted(per_hops.items()) for k, v in (((h, True), f[h]), ((h, False), q - f[h])) if v}


def mix(pairs, familiar) -> dict:
    """A question set's make-up: its size, its questions per path length, how many start at injected people."""
    return {"questions": len(pairs), "hops": {str(h): n for h, n in sorted(Counter(len(p) for p, _ in pairs).items())},
            "familiar": sum(bool(familiar(c)) for _, c in pairs)}


def draw_task(rng, chains_of, train_paths, test_paths: dict, n_train: int, n_test: dict, familiar, share: float,
              length_matched: bool, task: str) -> tuple[list, list, dict]:
    """(training pairs, [(level, path, chain)] test pairs, the mix of each set) of one task."""
    cell = lambda p, c: (len(p), bool(familiar(c)))  # noqa: E731
    fam = lambda p, c: bool(familiar(c))  # noqa: E731
    used: set = set()
    n = n_train + n_test["iid"]
    have = sum(bool(familiar(c)) for p in train_paths for c in chains_of(p))
    n_fam = min(round(share * n), have)
    if n_fam < round(share * n):
        log.warning("%s: questions.ctx_familiar_share = %s asks %d questions about injected people, but the training "
                    "paths hold %d such chains: all of them are drawn (a share of %.2f)", task, share,
                    round(share * n), have, n_fam / n)
    pairs = draw_pairs(rng, chains_of, train_paths, quotas(n, {True: n_fam, False: n - n_fam}), used,
                       f"{task} train", False, fam)
    iid = set(test_paths["iid"])
    cover_iid_paths(pairs, [p for p in train_paths if p in iid], chains_of, used, task)
    train, iid_test = split_iid(rng, pairs, iid, n_test["iid"], cell, task)
    on_iid = Counter(cell(p, c) for p, c in train if p in iid)
    tests = [("iid", p, c) for p, c in iid_test]
    for lv in ("composition", "zero_shot"):
        want = max(len(test_paths[lv]), n_test[lv])
        n_fam = quotas(want, Counter(fam(p, c) for p, c in train)).get(True, 0)  # the training's share
        if length_matched:
            hops = {len(p) for p in test_paths[lv]}
            weights = {k: v for k, v in Counter(h for h, _ in on_iid.elements()).items() if k in hops}
            if not weights:
                raise ValueError(f"questions.length_matched_levels: the {task} {lv} paths have {sorted(hops)} hops, "
                                 "none of which its I.I.D. training has; set it to false")
            free = Counter(cell(p, c) for p in test_paths[lv] for c in chains_of(p) if (p, c[0]) not in used)
            wanted, key = familiar_within(quotas(want, weights), n_fam, free), cell
        else:
            wanted, key = {True: n_fam, False: want - n_fam}, fam
        drawn = draw_pairs(rng, chains_of, test_paths[lv], wanted, used, f"{task} {lv} test", True, key)
        rng.shuffle(drawn)
        tests += [(lv, p, c) for p, c in drawn]
    rng.shuffle(train)
    mixes = {"train": mix(train, familiar), "train_on_iid_paths": mix([x for x in train if x[0] in iid], familiar)}
    for lv in ("iid", "composition", "zero_shot"):
        mixes[lv] = mix([(p, c) for v, p, c in tests if v == lv], familiar)
    return train, tests, mixes


def data_design(level_split: str, stratified: bool, length_matched: bool = False) -> str:
    """How a study's levels were drawn, in words (the report, headline.json and the sweep say it alike)."""
    split = "per-task levels (authors')" if level_split == "per_task" else "shared split (old)"
    draw = "I.I.D. tests stratified like training" if stratified else "I.I.D. tests drawn path by path"
    return f"{split}; {draw}" + ("; Composition and Zero-shot length-matched (a deviation)" if length_matched else "")
