"""Stages 2-4: tokenizer, knowledge injection, SFT and GRPO."""
