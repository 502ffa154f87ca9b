"""params.yaml's declarations: one module per section, each parameter declared once (declare.py)."""
