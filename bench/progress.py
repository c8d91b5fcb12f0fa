"""One line per step on a pipe; a live \\r line while a step runs when stdout is a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.live = False

    def _stamp(self) -> str:
        s = int(time.monotonic() - self.t0)
        return f"[{s // 60:02d}:{s % 60:02d}]"

    def step(self, msg: str) -> None:
        """A step starts (shown live on a terminal only)."""
        if self.tty:
            sys.stdout.write(f"\r\033[K{self._stamp()} {msg} ...")
            sys.stdout.flush()
            self.live = True

    def done(self, msg: str) -> None:
        """A step ended: one permanent line."""
        if self.live:
            sys.stdout.write("\r\033[K")
            self.live = False
        print(f"{self._stamp()} {msg}", flush=True)
