"""params.yaml, owned here: reading it and merging a preset (read.py), checking it before anything runs
(check.py: the schema from settings/, then cross.py's cross-key checks), and what each stage reads of it,
parsed once into typed settings (stages.py; the sections are declared in settings/).

Planning (Snakemake, `python -m src.params.check`) checks the file; a job only reads it (read.py,
stages.py), so this package's __init__ imports nothing and a job never loads the validator.
"""
