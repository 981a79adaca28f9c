"""The query packet of contracts.md section 9.7: variable-length bags on a stream.

A packet is 32-bit words, `W` per beat (a beat is an int of W * 32 bits,
word k in bits [32k+31:32k]), `tlast` on its last beat:

    word 0            query id
    word 1            [15:0] N total indices, [23:16] T tables, [31:24] D dense
    lengths           uint16, two per word (table 2m low half)
    dense             int16, two per word (feature 2m low half)
    (pad to the beat end)
    index beats       N uint32 indices, table-major, W per beat

`pack_query` writes a packet; `parse_stream` splits a beat stream into
packets exactly as the RTL ingress must (a short packet ends at its own
tlast, a long one runs to the next tlast) and returns, per packet, the
query id and either the parsed query or ERR_PACKET. Bag-length and index
checks are `models.dlrm.check_bags`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .config import ModelConfig
from .dlrm import ERR_NONE, ERR_PACKET
from .multihot import Bags

M16, M32 = 0xFFFF, 0xFFFFFFFF


def header_words(num_tables: int, num_dense: int) -> int:
    return 2 + (num_tables + 1) // 2 + (num_dense + 1) // 2


def packet_beats(num_tables: int, num_dense: int, num_indices: int, words_per_beat: int) -> int:
    """HB + IB: header beats plus index beats of one packet."""
    w = int(words_per_beat)
    return -(-header_words(num_tables, num_dense) // w) + -(-int(num_indices) // w)


def _check_w(words_per_beat: int) -> int:
    w = int(words_per_beat)
    if w < 2:
        raise ValueError(f"words_per_beat: must be >= 2 (id and counts share beat 0), got {w}")
    return w


def _beats(words: list[int], w: int) -> list[int]:
    words = words + [0] * (-len(words) % w)
    return [sum((words[b * w + k] & M32) << (32 * k) for k in range(w))
            for b in range(len(words) // w)]


def pack_query(qid: int, bags: Sequence[Sequence[int]], dense: Sequence[int],
               words_per_beat: int) -> list[int]:
    """The beats of one packet (tlast belongs on the last one)."""
    w = _check_w(words_per_beat)
    t, d = len(bags), len(dense)
    lengths = [len(b) for b in bags]
    n = sum(lengths)
    if t > 255 or d > 255 or n > M16:
        raise ValueError(f"packet: T={t}, D={d}, N={n} exceed 255, 255, {M16}")
    if any(not -32768 <= int(v) <= 32767 for v in dense):
        raise ValueError("dense: values outside int16")
    if any(not 0 <= int(i) <= M32 for b in bags for i in b):
        raise ValueError("bags: indices must fit uint32")
    head = [int(qid) & M32, n | (t << 16) | (d << 24)]
    head += [lengths[2 * m] | (lengths[2 * m + 1] << 16 if 2 * m + 1 < t else 0)
             for m in range((t + 1) // 2)]
    dd = [int(v) & M16 for v in dense]
    head += [dd[2 * m] | (dd[2 * m + 1] << 16 if 2 * m + 1 < d else 0)
             for m in range((d + 1) // 2)]
    return _beats(head, w) + _beats([int(i) for b in bags for i in b], w)


def pack_batch(bags: Bags, qids: Sequence[int], words_per_beat: int) -> list[tuple[int, int]]:
    """(beat, tlast) for every query of a batch, in order."""
    out = []
    for q, qid in enumerate(qids):
        blist, dense = bags.query(q)
        beats = pack_query(qid, blist, dense, words_per_beat)
        out += [(b, int(i == len(beats) - 1)) for i, b in enumerate(beats)]
    return out


@dataclass
class Packet:
    """One packet as the ingress sees it: its id, ERR_NONE or ERR_PACKET, the query."""
    qid: int
    err: int
    bags: list[list[int]] | None = None   # per table (ERR_NONE only)
    dense: list[int] | None = None
    beats: int = 0                        # beats consumed, tlast beat included


def _words(beat: int, w: int) -> list[int]:
    return [(beat >> (32 * k)) & M32 for k in range(w)]


def _sext16(v: int) -> int:
    return v - 0x10000 if v & 0x8000 else v


def parse_stream(cfg: ModelConfig, stream: Sequence[tuple[int, int]],
                 words_per_beat: int) -> list[Packet]:
    """Split (beat, tlast) pairs into packets with the checks of s.9.7 (rule 1).

    Header layout is taken from the committed T and D; a header whose T, D or
    N disagree, or a tlast anywhere but on beat HB + IB - 1, gives ERR_PACKET.
    A stream that ends without a final tlast leaves its tail unanswered
    (the RTL would still be waiting for it).
    """
    w = _check_w(words_per_beat)
    t_cfg, d_cfg = cfg.num_tables, cfg.dense
    hb = -(-header_words(t_cfg, d_cfg) // w)
    out, cur = [], []
    for beat, last in stream:
        cur.append(int(beat))
        if last:
            out.append(_parse_packet(cur, w, hb, t_cfg, d_cfg))
            cur = []
    return out


def _parse_packet(beats: list[int], w: int, hb: int, t_cfg: int, d_cfg: int) -> Packet:
    words = [x for b in beats for x in _words(b, w)]
    qid = words[0]
    if len(beats) < hb:
        return Packet(qid, ERR_PACKET, beats=len(beats))
    n, t, d = words[1] & M16, (words[1] >> 16) & 0xFF, words[1] >> 24
    lengths = [(words[2 + m // 2] >> (16 * (m % 2))) & M16 for m in range(t_cfg)]
    base = 2 + (t_cfg + 1) // 2
    dense = [_sext16((words[base + m // 2] >> (16 * (m % 2))) & M16) for m in range(d_cfg)]
    if t != t_cfg or d != d_cfg or n != sum(lengths) or len(beats) != hb + -(-n // w):
        return Packet(qid, ERR_PACKET, beats=len(beats))
    idx = words[hb * w: hb * w + n]
    bags, pos = [], 0
    for ln in lengths:
        bags.append(idx[pos:pos + ln])
        pos += ln
    return Packet(qid, ERR_NONE, bags, dense, beats=len(beats))


def packets_to_bags(packets: Sequence[Packet], cfg: ModelConfig) -> Bags:
    """The well-formed packets as a batch (for dlrm_infer)."""
    good = [p for p in packets if p.err == ERR_NONE]
    if not good:
        return Bags(np.zeros((0, cfg.num_tables), np.int64),
                    [np.zeros(0, np.int64)] * cfg.num_tables, np.zeros((0, cfg.dense), np.int64))
    return Bags.from_lists([p.bags for p in good], [p.dense for p in good])
