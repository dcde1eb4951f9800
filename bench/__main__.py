"""`python -m bench <name>`: the same commands as `orders bench <name>`."""

from bench.cli import main

main(prog_name="python -m bench")
