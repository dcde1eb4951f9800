"""`orders dev`: the whole system on one machine, no AWS account, no Docker, built on the
emulator (`infra/emulator/`): the runtime that starts it, its state file and control API, the
embedded Postgres, `--data-dir` persistence, the demo and the client the CLI uses."""
