"""Control of the SV traffic generators of the self-test harness (tb/hdl/hbm_tb_top.sv).

Each channel has one hbm_axi_tgen. Python sets its registers, starts it and
reads its counters at the end; ``addresses`` reproduces its address stream.
With ``TgenCfg.log_beats`` every generator logs a hash of each beat it takes,
in order (tb/hdl/hbm_axi_tgen.sv), and ``check_beats`` compares every one of
them with models/tables.py in AXI order (bursts of one ID in issue order, beats
of a burst in address order) after the run: no per-cycle Python, and no
folding that a reordering or a swap of beats could hide.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge, Timer

from models.tables import mix32

from . import regs as R
from .regions import expected_bytes

BEAT_LOG = "hbm_tgen_beats.log"

T = R.T


def xs32(s: int) -> int:
    s ^= (s << 13) & 0xFFFFFFFF
    s ^= s >> 17
    s ^= (s << 5) & 0xFFFFFFFF
    return s & 0xFFFFFFFF


@dataclass
class TgenCfg:
    base: int = 0
    idx_mask: int = 0xFFF           # address index range (power of two minus one)
    stride_lg: int = 5              # address = base + (idx << stride_lg)
    random: bool = True
    len: int = 0                    # ARLEN
    size: int | None = None         # default: full bus width
    burst: int = 1
    n_ids: int = 4
    p_issue: float = 1.0
    p_rready: float = 1.0
    max_out: int = 64
    count: int = 0                  # 0: run until disabled
    seed: int = 1
    addr_seed: int = 1
    log_beats: bool = False         # log every beat taken (for check_beats)

    def regs(self, data_w: int) -> dict[int, int]:
        p = lambda x: int(round(min(max(x, 0.0), 1.0) * 65536))  # noqa: E731
        size = self.size if self.size is not None else (data_w // 8).bit_length() - 1
        return {T["T_BASE"]: self.base, T["T_IDX_MASK"]: self.idx_mask, T["T_STRIDE_LG"]: self.stride_lg,
                T["T_LEN"]: self.len, T["T_SIZE"]: size, T["T_BURST"]: self.burst,
                T["T_N_IDS"]: self.n_ids, T["T_P_ISSUE"]: p(self.p_issue), T["T_P_RREADY"]: p(self.p_rready),
                T["T_MAX_OUT"]: self.max_out, T["T_COUNT"]: self.count, T["T_SEED"]: (self.seed & 0xFFFFFFFF) or 1,
                T["T_ADDR_SEED"]: (self.addr_seed & 0xFFFFFFFF) or 1}

    def addresses(self, n: int) -> np.ndarray:
        """Start addresses of the first n bursts, as the SV generator issues them."""
        if self.random:
            s, idx = (self.addr_seed & 0xFFFFFFFF) or 1, []
            for _ in range(n):
                s = xs32(s)
                idx.append(s & self.idx_mask)
            idx = np.array(idx, dtype=np.int64)
        else:
            idx = np.arange(n, dtype=np.int64) & self.idx_mask
        return self.base + (idx << self.stride_lg)


class TrafficGens:
    """The generators of hbm_tb_top (ports tg_*)."""

    def __init__(self, dut, data_w: int, num_ch: int):
        self.dut, self.data_w, self.num_ch = dut, data_w, num_ch
        self.beat = data_w // 8
        self.cfgs: dict[int, TgenCfg] = {}

    async def _w(self, ch: int, addr: int, data: int) -> None:
        d = self.dut
        d.tg_cfg_ch.value = ch
        d.tg_cfg_addr.value = addr
        d.tg_cfg_data.value = data
        d.tg_cfg_valid.value = 1
        await RisingEdge(d.clk)
        d.tg_cfg_valid.value = 0

    async def setup(self, ch: int, cfg: TgenCfg) -> None:
        await self._w(ch, T["T_CTRL"], 0)
        await self._w(ch, T["T_CLEAR"], 1)
        for k, v in cfg.regs(self.data_w).items():
            await self._w(ch, k, v)
        self.cfgs[ch] = cfg

    async def start(self, channels=None) -> None:
        for ch in (channels if channels is not None else sorted(self.cfgs)):
            c = self.cfgs[ch]
            await self._w(ch, T["T_CTRL"], 1 | (2 if c.random else 0) | (4 if c.log_beats else 0))
        await ClockCycles(self.dut.clk, 3)      # tg_done_all is registered twice

    async def stop(self, channels=None) -> None:
        for ch in (channels if channels is not None else sorted(self.cfgs)):
            await self._w(ch, T["T_CTRL"], 0)

    async def wait_done(self, timeout_cycles: int, period_ns: float = 10.0) -> bool:
        """Wait (one wake at the end, no per-cycle Python) until every generator is done."""
        from cocotb.triggers import First
        if not int(self.dut.tg_done_all.value):
            await First(RisingEdge(self.dut.tg_done_all), Timer(timeout_cycles * period_ns, unit="ns"))
        await ReadOnly()
        done = bool(int(self.dut.tg_done_all.value))
        await Timer(1, unit="ps")
        return done

    async def status(self, ch: int) -> dict:
        await self._w(ch, 0xFF, 0)
        await ReadOnly()
        d = self.dut
        st = {"issued": int(d.tg_st_issued.value), "done": int(d.tg_st_done.value),
              "beats": int(d.tg_st_beats.value), "rlast_errs": int(d.tg_st_errs.value),
              "resp_errs": int(d.tg_st_resp_err.value), "xor": int(d.tg_st_xor.value)}
        await Timer(1, unit="ps")
        return st

    def read_beat_log(self, path: str | None = None) -> dict[int, list[tuple[int, int, int, int]]]:
        """channel -> [(rid, rlast, rresp, hash)] in the order taken (after the memory
        model's log flush, HbmMemory.flush_logs, which flushes this log too)."""
        import os
        out: dict[int, list] = {}
        with open(path or os.path.join(os.getcwd(), BEAT_LOG)) as fh:
            for line in fh:
                f = line.split()
                if len(f) == 5:
                    out.setdefault(int(f[0]), []).append((int(f[1], 16), int(f[2]), int(f[3]), int(f[4], 16)))
        return out

    def check_beats(self, ch: int, n_bursts: int, beats, regions, seed: int, emb_shift: int) -> list[str]:
        """Every beat generator ``ch`` took against models/tables.py, in AXI order: the
        k-th burst of ID i is the generator's burst i + k * n_ids (IDs round robin),
        its beats in address order, RLAST on the last, OKAY. Returns mismatch lines."""
        cfg = self.cfgs[ch]
        if cfg.burst != 1 or (cfg.size is not None and (1 << cfg.size) != self.beat):
            raise ValueError("check_beats models full-width INCR bursts only")
        n_ids = max(1, cfg.n_ids)
        nb = cfg.len + 1
        starts = cfg.addresses(n_bursts)
        lo, hi = int(starts.min()), int(starts.max()) + nb * self.beat
        want_hash = beat_hashes(expected_bytes(regions, seed, emb_shift, ch, lo, hi - lo), self.beat)
        pos = {i: (0, 0) for i in range(n_ids)}          # id -> (k-th burst of this id, beat)
        problems: list[str] = []
        for n, (rid, last, resp, got) in enumerate(beats):
            if rid not in pos:
                problems.append(f"MISMATCH ch{ch} beat #{n}: RID {rid}, the generator issues IDs 0..{n_ids - 1}")
                continue
            k, j = pos[rid]
            seq = rid + k * n_ids
            if seq >= n_bursts:
                problems.append(f"MISMATCH ch{ch} beat #{n}: id {rid} has {k} bursts done, no more were issued")
                continue
            addr = int(starts[seq]) + j * self.beat
            want = int(want_hash[(addr - lo) // self.beat])
            if got != want or resp != 0 or last != int(j == cfg.len):
                problems.append(f"MISMATCH ch{ch} id {rid} burst #{seq} beat {j} (addr {addr:#x}): expected "
                                f"hash {want:08x} OKAY rlast={int(j == cfg.len)}, got {got:08x} resp={resp} "
                                f"rlast={last}")
            pos[rid] = (k + 1, 0) if j == cfg.len else (k, j + 1)
        if len(beats) != n_bursts * nb:
            problems.append(f"MISMATCH ch{ch}: {len(beats)} beats taken, {n_bursts} bursts of {nb} issued")
        return problems


def beat_hashes(data: bytes, beat: int) -> np.ndarray:
    """The generators' beat hash of every beat of ``data``: h = mix32(h ^ word) over its
    32-bit little-endian words, h from 0."""
    words = np.frombuffer(bytes(data), dtype="<u4").reshape(-1, beat // 4)
    h = np.zeros(len(words), dtype=np.uint32)
    for w in range(beat // 4):
        h = mix32(h ^ words[:, w])
    return h
