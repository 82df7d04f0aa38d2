"""Training: optimisers and update rules, initialisers, the training loop, hyper-parameter search,
truncated BPTT."""
