"""The `orders` command line: the top layer, above `infra/` and `bench/`."""
