"""The README's and the docs' commands, numbers and links come from the project, not from typing."""
import re
from pathlib import Path

from src.analysis.readme import BLOCKS, DOCS, body_of, cost_sentence, extract, other_studies

from .conftest import ROOT

PAGES = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]


def quick_start_commands():
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^## Quick start\n.*?```bash\n(.*?)```", text, re.S | re.M)
    assert m, "README needs a '## Quick start' section with a bash code block"
    return [re.sub(r"\s+#.*$", "", line).strip() for line in m.group(1).splitlines() if line.strip()]


def test_quick_start_has_two_commands_and_ci_runs_the_second():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[1] in (ROOT / ".ci/run").read_text()
    assert "snakemake" in commands[0] and "pytest" in commands[1]


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_tables_in_the_docs_are_the_committed_results():
    found = set()
    for page in DOCS:
        text = (ROOT / page).read_text()
        for name in BLOCKS:
            if extract(text, name) is not None:
                found.add(name)
                assert extract(text, name) == body_of(ROOT / "results/default", name, page), \
                    f"{page}: block '{name}' differs from results/: run `python -m src.analysis.readme`"
        for name, other in other_studies(text):  # another study's block: copied from its own results
            assert extract(text, f"{name}@{other}") == body_of(ROOT / "results" / other, name, page), \
                f"{page}: block '{name}@{other}' differs from results/{other}/: run `python -m src.analysis.readme`"
    assert found == set(BLOCKS)


def test_a_block_of_another_study_is_copied_from_its_results(tmp_path, monkeypatch):
    """`verdicts@other` comes from results/other/, `verdicts` from the study named on the command line."""
    import json

    from src.analysis import readme
    for study, verdict in (("default", "reproduced"), ("other", "not reproduced")):
        (tmp_path / "results" / study).mkdir(parents=True)
        claims = {str(n): {"verdict": verdict} for n in range(1, 5)}
        (tmp_path / "results" / study / "headline.json").write_text(json.dumps({"claims": claims}))
    page = tmp_path / "README.md"
    page.write_text("<!-- BEGIN verdicts -->\n-\n<!-- END verdicts -->\n"
                    "<!-- BEGIN verdicts@other -->\n-\n<!-- END verdicts@other -->\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(readme, "DOCS", ("README.md",))
    monkeypatch.setattr(readme, "BLOCKS", {"verdicts": readme.BLOCKS["verdicts"]})
    monkeypatch.setattr(readme, "results_dir", lambda preset: Path("results") / preset)
    monkeypatch.setattr(readme, "study", lambda params, preset: type("S", (), {"preset": preset})())
    monkeypatch.setattr("sys.argv", ["readme", "--preset", "default"])
    readme.main()
    text = page.read_text()
    assert extract(text, "verdicts") == "Claims 1, 2, 3 and 4 reproduced."
    assert extract(text, "verdicts@other") == "Claims 1, 2, 3 and 4 not reproduced."


def test_parameter_reference_is_the_declarations():
    from src.workflow.param_docs import MARKER, reference
    assert extract((ROOT / "docs/parameters.md").read_text(), MARKER) == reference(ROOT / "params.yaml"), \
        "docs/parameters.md's reference differs from src/params/settings/: run `python -m src.workflow.param_docs`"


def test_prose_numbers_come_from_the_results():
    """Every measured number (one with a decimal point) in the README's and docs/results.md's account of the
    default study and the sweep is in the results it describes: the default study's report and tables, or
    the sweep's (an arXiv number is not a measurement)."""
    results = ROOT / "results"
    sources = "\n".join(p.read_text() for p in [*sorted(results.glob("*/*.md")), *sorted(results.glob("*.md"))])
    for name in ("README.md", "docs/results.md"):
        prose = re.sub(r"<!-- BEGIN ([\w@]+) -->.*?<!-- END \1 -->", "", (ROOT / name).read_text(), flags=re.S)
        numbers = re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", re.sub(r"arXiv \d{4}\.\d{4,5}", "", prose))
        missing = [n for n in numbers if n not in sources]
        assert not missing, f"numbers in {name}'s prose that no results file holds: {missing}"


def test_the_verdict_sentence_lists_each_claim_once():
    from src.analysis.readme import verdict_sentence
    claims = {"1": {"verdict": "partly"}, "2": {"verdict": "reproduced"}, "3": {"verdict": "partly"},
              "4": {"verdict": "reproduced"}}
    assert verdict_sentence(claims) == "Claims 2 and 4 reproduced; 1 and 3 partly."
    claims["2"]["verdict"] = "not reproduced"
    assert verdict_sentence(claims) == "Claim 4 reproduced; 1 and 3 partly; 2 not reproduced."


def test_the_cost_sentence_says_how_a_pooled_study_ran():
    one = {"wall_minutes": 70.0, "cpu_minutes": 120.5, "job_minutes": 80.0, "machine": "AMD EPYC (AVX512)"}
    assert "(the span of its jobs)" in cost_sentence(one)
    pooled = cost_sentence({**one, "parts": ["s0", "s1", "s2"]})
    assert "(the spans of its 3 parts added)" in pooled and "120.5 CPU-minutes" in pooled


def test_links_stay_inside_the_repository_and_resolve():
    for page in PAGES:
        text = (ROOT / page).read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"(https?:|mailto:|#)", target):
                continue
            path = ((ROOT / page).parent / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT), f"{page} links outside the repository: {target}"
            assert path.exists(), f"{page} links to a missing file: {target}"


def test_files_named_in_code_and_docs_exist():
    """A path the code or the docs cite (src/..., tests/..., docs/..., rules/...) is there."""
    cited = re.compile(r"(?<![\w/.])((?:src|tests|docs|rules|profiles|scripts)/[\w/.-]+\.(?:py|md|smk|yaml|sh))")
    files = [*PAGES, "params.yaml", *(p.relative_to(ROOT).as_posix() for d in ("src", "rules", "tests", "scripts")
                                      for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".smk", ".sh"))]
    missing = sorted({(f, c) for f in files for c in cited.findall((ROOT / f).read_text())
                      if not (ROOT / c).exists() and "<" not in c and "*" not in c})
    assert not missing, f"(file, cited path) where the path does not exist: {missing}"
