"""Python face of the SV memory model (tb/hdl/hbm_mem_model.sv).

Python never touches the AXI channels: it configures the model through its
command port (one clock per command), waits on the sticky violation flag
(one wake per violation, not per cycle) and reads statistics and the
transaction log per batch. ``HbmMemory`` is the plain cocotb object;
``HbmMemoryAgent`` wraps it as a pyuvm component with an analysis port of
completed transactions; ``HbmCoverage`` is a ready-made subscriber.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
from cocotb.triggers import FallingEdge, Lock, ReadOnly, RisingEdge, Timer
from pyuvm import ConfigDB, uvm_analysis_port, uvm_component, uvm_sequence_item, uvm_subscriber

from tb.common.fcov import Covergroup

from . import regs as R
from .config import HbmConfig
from .regions import HbmRegion, expected_bytes

M64 = (1 << 64) - 1
ROW_STATES = {0: None, 1: "hit", 2: "closed", 3: "miss"}
BURSTS = {0: "FIXED", 1: "INCR", 2: "WRAP", 3: "RESERVED"}


class HbmProtocolError(AssertionError):
    """The master broke an AXI rule; the message names channel, cycle and transaction."""


@dataclass
class HbmViolation:
    rule: str
    channel: int
    cycle: int
    axi_channel: str
    id: int
    addr: int
    len: int
    size: int
    burst: int
    count: int = 1

    def __str__(self) -> str:
        return (f"AXI protocol violation {self.rule} on memory channel {self.channel} "
                f"({self.axi_channel}) at cycle {self.cycle}: id={self.id:#x} addr={self.addr:#x} "
                f"len={self.len} size={self.size} burst={BURSTS.get(self.burst, self.burst)}"
                f" [{self.count} violation(s) so far]")


class HbmTxn(uvm_sequence_item):
    """One completed burst as the memory saw it (from the SV transaction log); kind
    "R", "W", or "P" for a phantom beat sent by the fault of that name."""

    def __init__(self, name="hbm_txn", kind="R", ch=0, id=0, addr=0, len=0, size=0, burst=1, resp=0,
                 t_accept=0, t_first=0, t_done=0, row=None, refresh=False):
        super().__init__(name)
        self.kind, self.ch, self.id, self.addr, self.len = kind, ch, id, addr, len
        self.size, self.burst, self.resp = size, burst, resp
        self.t_accept, self.t_first, self.t_done = t_accept, t_first, t_done
        self.row, self.refresh = row, refresh

    @property
    def beats(self) -> int:
        return self.len + 1

    @property
    def latency(self) -> int:
        """Cycles from AR accepted to the first R beat offered (W: AW to B)."""
        return self.t_first - self.t_accept if self.kind == "R" else self.t_done - self.t_accept

    @property
    def resp_name(self) -> str:
        return R.RESP_NAMES[self.resp]

    def __str__(self):
        return (f"HbmTxn({self.kind} ch{self.ch} id={self.id:#x} addr={self.addr:#x} len={self.len} "
                f"size={self.size} {BURSTS[self.burst]} {self.resp_name} acc@{self.t_accept} "
                f"first@{self.t_first} done@{self.t_done} row={self.row} refresh={self.refresh})")

    @classmethod
    def parse(cls, line: str) -> "HbmTxn":
        f = line.split()
        return cls(kind=f[0], ch=int(f[1]), id=int(f[2], 16), addr=int(f[3], 16), len=int(f[4]),
                   size=int(f[5]), burst=int(f[6]), resp=int(f[7]), t_accept=int(f[8]),
                   t_first=int(f[9]), t_done=int(f[10]), row=ROW_STATES[int(f[11])],
                   refresh=bool(int(f[12])))


@dataclass
class HbmStats:
    """Statistics of one channel since the last clear (from the SV counters)."""

    ch: int
    raw: dict = field(default_factory=dict)
    hist: list = field(default_factory=list)
    hist_shift: int = 3

    def __getattr__(self, name):
        raw = self.__dict__.get("raw", {})
        if name in raw:
            return raw[name]
        raise AttributeError(name)

    @property
    def utilization(self) -> float:
        """Fraction of cycles the R channel delivered a beat."""
        return self.raw["read_beats"] / self.raw["cycles"] if self.raw["cycles"] else 0.0

    @property
    def mean_latency(self) -> float:
        return self.raw["lat_sum"] / self.raw["reads_done"] if self.raw.get("reads_done") else 0.0

    @property
    def row_hit_rate(self) -> float:
        n = self.raw["row_hit"] + self.raw["row_miss"] + self.raw["row_closed"]
        return self.raw["row_hit"] / n if n else 0.0

    def as_dict(self) -> dict:
        d = dict(self.raw)
        d.update(ch=self.ch, utilization=self.utilization, mean_latency=self.mean_latency,
                 row_hit_rate=self.row_hit_rate, latency_hist=list(self.hist),
                 latency_bin_cycles=1 << self.hist_shift)
        return d


class HbmMemory:
    """Controls one hbm_mem_model instance whose control ports are ``<prefix>*`` on ``dut``."""

    def __init__(self, cfg: HbmConfig | None = None, dut=None, clk=None, log_path: str | None = None):
        self.cfg = cfg or HbmConfig()
        self.cfg.validate()
        self.dut = dut if dut is not None else cocotb.top
        self.clk = clk if clk is not None else self.dut.clk
        p = self.cfg.prefix
        g = lambda n: getattr(self.dut, p + n)  # noqa: E731
        self.s_valid, self.s_op, self.s_ch = g("cmd_valid"), g("cmd_op"), g("cmd_ch")
        self.s_addr, self.s_wdata, self.s_wstrb = g("cmd_addr"), g("cmd_wdata"), g("cmd_wstrb")
        self.s_rdata, self.s_stat, self.s_cycle = g("cmd_rdata"), g("stat_vec"), g("cycle")
        self.s_viol = {n: g("viol_" + n) for n in ("any", "count", "code", "kind", "ch", "cycle", "addr",
                                                   "id", "len", "size", "burst")}
        self.beat = self.cfg.beat_bytes
        self.regions: list[HbmRegion] = []
        self.mirror: dict[tuple[int, int], bytearray] = {}   # backdoor writes (ch, beat addr) -> bytes
        self.mirror_mask: dict[tuple[int, int], bytearray] = {}
        self.images: list[tuple[int, int, bytes]] = []        # bulk loads: (ch, beat-aligned base, bytes)
        self.violations: list[HbmViolation] = []
        self.subscribers = []        # callables(HbmTxn), e.g. an analysis port's write
        self.txn_count = 0
        self._lock = Lock()
        self._ro = False
        self._tasks = []
        self._log_path = Path(log_path or os.path.join(os.getcwd(), "hbm_txn.log"))
        self._log_pos = 0
        self._log_partial = ""

    # ------------------------------------------------------------------ command port
    async def _leave_ro(self):
        if self._ro:
            await Timer(1, unit="ps")
            self._ro = False

    async def _cmd(self, op: int, ch: int = 0, addr: int = 0, wdata: int = 0, wstrb: int = 0, read=False):
        async with self._lock:
            await self._leave_ro()
            self.s_op.value = op
            self.s_ch.value = ch
            self.s_addr.value = addr & M64
            self.s_wdata.value = wdata
            self.s_wstrb.value = wstrb
            self.s_valid.value = 1
            await RisingEdge(self.clk)
            self.s_valid.value = 0
            if read:
                await FallingEdge(self.clk)    # registered results settled, still writable
                return int(self.s_rdata.value)
        return None

    async def idle(self) -> None:
        """Leave the command port idle in a writable phase (call before driving other signals)."""
        async with self._lock:
            await self._leave_ro()

    async def write_reg(self, ch: int, idx: int, value: int) -> None:
        await self._cmd(R.OP_REG_WRITE, ch, idx, int(value) & M64)

    async def read_reg(self, ch: int, idx: int) -> int:
        return (await self._cmd(R.OP_REG_READ, ch, idx, read=True)) & M64

    async def cycle(self) -> int:
        return int(self.s_cycle.value)

    # ------------------------------------------------------------------ setup
    async def configure(self, channels=None) -> None:
        """Write timing, capacity, seeds and checks of every channel (after reset is fine)."""
        chans = range(self.cfg.num_ch) if channels is None else channels
        # registers equal on every channel go out once as a broadcast
        per_ch = {ch: self.cfg.channel_regs(ch) for ch in chans}
        common = {k: v for k, v in per_ch[next(iter(per_ch))].items()
                  if all(d.get(k) == v for d in per_ch.values())}
        if channels is None:
            for k, v in common.items():
                await self.write_reg(R.ALL_CHANNELS, k, v)
        for ch, d in per_ch.items():
            for k, v in d.items():
                if channels is not None or k not in common:
                    await self.write_reg(ch, k, v)

    async def start(self, configure: bool = True) -> None:
        """Configure, then watch for violations (and drain the log if enabled)."""
        if configure:
            await self.configure()
        self._tasks.append(cocotb.start_soon(self._watch_violations()))
        if self.cfg.log:
            self._tasks.append(cocotb.start_soon(self._drain_loop()))

    def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()

    async def set_regions(self, regions) -> None:
        """Program the region descriptors of the channels ``regions`` mention."""
        by_ch: dict[int, list[HbmRegion]] = {}
        for g in regions:
            g.validate(self.beat)
            by_ch.setdefault(g.ch, []).append(g)
        for ch, lst in by_ch.items():
            if len(lst) > self.cfg.nreg:
                raise ValueError(f"channel {ch}: {len(lst)} regions, the model holds {self.cfg.nreg}")
            for i, g in enumerate(lst):
                for j, v in enumerate(g.fields()):
                    await self.write_reg(ch, R.R_REG_BASE + R.REG_FIELDS * i + j, v)
            await self.write_reg(ch, R.R_NREG, len(lst))
        self.regions = [g for g in self.regions if g.ch not in by_ch] + list(regions)

    # ------------------------------------------------------------------ backdoor
    async def backdoor_write(self, ch: int, addr: int, data: bytes) -> None:
        """Write bytes at any address (beats with byte strobes). Overrides procedural rows."""
        data = bytes(data)
        pos = 0
        while pos < len(data):
            a = addr + pos
            base = a - a % self.beat
            off = a - base
            n = min(self.beat - off, len(data) - pos)
            chunk = data[pos:pos + n]
            word = int.from_bytes(b"\0" * off + chunk + b"\0" * (self.beat - off - n), "little")
            strb = ((1 << n) - 1) << off
            await self._cmd(R.OP_MEM_WRITE, ch, base, word, strb)
            m = self.mirror.setdefault((ch, base), bytearray(self.beat))
            mm = self.mirror_mask.setdefault((ch, base), bytearray(self.beat))
            m[off:off + n] = chunk
            mm[off:off + n] = b"\xff" * n
            pos += n

    async def bulk_load(self, ch: int, addr: int, data: bytes) -> None:
        """Write a large image (weights, bank images): the whole beats in the middle go
        through one OP_MEM_LOAD command from a file in the simulation's directory
        (hbm_load.bin, read by the SV model), the partial beats at the ends through
        backdoor_write. Same result as backdoor_write, in one command per image."""
        data = bytes(data)
        head = (-addr) % self.beat
        if len(data) < head + self.beat:
            await self.backdoor_write(ch, addr, data)
            return
        body_end = head + (len(data) - head) // self.beat * self.beat
        if head:
            await self.backdoor_write(ch, addr, data[:head])
        body = data[head:body_end]
        path = Path(os.getcwd()) / "hbm_load.bin"
        path.write_bytes(body)
        base = addr + head
        await self._cmd(R.OP_MEM_LOAD, ch, base, len(body) // self.beat)
        await FallingEdge(self.clk)     # the edge that took the command has run the SV load
        path.unlink()
        # the image replaces whole beats: older backdoor bytes there are gone
        for a in range(base, base + len(body), self.beat):
            if (ch, a) in self.mirror:
                del self.mirror[(ch, a)]
                del self.mirror_mask[(ch, a)]
        self.images.append((ch, base, body))
        if body_end < len(data):
            await self.backdoor_write(ch, addr + body_end, data[body_end:])

    async def backdoor_read(self, ch: int, addr: int, n: int) -> bytes:
        """What a read of [addr, addr+n) returns now (procedural rows merged with writes)."""
        out = bytearray()
        base = addr - addr % self.beat
        while base < addr + n:
            word = await self._cmd(R.OP_MEM_READ, ch, base, read=True)
            out += word.to_bytes(self.beat, "little")
            base += self.beat
        off = addr % self.beat
        return bytes(out[off:off + n])

    async def write_rows(self, region: HbmRegion, first_row: int, values) -> None:
        """Override rows of a region with int16 values [n, dim] (e.g. full-range test rows)."""
        from models.tables import row_bytes
        import numpy as np
        img = row_bytes(np.asarray(values, dtype=np.int16), region.stride).tobytes()
        await self.backdoor_write(region.ch, region.row_addr(first_row), img)

    async def set_content(self, seed: int, emb_shift: int) -> None:
        """Model seed and emb_shift of the procedural rows, on every channel (a new model)."""
        self.cfg.seed, self.cfg.emb_shift = int(seed), int(emb_shift)
        await self.write_reg(R.ALL_CHANNELS, R.R_SEED, self.cfg.seed & 0xFFFFFFFF)
        await self.write_reg(R.ALL_CHANNELS, R.R_EMB_SHIFT, self.cfg.emb_shift)

    async def clear_overrides(self, ch: int = R.ALL_CHANNELS) -> None:
        await self._cmd(R.OP_CLEAR_MEM, ch)
        for k in [k for k in self.mirror if ch == R.ALL_CHANNELS or k[0] == ch]:
            del self.mirror[k]
            del self.mirror_mask[k]
        self.images = [im for im in self.images if not (ch == R.ALL_CHANNELS or im[0] == ch)]

    def expected_bytes(self, ch: int, addr: int, n: int) -> bytes:
        """Golden bytes: models/tables.py content plus the backdoor writes made here.

        Writes that arrived over AXI are not mirrored; use ``backdoor_read`` for those.
        """
        out = expected_bytes(self.regions, self.cfg.seed, self.cfg.emb_shift, ch, addr, n)
        for ich, ibase, img in self.images:          # bulk loads in order, then newer beat writes
            lo, hi = max(addr, ibase), min(addr + n, ibase + len(img))
            if ich == ch and lo < hi:
                out[lo - addr:hi - addr] = img[lo - ibase:hi - ibase]
        base = addr - addr % self.beat
        while base < addr + n:
            if (ch, base) in self.mirror:
                m, mm = self.mirror[(ch, base)], self.mirror_mask[(ch, base)]
                for i in range(self.beat):
                    a = base + i
                    if mm[i] and addr <= a < addr + n:
                        out[a - addr] = m[i]
            base += self.beat
        return bytes(out)

    # ------------------------------------------------------------------ faults
    async def set_faults(self, ch: int, *, ar_stall: float = 0.0, r_stall: float = 0.0,
                         w_stall: float = 0.0, err_rate: float = 0.0, err_resp: str = "SLVERR",
                         err_ranges=(), stuck: str | None = None, jitter: int | None = None,
                         phantom: int = 0, ar_after_valid: bool = False) -> None:
        """Fault injection on channel ``ch`` (255: all). Probabilities are per cycle/burst.

        ``err_ranges``: [(lo, hi_exclusive, "SLVERR"|"DECERR")], at most 4.
        ``stuck``: None, "no_response" (AR accepted, never answered) or "no_ready".
        ``phantom``: send this many R beats with an ID not in flight (RLAST, OKAY), each
        in an idle R cycle while reads are in flight (stat ``phantom`` counts those sent).
        ``ar_after_valid``: ARREADY only in the cycle after ARVALID waited (AXI lets a slave
        wait for VALID), so a master that waits for ARREADY first never gets a handshake.
        """
        p = lambda x: int(round(min(max(x, 0.0), 1.0) * 65536))  # noqa: E731
        if len(err_ranges) > R.N_ERR_RANGES:
            raise ValueError(f"at most {R.N_ERR_RANGES} error ranges per channel")
        await self.write_reg(ch, R.R_P_AR_STALL, p(ar_stall))
        await self.write_reg(ch, R.R_P_R_STALL, p(r_stall))
        await self.write_reg(ch, R.R_P_W_STALL, p(w_stall))
        await self.write_reg(ch, R.R_P_ERR, p(err_rate))
        await self.write_reg(ch, R.R_ERR_RESP, R.RESP_CODES[err_resp])
        for i, (lo, hi, resp) in enumerate(err_ranges):
            await self.write_reg(ch, R.R_ERR_BASE + 4 * i, lo)
            await self.write_reg(ch, R.R_ERR_BASE + 4 * i + 1, hi)
            await self.write_reg(ch, R.R_ERR_BASE + 4 * i + 2, R.RESP_CODES[resp])
        await self.write_reg(ch, R.R_N_ERR_RNG, len(err_ranges))
        await self.write_reg(ch, R.R_STUCK, {None: 0, "no_response": 1, "no_ready": 2}[stuck])
        await self.write_reg(ch, R.R_PHANTOM, int(phantom))
        await self.write_reg(ch, R.R_AR_AFTER_VALID, int(ar_after_valid))
        if jitter is not None:
            await self.write_reg(ch, R.R_JITTER, jitter)

    async def clear_faults(self, ch: int = R.ALL_CHANNELS) -> None:
        await self.set_faults(ch)

    # ------------------------------------------------------------------ statistics
    async def snapshot(self) -> None:
        await self._cmd(R.OP_SNAPSHOT, R.ALL_CHANNELS)

    async def stats(self, channels=None, snapshot: bool = True) -> list[HbmStats]:
        """Per-channel statistics (one consistent snapshot of all channels)."""
        if snapshot:
            await self.snapshot()
        chans = range(self.cfg.num_ch) if channels is None else channels
        out = []
        for ch in chans:
            await self._cmd(R.OP_STAT_SEL, ch)
            await self._cmd(R.OP_NOP, R.ALL_CHANNELS, read=True)
            v = int(self.s_stat.value)
            vals = [(v >> (64 * i)) & M64 for i in range(R.N_STAT)]
            raw = {name: vals[i] for i, name in R.STAT_NAMES.items()}
            hist = vals[R.S_HIST:R.S_HIST + R.N_HIST]
            raw["reads_done"] = sum(hist)
            if raw["lat_min"] == M64:
                raw["lat_min"] = 0
            out.append(HbmStats(ch, raw, hist, self.cfg.timing_of(ch).hist_shift))
        return out

    async def clear_stats(self, ch: int = R.ALL_CHANNELS) -> None:
        await self._cmd(R.OP_CLEAR_STAT, ch)

    # ------------------------------------------------------------------ violations
    def _read_violation(self) -> HbmViolation:
        v = {k: int(s.value) for k, s in self.s_viol.items()}
        return HbmViolation(rule=R.VIOLATION_NAMES.get(v["code"], str(v["code"])), channel=v["ch"],
                            cycle=v["cycle"], axi_channel=R.KIND_NAMES.get(v["kind"], "?"), id=v["id"],
                            addr=v["addr"], len=v["len"], size=v["size"], burst=v["burst"],
                            count=v["count"])

    async def _watch_violations(self):
        while True:
            if not int(self.s_viol["any"].value):
                await RisingEdge(self.s_viol["any"])
            await ReadOnly()
            viol = self._read_violation()
            self.violations.append(viol)
            cocotb.log.error(str(viol))
            if self.cfg.fail_on_violation:
                raise HbmProtocolError(str(viol))
            await RisingEdge(self.clk)
            await self._cmd(R.OP_CLEAR_VIOL, R.ALL_CHANNELS)

    async def clear_violations(self) -> None:
        await self._cmd(R.OP_CLEAR_VIOL, R.ALL_CHANNELS)
        self.violations.clear()

    def check(self) -> None:
        """Raise if any violation was seen (for end-of-test checks with fail_on_violation off)."""
        if self.violations:
            raise HbmProtocolError("; ".join(str(v) for v in self.violations))
        if int(self.s_viol["any"].value):
            raise HbmProtocolError(str(self._read_violation()))

    # ------------------------------------------------------------------ transaction log
    async def flush_logs(self) -> None:
        """$fflush the transaction log (and any harness log that follows OP_FLUSH_LOG,
        e.g. the lookup port monitor's), so a file reader sees everything so far."""
        await self._cmd(R.OP_FLUSH_LOG, R.ALL_CHANNELS)
        await FallingEdge(self.clk)          # the flush runs in the edge's evaluation

    async def drain(self) -> list[HbmTxn]:
        """Flush the SV log, parse what is new, publish it to the subscribers."""
        await self.flush_logs()
        if not self._log_path.exists():
            return []
        with open(self._log_path) as fh:
            fh.seek(self._log_pos)
            text = fh.read()
            self._log_pos = fh.tell()
        text = self._log_partial + text
        lines = text.split("\n")
        self._log_partial = lines.pop()
        txns = [HbmTxn.parse(ln) for ln in lines if ln.strip()]
        self.txn_count += len(txns)
        for t in txns:
            for sub in self.subscribers:
                sub(t)
        return txns

    async def _drain_loop(self, every_cycles: int = 2048, period_ns: float = 10.0):
        while True:
            await Timer(every_cycles * period_ns, unit="ns")
            await self.drain()


# ---------------------------------------------------------------------- pyuvm face
class HbmMemoryAgent(uvm_component):
    """pyuvm component around HbmMemory.

    ConfigDB: ``hbm_cfg`` (HbmConfig, required), ``hbm_regions`` (optional list
    of HbmRegion). ``ap`` publishes every completed HbmTxn when ``cfg.log`` is
    on. The test starts the clock and reset, then awaits ``agent.ready`` (set
    once the model is configured). check_phase fails on protocol violations.
    """

    def build_phase(self):
        self.cfg = ConfigDB().get(self, "", "hbm_cfg")
        try:
            self.region_list = ConfigDB().get(self, "", "hbm_regions")
        except Exception:  # noqa: BLE001 - pyuvm raises its own error type
            self.region_list = []
        self.ap = uvm_analysis_port("ap", self)
        self.mem = HbmMemory(self.cfg)
        self.mem.subscribers.append(self.ap.write)
        self.ready = cocotb.triggers.Event()

    async def run_phase(self):
        dut = self.mem.dut
        rst = getattr(dut, "rst_n", None)
        if rst is not None:
            while not int(rst.value):
                await RisingEdge(self.mem.clk)
        await self.mem.start()
        if self.region_list:
            await self.mem.set_regions(self.region_list)
        self.ready.set()

    def check_phase(self):
        self.mem.stop()
        self.mem.check()


class HbmCoverage(uvm_subscriber):
    """Functional coverage of what the memory served (bins declared up front)."""

    def build_phase(self):
        self.cg = Covergroup("hbm_mem")
        self.cg.point("kind", ["R", "W"], "read and write bursts")
        self.cg.point("row", ["hit", "closed", "miss", "none"], "row-buffer outcome (none: no bank model)")
        self.cg.point("resp", ["OKAY", "SLVERR", "DECERR"], "burst response")
        self.cg.point("burst", ["FIXED", "INCR", "WRAP"], "burst type")
        self.cg.point("len", ["1", "2-4", "5-16", "17-256"], "beats per burst")
        self.cg.point("refresh", ["delayed", "not_delayed"], "refresh blackout hit")
        self.cg.point("order", ["in_order", "overtaken"], "an older burst completed after a younger one")
        self._last_acc: dict[int, int] = {}

    def write(self, t: HbmTxn):
        if t.kind == "P":     # a phantom beat (fault injection) answers no burst
            return
        self.cg.sample("kind", t.kind)
        self.cg.sample("row", t.row or "none")
        if t.resp_name in ("OKAY", "SLVERR", "DECERR"):
            self.cg.sample("resp", t.resp_name)
        self.cg.sample("burst", BURSTS[t.burst] if t.burst < 3 else "INCR")
        n = t.beats
        self.cg.sample("len", "1" if n == 1 else "2-4" if n <= 4 else "5-16" if n <= 16 else "17-256")
        self.cg.sample("refresh", "delayed" if t.refresh else "not_delayed")
        if t.kind == "R":
            last = self._last_acc.get(t.ch, -1)
            self.cg.sample("order", "overtaken" if t.t_accept < last else "in_order")
            self._last_acc[t.ch] = max(last, t.t_accept)

    def report_phase(self):
        self.cg.report(self.logger)
