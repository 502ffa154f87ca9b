"""Running the models: greedy evaluation, pass@k sampling, speed benchmarks (the analysis is src/analysis/)."""
