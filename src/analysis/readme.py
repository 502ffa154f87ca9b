"""Copy a finished study's tables into the README and docs/, between `<!-- BEGIN name -->` / `<!-- END name -->`.

`python -m src.analysis.readme --preset default` after the study; tests/test_readme.py fails if a copy
differs from results/, so no number in the README or the docs is typed by hand. A block named
`name@study` (e.g. `verdicts@read_d1_q24k`) is copied from results/<study>/ instead: another study's
figures beside the default's.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from ..io import atomic_write_text
from ..params.check import results_dir, study
from .claims import ATOMIC  # SFT(Mem+Ctx): the model whose atomic skills the paper's argument starts from
from .premise import READING_HEAD, reading_diagnosis

# block name -> (file relative to results/<preset>/, its section (None: the whole file but its title),
# where to stop inside it (None: at the section's end))
BLOCKS = {"claims": ("REPORT.md", "## The paper's claims", None), "results": ("results.md", None, None),
          "speed": ("REPORT.md", "## Speed", "\n| job |"),
          "trainer_sft": ("speed/trainer_sft_1t.md", None, None),  # python -m src.training.bench
          "trainer_inject": ("speed/trainer_inject_2t.md", None, None),
          "sweep": ("../sweep.md", None, None),  # results/sweep.md: every preset of the sweep
          "findings": ("../findings.md", None, None),  # results/findings.md: what the sweep shows
          "scaling": ("../scaling.md", None, None),  # results/scaling.md: the claims against model size
          # from headline.json: which claims the study reproduces (one sentence), each claim's figures, the cost
          "verdicts": ("headline.json", None, None), "claim_lines": ("headline.json", None, None),
          "cost": ("headline.json", None, None),
          "atomic": ("results.md", None, None),  # SFT(Mem+Ctx)'s atomic skills, from the every-model table
          # atomic skills, copy shortcut (the reading probes' table stays in REPORT.md; `reading` says it in a line)
          "premise": ("REPORT.md", "## The paper's premise on our models", "\n" + READING_HEAD),
          "reading": ("headline.json", None, None),  # does SFT(Mem+Ctx) read? (src/evaluation/reading.py)
          "answers": ("headline.json", None, None)}  # RL's Zero-shot gain apart by where the answer is


DOCS = ("README.md", "docs/results.md", "docs/design.md")  # the pages that hold blocks


def block(name: str, body: str) -> str:
    return f"<!-- BEGIN {name} -->\n{body.rstrip()}\n<!-- END {name} -->"


def replace_block(text: str, name: str, body: str) -> str:
    """`text` with its `name` block's body replaced."""
    return re.sub(rf"<!-- BEGIN {name} -->\n.*?<!-- END {name} -->", lambda _: block(name, body), text, flags=re.S)


def extract(readme: str, name: str) -> str | None:
    m = re.search(rf"<!-- BEGIN {name} -->\n(.*?)<!-- END {name} -->", readme, re.S)
    return m.group(1).strip() if m else None


def other_studies(text: str) -> list[tuple[str, str]]:
    """The (block, study) pairs of the page's `name@study` blocks, in page order."""
    return [(b, st) for b, st in re.findall(r"<!-- BEGIN (\w+)@(\w+) -->", text) if b in BLOCKS]


def body_of(results: Path, name: str, page: str = "README.md") -> str:
    """The block's text as `page` (a path relative to the repository) shows it: links made relative to it."""
    file, section, stop = BLOCKS[name]
    text = (results / file).read_text()
    if name in SENTENCES:  # written from the file, not copied
        return SENTENCES[name](json.loads(text) if file.endswith(".json") else text)
    if section is None:
        body = text.split("\n", 2)[2].strip()  # drop the file's own '# title' line
    else:
        start = text.index(section + "\n") + len(section) + 1
        end = text.find("\n## ", start)
        body = text[start:end if end >= 0 else None]
        body = (body.split(stop)[0] if stop else body).strip()
    up = "../" * (len(Path(page).parts) - 1)
    body = body.replace("](figures/", f"]({up}{results.as_posix()}/figures/")  # links relative to the page
    return re.sub(r"^## ", "### ", body, flags=re.M)  # its sections sit one level down in the README


def claim_lines(head: dict) -> str:
    """One line per claim: its verdict and our figures, as REPORT.md's claims table gives them."""
    return "\n".join(f"- *Claim {n}, {c['verdict']}*: {c['ours']}." for n, c in sorted(head["claims"].items()))


def cost_sentence(head: dict) -> str:
    """What the study cost and where it ran (headline.json: the report's Speed section)."""
    cpu = f", {head['cpu_minutes']} CPU-minutes" if head.get("cpu_minutes") is not None else ""
    # a pooled study (src/analysis/pool.py) ran as parts one after another: its wall time is their spans added
    span = f"the spans of its {len(head['parts'])} parts added" if head.get("parts") else "the span of its jobs"
    return (f"{head['wall_minutes']} min of wall time ({span}){cpu} and {head['job_minutes']} "
            f"job-minutes on the {head['machine']}.")


