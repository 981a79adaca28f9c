"""A hang fails fast and explains itself: no progress for N cycles -> the
test fails with a dump of what is still outstanding."""
from __future__ import annotations

import cocotb

from tb.common.clock_reset import pass_cycles


class Watchdog:
    """Fails the test if no progress is reported for ``limit`` cycles.

    ``dump`` is a callable returning a text description of what is still
    outstanding; it is printed in the failure so a hang explains itself.
    """

    def __init__(self, clk, limit: int, dump=lambda: "", name: str = "watchdog", step: int = 64):
        self.clk = clk
        self.limit = limit
        self.dump = dump
        self.name = name
        self._last_progress = 0
        self._cycle = 0
        self.expired = None
        self._task = None
        self.step = step               # cycles between its wake-ups

    def kick(self) -> None:
        self._last_progress = self._cycle

    def start(self):
        self._task = cocotb.start_soon(self._run())
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        step = self.step
        while True:
            await pass_cycles(step)
            self._cycle += step
            if self._cycle - self._last_progress > self.limit:
                self.expired = (f"{self.name}: no progress for {self.limit} cycles "
                                f"(cycle {self._cycle}); outstanding:\n{self.dump()}")
                raise AssertionError(self.expired)
