"""The `orders` command line. Each subcommand is a thin shell over a function that does the work."""

from __future__ import annotations

import sys

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Event-sourced order processing: run it locally, check it, rebuild its read model."""


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; fail naming each stale file.")
def codegen(check: bool) -> None:
    """Generate generated/ from model/ (the same as `python codegen.py`)."""
    import codegen as generator

    sys.exit(generator.main(["--check"] if check else []))


if __name__ == "__main__":
    main()