def atomic_sentence(results_md: str) -> str:
    """SFT(Mem+Ctx)'s Mem and Ctx accuracies (mean over seeds) from results.md's every-model table."""
    header = next(line for line in results_md.splitlines() if line.startswith("| model | Mem I.I.D."))
    row = [line for line in results_md.splitlines() if line.startswith(f"| {ATOMIC} |")][-1]
    cells = dict(zip([c.strip() for c in header.strip("|").split("|")],
                     [c.strip().split(" ± ")[0] for c in row.strip("|").split("|")]))
    return (f"Mem {cells['Mem I.I.D.']}% I.I.D., {cells['Mem Composition']}% Composition, {cells['Mem Zero-shot']}% "
            f"Zero-shot; Ctx {cells['Ctx I.I.D.']}% I.I.D., {cells['Ctx Composition']}% Composition.")


def verdict_sentence(claims: dict) -> str:
    """'Claims 2 and 4 reproduced; 1 and 3 partly.' from the report's verdicts, claim by claim."""
    by_verdict: dict[str, list[str]] = {}
    for number, c in sorted(claims.items()):
        by_verdict.setdefault(c["verdict"], []).append(number)
    parts = []
    for verdict in ("reproduced", "partly", "not reproduced", "not testable"):
        nums = by_verdict.pop(verdict, [])
        if nums:
            listed = nums[0] if len(nums) == 1 else ", ".join(nums[:-1]) + " and " + nums[-1]
            parts.append(f"{'Claim' if len(nums) == 1 else 'Claims'} {listed} {verdict}" if not parts
                         else f"{listed} {verdict}")
    if by_verdict:
        raise ValueError(f"headline.json: unknown verdicts {sorted(by_verdict)}")
    return "; ".join(parts) + "."


def answers_sentence(head: dict) -> str:
    """Comp Zero-shot before and after RL(Comp), apart by whether the prompt prints the answer (a reader can
    copy it) or only recall reaches it: what RL's gain rests on."""
    by = (head.get("premise") or {}).get("zero_shot_by_answer") or {}
    parts = []
    for base in (ATOMIC, "SFT(Comp)", "SFT(Ctx)", "SFT(Mem)"):
        before, after = by.get(base), by.get(f"{base}->RL(Comp)")
        if before and after:
            kinds = [k for k in ("copyable", "printed, not to copy") if before.get(k) is not None] \
                or ["in the prompt"]  # reports drawn before the copy was counted apart
            parts.append(f"{base} -> RL(Comp): " + ", ".join(
                f"{'answer to copy' if k == 'copyable' else k} {before[k]:.1f}% -> {after[k]:.1f}%"
                for k in (*kinds, "recalled only")))
    return ("Comp Zero-shot by where the answer is (summed over seeds; *answer to copy*: the prompt states one "
            "fact with the final relation, the answer): " + "; ".join(parts) + "."
            if parts else "No RL(Comp) recipe in this study.")


def reading_sentence(head: dict) -> str:
    """SFT(Mem+Ctx)'s reading probes in one sentence: the questions it trained on, new ones, the answer swapped in
    the prompt, no prompt at all, and what they say (REPORT.md has every model's, with their intervals)."""
    r = ((head.get("premise") or {}).get("reading") or {}).get(ATOMIC)
    if not r:
        return f"No reading probes of {ATOMIC} in this study."
    verdict = reading_diagnosis({k: [v] for k, v in r.items()})
    return (f"{ATOMIC} answers {r['seen']:.1f}% of the Ctx questions it trained on, {r['iid']:.1f}% of the I.I.D. "
            f"test ones, {r['swapped']:.1f}% of those with the answer swapped for another value in the prompt "
            f"({r['kept_old']:.1f}% kept the old one) and {r['no_context']:.1f}% without the prompt (means over "
            f"seeds): it {verdict}.")


# blocks written from a results file rather than copied from it: block name -> f(the file's content)
SENTENCES = {"verdicts": lambda head: verdict_sentence(head["claims"]), "claim_lines": claim_lines,
             "cost": cost_sentence, "atomic": atomic_sentence, "answers": answers_sentence,
             "reading": reading_sentence}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    args = ap.parse_args()
    results = results_dir(study(args.params, args.preset).preset)
    found = set()
    for page in DOCS:
        text = Path(page).read_text()
        for name in BLOCKS:
            if extract(text, name) is not None:
                found.add(name)
                text = replace_block(text, name, body_of(results, name, page))
        for name, other in other_studies(text):
            text = replace_block(text, f"{name}@{other}", body_of(results.parent / other, name, page))
        atomic_write_text(Path(page), text)
    if set(BLOCKS) - found:
        raise SystemExit(f"no page of {DOCS} has the blocks {sorted(set(BLOCKS) - found)}")


if __name__ == "__main__":
    main()
