"""Stage 5: evaluation of every model, and the results tables."""
