"""The demo: accounts, a fieldwork with a sample, and synthetic answers for `make run`."""
