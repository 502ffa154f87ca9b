"""Atomic-to-composite study pipeline: data, training and evaluation entry points."""
