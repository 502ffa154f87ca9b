"""Stage 1: the synthetic biography world and its question sets."""
