"""Stimulus and expected records of the multi-hot query path bench.

Packets are written by the golden packer (models.query_stream.pack_query)
and then, for the error kinds, broken the way a bad host would break them.
What each packet must produce comes from two places:

- the *codes* (which query fails, with which code and table) and the pooled
  vectors come from the golden model only: models.query_stream.parse_stream
  splits the stream and finds ERR_PACKET, models.dlrm.check_bags the bag and
  index errors, models.dlrm.pool_sums / pool the pooled vectors;
- the *record format* (which packets get a header record, the index entries
  with their void / last / abort flags) is the RTL interface of contracts
  s.9.9, restated here in :func:`interface_records` from that text.
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

from models.config import ModelConfig, builtin
from models.dlrm import ERR_NONE, check_bags, pool, pool_sums
from models.multihot import Bags
from models.query_stream import header_words, pack_query, parse_stream

M32 = 0xFFFFFFFF

KINDS = ("good", "corner", "saturate", "padded", "bad_index", "bag_len", "bag_len_and_index", "bag_len_short",
         "bag_len_long", "t_mismatch", "d_mismatch", "n_mismatch", "short_header", "short", "long",
         "long_swallow", "garbage")
ERROR_KINDS = KINDS[4:]
# padded: a good packet whose padding is not zero (s.9.7: ignored, the packer writes 0): the free
# half of the last bag-length word (odd T) and of the last dense word (odd D), the header beat's
# words past the header and the unused words of the last index beat
# kinds outside the all-kinds mix (KINDS): bag20, every bag 20 long (bag_max if shorter), the s.9.7
# rate example; bad_index_multi, 2 to 4 indices out of range in tables drawn at random (often in one
# index beat of the wide ingress: the lowest table must still be the one reported)
EXTRA_KINDS = ("bag20", "bad_index_multi")


# ---- the bench's models (every table one DIM wide; T <= T_MAX, D <= D_MAX) ------------

def _tables(cfg: ModelConfig, **per_table) -> ModelConfig:
    """cfg with per-table fields replaced: name -> list of values, one per table."""
    tabs = [dataclasses.replace(t, **{k: v[i] for k, v in per_table.items()}) for i, t in enumerate(cfg.tables)]
    return dataclasses.replace(cfg, tables=tabs)


def bench_model(name: str) -> ModelConfig:
    """dlrm_tiny (bag_max 64 = L_MAX on table 0; one mean table), and variants:
    ``saturating`` (emb_shift 0, every table a sum with room for long bags),
    ``mean`` (emb_shift 0, pool_shift 1, 2, 15 and 3 on four tables) and
    ``full`` (the build's T_MAX = 8 tables and D_MAX = 4 dense features) and
    ``kaggle`` (dlrm_kaggle's 26 tables, rows and 13 dense features, rows 4 wide
    and concat interaction so the bench's DIM fits; needs T_MAX >= 26, D_MAX >= 13)."""
    cfg = builtin("dlrm_tiny")
    if name == "dlrm_tiny":
        return cfg
    if name == "saturating":
        cfg = dataclasses.replace(cfg, emb_shift=0)
        return _tables(cfg, bag_max=[64, 1, 8, 16, 3], pooling=["sum"] * 5, pool_shift=[0] * 5)
    if name == "mean":
        cfg = dataclasses.replace(cfg, emb_shift=0)
        return _tables(cfg, bag_max=[64, 2, 8, 8, 4], pooling=["mean", "mean", "mean", "sum", "mean"],
                       pool_shift=[15, 1, 2, 0, 3])
    if name == "full":
        # T = T_MAX = 8 and D = D_MAX = 4 of the bench build (even counts: no padding halves),
        # a one-row table (only index 0 is in range) and a second L_MAX table
        base = cfg.tables
        tabs = [dataclasses.replace(base[i % 5], name=f"t{i}", rows=r, bag_max=bm,
                                    pooling="mean" if sh else "sum", pool_shift=sh)
                for i, (r, bm, sh) in enumerate([(1000, 64, 0), (1, 4, 0), (16, 8, 2), (200, 2, 0),
                                                 (64, 16, 1), (500, 1, 0), (3, 4, 0), (4096, 64, 6)])]
        return dataclasses.replace(cfg, tables=tabs, dense=4)
    if name == "kaggle":
        cfg = dataclasses.replace(builtin("dlrm_kaggle"), interaction="concat")
        return _tables(cfg, dim=[4] * cfg.num_tables)
    raise ValueError(f"model {name!r}: dlrm_tiny, saturating, mean, full or kaggle")


# ---- packets -----------------------------------------------------------------------

@dataclass
class Pkt:
    kind: str
    qid: int
    beats: list[tuple[int, int]] = field(default_factory=list)   # (beat, tlast)


def _lengths(cfg: ModelConfig, rnd: random.Random, mode: str) -> list[int]:
    out = []
    for tab in cfg.tables:
        bm = tab.bag_max
        if mode == "bag20":                  # the s.9.7 rate example: bags of 20
            out.append(min(20, bm))
        elif mode in ("corner", "saturate"):
            out.append(bm if mode == "saturate" else rnd.choice(sorted({0, 1, bm})))
        else:
            r = rnd.random()
            out.append(0 if r < 0.1 else 1 if r < 0.2 else bm if r < 0.3 else rnd.randint(0, bm))
    return out


def _indices(tab, n: int, rnd: random.Random, mode: str) -> list[int]:
    if mode == "saturate" or (n and rnd.random() < 0.25):         # one row repeated: duplicates
        return [rnd.randrange(tab.rows)] * n
    if n and rnd.random() < 0.25:                                 # a few rows, repeated in any order
        few = [rnd.randrange(tab.rows) for _ in range(3)]
        return [rnd.choice(few) for _ in range(n)]
    return [rnd.randrange(tab.rows) for _ in range(n)]


def _dense(cfg: ModelConfig, rnd: random.Random) -> list[int]:
    return [rnd.choice([-32768, 32767, 0, -1, rnd.randint(-32768, 32767)]) for _ in range(cfg.dense)]


def _query(cfg: ModelConfig, rnd: random.Random, mode: str):
    lens = _lengths(cfg, rnd, mode)
    return [_indices(tab, n, rnd, mode) for tab, n in zip(cfg.tables, lens)], _dense(cfg, rnd)


def _set_word(beats: list[int], word: int, value: int, w: int) -> list[int]:
    b, k = divmod(word, w)
    beats = list(beats)
    beats[b] = (beats[b] & ~(M32 << (32 * k))) | ((value & M32) << (32 * k))
    return beats


def _word(beats: list[int], word: int, w: int) -> int:
    b, k = divmod(word, w)
    return (beats[b] >> (32 * k)) & M32


def _fill_padding(beats: list[int], t_n: int, d_n: int, n: int, w: int, rnd: random.Random) -> list[int]:
    """beats with every padding half and word (s.9.7) set to random nonzero values."""
    def noise16():
        return rnd.choice([0xFFFF, 0x8000, 1, rnd.randint(1, 0xFFFF)])
    hw = header_words(t_n, d_n)
    hb = -(-hw // w)
    halves = []
    if t_n % 2:
        halves.append(2 + t_n // 2)                       # lengths: table T would sit in [31:16]
    if d_n % 2:
        halves.append(2 + (t_n + 1) // 2 + d_n // 2)       # dense: feature D would sit in [31:16]
    for word in halves:
        beats = _set_word(beats, word, (_word(beats, word, w) & 0xFFFF) | (noise16() << 16), w)
    last = hb * w + -(-n // w) * w                         # words in the packet
    for word in list(range(hw, hb * w)) + list(range(hb * w + n, last)):
        beats = _set_word(beats, word, (noise16() << 16) | noise16(), w)
    return beats


def make_packet(cfg: ModelConfig, kind: str, qid: int, w: int, l_max: int, rnd: random.Random) -> Pkt:
    """One packet of ``kind`` (the tlast flags included; long_swallow has none)."""
    mode = kind if kind in ("corner", "saturate", "bag20") else "good"
    bags, dense = _query(cfg, rnd, mode)
    t_n = cfg.num_tables
    if kind in ("bad_index", "bag_len_and_index"):
        t = rnd.randrange(t_n - 1 if kind == "bag_len_and_index" else t_n)
        if not bags[t]:
            bags[t] = [0]
        j = rnd.randrange(len(bags[t]))
        bags[t][j] = rnd.choice([cfg.tables[t].rows, cfg.tables[t].rows + rnd.randint(1, 1000), M32])
    if kind == "bad_index_multi":
        for _ in range(rnd.randint(2, 4)):
            t = rnd.randrange(t_n)
            if not bags[t]:
                bags[t] = [0]
            j = rnd.randrange(len(bags[t]))
            bags[t][j] = rnd.choice([cfg.tables[t].rows, cfg.tables[t].rows + rnd.randint(1, 1000), M32])
    if kind.startswith("bag_len"):
        lo = 1 if kind == "bag_len_and_index" else 0
        cand = [t for t in range(lo, t_n)]
        # the bad index (if any) sits in a lower table: BAG_LEN must still win
        if kind == "bag_len_and_index":
            bad_t = next(t for t in range(t_n) if any(i >= cfg.tables[t].rows for i in bags[t]))
            cand = [t for t in range(bad_t + 1, t_n)] or [t_n - 1]
        t = rnd.choice(cand)
        tab = cfg.tables[t]
        n = tab.bag_max + 1 if tab.bag_max < l_max or rnd.random() < 0.5 else l_max + 1
        bags[t] = [rnd.randrange(tab.rows) for _ in range(n)]
    if kind == "garbage":
        n = rnd.randint(1, 4)
        words = [rnd.getrandbits(32) for _ in range(n * w)]
        words[0] = qid
        beats = [sum(words[b * w + k] << (32 * k) for k in range(w)) for b in range(n)]
        return Pkt(kind, qid, [(b, int(i == n - 1)) for i, b in enumerate(beats)])
    beats = pack_query(qid, bags, dense, w)
    hb = -(-header_words(t_n, cfg.dense) // w)
    if kind == "padded":
        beats = _fill_padding(beats, t_n, cfg.dense, sum(map(len, bags)), w, rnd)
    w1 = _word(beats, 1, w)
    if kind == "t_mismatch":
        beats = _set_word(beats, 1, (w1 & ~0xFF0000) | ((((w1 >> 16) + rnd.choice([1, 255])) & 0xFF) << 16), w)
    elif kind == "d_mismatch":
        beats = _set_word(beats, 1, (w1 & 0x00FFFFFF) | ((((w1 >> 24) + rnd.choice([1, 255])) & 0xFF) << 24), w)
    elif kind == "n_mismatch":
        n = w1 & 0xFFFF
        beats = _set_word(beats, 1, (w1 & ~0xFFFF) | ((n + (1 if n == 0 else rnd.choice([1, -1]))) & 0xFFFF), w)
    elif kind == "short_header":
        beats = beats[:rnd.randint(1, hb - 1)] if hb > 1 else beats[:1]
    elif kind in ("short", "bag_len_short"):
        if len(beats) <= hb + 1 and kind == "short":   # lengthen the query: index beats to cut
            bags[0] = [rnd.randrange(cfg.tables[0].rows) for _ in range(min(cfg.tables[0].bag_max, 3 * w))]
            beats = pack_query(qid, bags, dense, w)
        beats = beats[:rnd.randint(hb, len(beats) - 1)]
    elif kind in ("long", "bag_len_long"):
        beats = beats + [rnd.getrandbits(32 * w) for _ in range(rnd.randint(1, 3))]
    out = [(b, int(i == len(beats) - 1)) for i, b in enumerate(beats)]
    if kind == "long_swallow":
        out[-1] = (out[-1][0], 0)
    return Pkt(kind, qid, out)


def make_stream(cfg: ModelConfig, kinds: dict[str, float], n: int, w: int, l_max: int,
                rnd: random.Random) -> list[Pkt]:
    """n packets of kinds drawn with the given weights, ending in a tlast."""
    names, weights = zip(*kinds.items())
    pkts = []
    for q in range(n):
        kind = rnd.choices(names, weights)[0]
        if q == n - 1 and kind == "long_swallow":
            kind = "long"
        pkts.append(make_packet(cfg, kind, (rnd.getrandbits(16) << 16) | q, w, l_max, rnd))
    return pkts


# ---- expected records ------------------------------------------------------------------

@dataclass
class Expected:
    errors: list[tuple[int, int, int, int]]            # (qid, code, table, packet seq), stream order
    headers: list[dict]                                # qid, num, lens, dense, seq
    entries: list[tuple]                               # (table, index, void, last_bag, last_query, abort)
    pooled: dict[tuple[int, int], list[int]]           # (qid, table) -> DIM elements
    sums: dict[tuple[int, int], list[int]]             # the exact sums behind them
    good: list[int]                                    # qids answered without error
    packets: list                                      # models.query_stream.Packet per packet
    kinds: list[str]                                   # the kind that began each packet


def golden(cfg: ModelConfig, stream: list[tuple[int, int]], w: int):
    """The golden answer per packet: (qid, code, table) and the good queries' pooled vectors."""
    packets = parse_stream(cfg, stream, w)
    codes = []
    good_bags, good_dense, good_qids = [], [], []
    for p in packets:
        if p.err != ERR_NONE:
            codes.append((p.qid, p.err, 0))
            continue
        errs = check_bags(cfg, Bags.from_lists([p.bags], [p.dense]))
        codes.append((p.qid, int(errs.code[0]), int(errs.table[0])))
        if errs.code[0] == ERR_NONE:
            good_bags.append(p.bags)
            good_dense.append(p.dense)
            good_qids.append(p.qid)
    pooled, sums = {}, {}
    if good_qids:
        batch = Bags.from_lists(good_bags, good_dense)
        s = pool_sums(cfg, batch)
        pv = pool(cfg, s)
        for q, qid in enumerate(good_qids):
            for t, (tab, off) in enumerate(zip(cfg.tables, cfg.feature_offsets)):
                pooled[(qid, t)] = pv[q, off:off + tab.dim].tolist()
                sums[(qid, t)] = s[q, off:off + tab.dim].tolist()
    return packets, codes, pooled, sums, good_qids


def interface_records(cfg: ModelConfig, beats: list[int], w: int, l_max: int):
    """Header record (or None) and index entries of one packet (its beats up to
    and including its tlast), as contracts s.9.9 describes them."""
    t_n, d_n = cfg.num_tables, cfg.dense
    hb = -(-header_words(t_n, d_n) // w)
    if len(beats) < hb:
        return None, []
    words = [(b >> (32 * k)) & M32 for b in beats for k in range(w)]
    w1 = words[1]
    n, t, d = w1 & 0xFFFF, (w1 >> 16) & 0xFF, w1 >> 24
    lens = [(words[2 + m // 2] >> (16 * (m % 2))) & 0xFFFF for m in range(t_n)]
    base = 2 + (t_n + 1) // 2
    dense = [(words[base + m // 2] >> (16 * (m % 2))) & 0xFFFF for m in range(d_n)]
    if t != t_n or d != d_n or n != sum(lens):
        return None, []
    if (n == 0) != (len(beats) == hb):
        return None, []                         # N = 0 long, or N > 0 ending in the header
    if any(ln > tab.bag_max or ln > l_max for ln, tab in zip(lens, cfg.tables)):
        return None, []
    header = {"qid": words[0], "num": n, "lens": lens, "dense": dense}
    term = (0, 0, 1, 0, 1)                      # table, index, void, last_bag, last_query (+ abort)
    if n == 0:
        return header, [term + (0,)]
    ib = -(-n // w)
    owner = [tt for tt, ln in enumerate(lens) for _ in range(ln)]
    first_of_next = {}
    pos = 0
    for tt, ln in enumerate(lens):
        pos += ln
        if ln:
            first_of_next[pos - 1] = True       # last index of a bag
    short = len(beats) < hb + ib
    long_ = len(beats) > hb + ib
    count = (len(beats) - 1 - hb) * w if short else n
    entries, bad = [], False
    for j in range(count):
        tt, idx = owner[j], words[hb * w + j]
        oob = idx >= cfg.tables[tt].rows
        last_q = not short and j == n - 1
        entries.append((tt, idx, int(bad or oob), int(j in first_of_next), int(last_q),
                        int(last_q and (long_ or bad or oob))))
        bad = bad or oob
    if short:
        entries.append(term + (1,))
    return header, entries


def expected(cfg: ModelConfig, pkts: list[Pkt], w: int, l_max: int) -> Expected:
    stream = [bt for p in pkts for bt in p.beats]
    packets, codes, pooled, sums, good = golden(cfg, stream, w)
    groups, cur, starts = [], [], []
    for p in pkts:
        for b, last in p.beats:
            if not cur:
                starts.append(p.kind)
            cur.append(b)
            if last:
                groups.append(cur)
                cur = []
    assert len(groups) == len(packets), "bench: packet split differs from parse_stream"
    headers, entries = [], []
    for seq, g in enumerate(groups):
        h, e = interface_records(cfg, g, w, l_max)
        if h is not None:
            headers.append({**h, "seq": seq & 0xFFFF})
            entries += e
    errors = [c + (seq & 0xFFFF,) for seq, c in enumerate(codes) if c[1] != ERR_NONE]
    return Expected(errors, headers, entries, pooled, sums, good, packets, starts)


def exact_half(s: int, shift: int) -> str | None:
    """'pos' / 'neg' when a mean's sum sits exactly halfway between two results."""
    if shift == 0 or (s & ((1 << shift) - 1)) != 1 << (shift - 1):
        return None
    return "pos" if s >= 0 else "neg"


def as_int16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


