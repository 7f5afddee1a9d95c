"""Dataset adapters: each turns a dataset as distributed into track jobs and their recordings."""
