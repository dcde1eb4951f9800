"""Hot reload: a change to the functions' code retires warm containers; a change to model/ asks for codegen.

A container imports its handler once, as Lambda does, so an edited handler would otherwise
run only after a restart. This watches the code the functions import (handlers/, streams/,
ordering/, generated/) and, on a change, has every function start its next invocation in a
fresh container (SAM's `--warm-containers LAZY`). model/ is not code: generated/ comes from
it, so a change there only prints what to run.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import watchfiles

from infra.emulator import logs
from infra.emulator.functions import CODE_ROOT, Functions

CODE_DIRECTORIES = ("handlers", "streams", "ordering", "generated")
MODEL_DIRECTORY = "model"
SOURCE_SUFFIXES = (".py", ".json", ".sql")


class HotReload:
    """Watches `root` in a thread of its own until stop()."""

    def __init__(self, functions: Functions, root: Path = CODE_ROOT) -> None:
        self.functions, self.root = functions, root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="hot-reload")

    def start(self) -> HotReload:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watched(self) -> list[Path]:
        names = (*CODE_DIRECTORIES, MODEL_DIRECTORY)
        return [self.root / name for name in names if (self.root / name).is_dir()]

    def _watch(self) -> None:
        watched = self._watched()
        if not watched:
            return
        for changes in watchfiles.watch(
            *watched,
            stop_event=self._stop,
            watch_filter=lambda _change, path: path.endswith(SOURCE_SUFFIXES),
            debounce=200,
            rust_timeout=100,  # how often it looks at the stop event: Ctrl-C waits for it
            yield_on_timeout=False,
        ):
            self.changed(Path(path) for _change, path in changes)

    def changed(self, paths: Iterable[Path]) -> None:
        relative = sorted({str(path.resolve().relative_to(self.root.resolve())) for path in paths})
        code = [path for path in relative if path.split("/", 1)[0] in CODE_DIRECTORIES]
        model = [path for path in relative if path.split("/", 1)[0] == MODEL_DIRECTORY]
        if code:
            self.functions.retire_warm(code)
        if model:
            logs.log(
                "runtime",
                "model/ changed: run `make codegen` (python codegen.py) to regenerate generated/",
                level="WARNING",
                changed=model,
            )
