"""The README's commands and numbers come from the project, not from typing."""
import re

from src.evaluation.readme import BLOCKS, body_of, extract

from .conftest import ROOT


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


def test_readme_tables_are_the_committed_results():
    readme = (ROOT / "README.md").read_text()
    for name in BLOCKS:
        assert extract(readme, name) == body_of(ROOT / "results/default", name), \
            f"README block '{name}' differs from results/default: run `python -m src.evaluation.readme`"


def test_readme_parameter_reference_is_the_schema():
    from src.param_docs import MARKER, reference
    assert extract((ROOT / "README.md").read_text(), MARKER) == reference(ROOT / "params.yaml"), \
        "README's parameter reference differs from src/params.schema.yaml: run `python -m src.param_docs`"


def test_readme_prose_numbers_come_from_the_results():
    """Every measured number (one with a decimal point) in the README's account of the default study is in
    the results it describes: the default study's report and tables, or the sweep's."""
    readme = (ROOT / "README.md").read_text()
    prose = readme.split("**What the default study shows", 1)[1].split("\n## ", 1)[0]
    results = ROOT / "results"
    sources = "\n".join(p.read_text() for p in [*sorted((results / "default").glob("*.md")), *sorted(results.glob("*.md")),
                                                  *sorted(results.glob("*/results.md"))])
    missing = [n for n in re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", prose) if n not in sources]
    assert not missing, f"numbers in the README's findings that no results file holds: {missing}"
