"""Analysing what the models produced: tables, claims, intervals, figures, the report and the sweep."""
