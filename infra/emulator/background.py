"""A worker thread with a start, a stop and a `busy` flag: what every local pump is made of."""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable

PAUSED_LOOK_SECONDS = 0.05  # how soon a paused loop notices a resume


class Background(abc.ABC):
    """Runs `_run` on a daemon thread until `stop()`; `_run` checks `self._stopping`, and a loop
    that polls calls `_hold()` before each poll, so that `pause()` stops its polling (what it
    had received it still delivers) until `resume()`."""

    def __init__(self, name: str) -> None:
        self._stopping = threading.Event()
        self._paused = threading.Event()
        self._busy = False
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.signal_stop()
        self._thread.join(timeout=10)

    def signal_stop(self) -> None:
        """Ask the loop to end without waiting for it: stopping many pumps at once then takes
        one poll interval, not one per pump."""
        self._stopping.set()
        self._wake()

    @property
    def busy(self) -> bool:
        return self._busy

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def _hold(self) -> bool:
        """Wait while paused; False when the loop is to stop."""
        while self._paused.is_set() and not self._stopping.wait(PAUSED_LOOK_SECONDS):
            pass
        return not self._stopping.is_set()

    def _wake(self) -> None:  # noqa: B027 - a hook: most loops wake up by themselves
        """Interrupt a wait in `_run` so that it sees the stop at once."""

    @abc.abstractmethod
    def _run(self) -> None:
        """The thread's loop; return when `self._stopping` is set."""


def wait_until_idle(is_idle: Callable[[], bool], timeout: float) -> bool:
    """True once `is_idle()` has held three looks in a row (0.2 s apart), False after `timeout`.

    Three looks, because one idle moment can fall between a delivery and the next message.
    """
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        streak = streak + 1 if is_idle() else 0
        if streak >= 3:
            return True
        time.sleep(0.2)
    return False
