"""The bench clock and the first reset, in the order the RTL assertions need."""
from __future__ import annotations

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, Timer

CLK_PERIOD_NS = 10


async def start_clock_and_reset(clk, rst_n, cycles: int = 5) -> None:
    # reset is asserted before the first clock edge: with Verilator's random initial
    # state, an edge at time 0 with rst_n still random would run assertions on garbage
    rst_n.value = 0
    await Timer(1, unit="ns")      # the write lands before the clock's first edge
    Clock(clk, CLK_PERIOD_NS, unit="ns").start()
    await ClockCycles(clk, cycles)
    rst_n.value = 1
    await RisingEdge(clk)


async def pass_cycles(n: int) -> None:
    """Let ``n`` clock cycles pass with one wake-up (a Timer), not one per edge as
    ClockCycles does: for polling loops that look at bench state, not at signals."""
    await Timer(n * CLK_PERIOD_NS, unit="ns")
