"""The receiving end of a valid/ready stream, event-driven.

Python wakes only while the stream has something to offer: with ``valid``
low it sleeps on ``valid``'s rising edge (no per-cycle work on an idle or
slow stream, e.g. one logit every few hundred cycles); with ``valid`` high it
acts once per cycle at the falling edge: it draws the backpressure (``ready``
low with probability ``stall_prob``, or while ``hold()``), and when it takes
the beat it reads the payload there, mid-cycle, which is exactly what the
coming rising edge hands over.

While the stream is idle ``ready`` is not simply low: it keeps a value drawn
when the stream went idle (high unless a stall is drawn or ``hold()``), so the
DUT meets ``ready`` high before ``valid`` too, as a real consumer gives it. A
sink that lowered ``ready`` whenever ``valid`` was low hid a FIFO that counts
a pop on empty (mutant ``fifo_count``): the engines pop on ``ready`` alone.
Every handshake is still decided at the falling edge before it, so no beat
is taken unseen.
"""
from __future__ import annotations

from typing import Callable

from cocotb.triggers import FallingEdge, RisingEdge


class StreamSink:
    def __init__(self, clk, valid, ready, rst_n, stall_prob: float, rnd, hold: Callable[[], bool] = lambda: False):
        self.clk, self.valid, self.ready, self.rst_n = clk, valid, ready, rst_n
        self.stall_prob, self.rnd, self.hold = stall_prob, rnd, hold
        self.beats = 0
        self.stalls = 0     # cycles with valid high and ready drawn low

    def draw(self) -> bool:
        """Ready this cycle: not held, and no stall drawn."""
        return not self.hold() and (self.stall_prob <= 0.0 or self.rnd.random() >= self.stall_prob)

    async def run(self, take: Callable[[], None]) -> None:
        """Forever: ``take()`` is called at the falling edge before each handshake."""
        self.ready.value = 0
        await FallingEdge(self.clk)
        while True:
            if not (int(self.valid.value) and int(self.rst_n.value)):
                self.ready.value = int(bool(int(self.rst_n.value)) and self.draw())
                await RisingEdge(self.valid)
                await FallingEdge(self.clk)
                continue
            go = self.draw()
            self.ready.value = int(go)
            if go:
                self.beats += 1
                take()
            else:
                self.stalls += 1
            await FallingEdge(self.clk)
