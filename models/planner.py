"""Cartesian-product planning: which logical tables to merge (MicroRec section 3.3).

A product A x B turns two lookups into one, so fewer tables are left in
DRAM and fewer DRAM rounds are needed (rounds = the most lookups any memory
channel serves per query, after placement over HBM + DDR channels). It
costs storage: A x B has rows_A * rows_B rows. Both planners here:
- cache the smallest physical tables on chip (`placement.auto_tiers`:
  at most `onchip_lookups_per_bank` per bank, so on-chip latency stays
  under one DRAM round);
- place the rest with `placement.place` (balanced lookups per channel) and
  report the resulting rounds;
- reject plans above a storage budget (percent over the no-product size).

`plan_heuristic` is MicroRec's rule: candidates are the n smallest tables,
pairs only, the smallest candidate paired with the largest, the next
smallest with the next largest, and so on; n is swept (even values) and the
plan with the fewest rounds, then the least storage, is kept.

`plan_search` is ours: for R = 0, 1, 2, ... rounds it computes the fewest
pairs m that can leave at most R * channels tables in DRAM (with every
on-chip slot used), finds the pairing of minimum storage with m pairs
(branch and bound, `_Matcher`: exact unless its node budget runs out,
`Plan.exact` says which), also tries a few more pairs, places each
candidate and keeps the cheapest that reaches R; the first R that works
wins. So it minimises rounds first, then storage, then lookups. The
matching knows the two things placement can veto: products larger than an
HBM channel need one of the DDR lookup slots, and enough physical tables
must fit on chip (bank capacity). It agrees with brute force over
every pairing on random small models (tests); bin packing of channels and
banks is left to the placer, so capacity-bound corners are near-exact.

Storage is counted as rows * stride bytes per table (4 KiB base alignment
excluded), the same measure as `ModelConfig.total_bytes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from .cartesian import ProductTable, apply_products
from .config import MAX_DIM, MAX_ROWS, MAX_STRIDE, ModelConfig, stride_for_dim
from .placement import Placement, PlacementError, Platform, align_up, place

DEFAULT_STORAGE_BUDGET_PCT = 5.0  # MicroRec Table 3: +3.2% (small), +1.9% (large)
DEFAULT_NODE_BUDGET = 20_000        # per branch and bound
DEFAULT_TOTAL_NODE_BUDGET = 100_000  # per plan_search call


@dataclass
class Plan:
    """A Cartesian plan, placed: the numbers MicroRec Table 3 reports and more."""
    method: str
    cfg: ModelConfig
    pairs: list[tuple[int, int]]
    placement: Placement
    exact: bool = True   # proven optimal (plan_search; False for the heuristic)

    @property
    def physical(self):
        return self.placement.plan

    @property
    def num_logical(self) -> int:
        return self.cfg.num_tables

    @property
    def num_physical(self) -> int:
        return self.placement.num_physical

    @property
    def lookups_per_query(self) -> int:
        """One lookup per physical table."""
        return self.num_physical

    @property
    def dram_lookups(self) -> int:
        return self.placement.dram_tables

    @property
    def onchip_tables(self) -> int:
        return self.placement.onchip_tables

    @property
    def dram_rounds(self) -> int:
        return self.placement.dram_rounds

    @property
    def storage_bytes(self) -> int:
        pl = self.physical
        return sum(pl.rows(p) * pl.stride(p) for p in range(pl.num_physical))

    @property
    def base_storage_bytes(self) -> int:
        return self.cfg.total_bytes

    @property
    def storage_pct(self) -> float:
        """Storage relative to no products, percent (MicroRec Table 3's 103.2%)."""
        return 100.0 * self.storage_bytes / self.base_storage_bytes

    @property
    def storage_overhead_pct(self) -> float:
        return self.storage_pct - 100.0

    @property
    def onchip_bytes(self) -> int:
        return self.placement.onchip_bytes

    @property
    def pair_names(self) -> list[tuple[str, str]]:
        return [(self.cfg.tables[a].name, self.cfg.tables[b].name) for a, b in self.pairs]

    def summary(self) -> dict:
        return {"method": self.method, "tables": f"{self.num_logical} -> {self.num_physical}",
                "pairs": len(self.pairs), "lookups_per_query": self.lookups_per_query,
                "dram_tables": self.dram_lookups, "onchip_tables": self.onchip_tables,
                "dram_rounds": self.dram_rounds,
                "storage_overhead_pct": round(self.storage_overhead_pct, 4),
                "onchip_bytes": self.onchip_bytes, "exact": self.exact}


# ---- shared pieces ---------------------------------------------------------

def _bytes(cfg: ModelConfig, t: int) -> int:
    return cfg.tables[t].table_bytes


def product_cost(cfg: ModelConfig, a: int, b: int) -> int:
    """Extra bytes of A x B over A and B: rows_a*rows_b*stride(dim_a+dim_b) - bytes_a - bytes_b."""
    ta, tb = cfg.tables[a], cfg.tables[b]
    return ta.rows * tb.rows * stride_for_dim(ta.dim + tb.dim) - ta.table_bytes - tb.table_bytes


def pair_ok(cfg: ModelConfig, a: int, b: int, platform: Platform) -> bool:
    """A x B is a legal table (two one-hot tables) that fits at least one memory channel."""
    ta, tb = cfg.tables[a], cfg.tables[b]
    if not (ta.one_hot and tb.one_hot):   # multi-hot tables never merge (contracts s.9.1)
        return False
    rows, dim = ta.rows * tb.rows, ta.dim + tb.dim
    if a == b or rows > MAX_ROWS or dim > MAX_DIM or stride_for_dim(dim) > MAX_STRIDE:
        return False
    cap = max(platform.hbm_channel_bytes if platform.hbm_channels else 0,
              platform.ddr_channel_bytes if platform.ddr_channels else 0)
    return rows * stride_for_dim(dim) <= cap


def evaluate(cfg: ModelConfig, pairs: Sequence[Sequence[int]], platform: Platform | None = None,
             method: str = "given", exact: bool = True) -> Plan:
    """Place `cfg` with `pairs` merged (automatic tiers and channels) and report it."""
    platform = platform or Platform()
    phys = apply_products(cfg, [tuple(p) for p in pairs])
    norm = [(e.a, e.b) for e in phys.tables if isinstance(e, ProductTable)]
    pl = place(cfg, phys, platform, respect_tiers=False, respect_channels=False)
    return Plan(method, cfg, norm, pl, exact)


def plan_none(cfg: ModelConfig, platform: Platform | None = None) -> Plan:
    """No products: the baseline the others are compared with."""
    return evaluate(cfg, [], platform, method="none")


def _budget_bytes(cfg: ModelConfig, pct: float | None) -> float:
    return float("inf") if pct is None else cfg.total_bytes * pct / 100.0


# ---- MicroRec's heuristic --------------------------------------------------

def heuristic_pairs(cfg: ModelConfig, n: int) -> list[tuple[int, int]]:
    """The n smallest tables (by bytes), smallest paired with largest."""
    order = sorted(range(cfg.num_tables), key=lambda t: (_bytes(cfg, t), t))[:n - n % 2]
    k = len(order) // 2
    return [(min(a, b), max(a, b)) for a, b in zip(order[:k], reversed(order[k:]))]


def plan_heuristic(cfg: ModelConfig, platform: Platform | None = None, *, n: int | None = None,
                   storage_budget_pct: float | None = DEFAULT_STORAGE_BUDGET_PCT) -> Plan:
    """MicroRec's rule, n candidates (default: every even n, best plan kept)."""
    platform = platform or Platform()
    budget = _budget_bytes(cfg, storage_budget_pct)
    ns = [n] if n is not None else range(0, cfg.num_tables + 1, 2)
    best, best_key, first_err = None, None, None
    for k in ns:
        pairs = heuristic_pairs(cfg, k)
        if not all(pair_ok(cfg, a, b, platform) for a, b in pairs):
            continue
        if sum(product_cost(cfg, a, b) for a, b in pairs) > budget:
            continue
        try:
            plan = evaluate(cfg, pairs, platform, method="heuristic", exact=False)
        except PlacementError as e:
            first_err = first_err or e
            continue
        key = (plan.dram_rounds, plan.storage_bytes, plan.lookups_per_query)
        if best_key is None or key < best_key:
            best, best_key = plan, key
    if best is None:
        if first_err is not None:
            raise first_err
        raise PlacementError(f"{cfg.name}: no heuristic plan within the storage budget")
    return best


# ---- our search ------------------------------------------------------------

def max_matching(n: int, adj: Sequence[Sequence[int]]) -> int:
    """Size of a maximum matching of a general graph (Edmonds' blossom algorithm)."""
    match = [-1] * n
    for root in range(n):
        if match[root] != -1 or not adj[root]:
            continue
        used = [False] * n
        parent = [-1] * n
        base = list(range(n))
        used[root] = True
        queue, head, found = [root], 0, -1

        def lca(a: int, b: int) -> int:
            seen = [False] * n
            while True:
                a = base[a]
                seen[a] = True
                if match[a] == -1:
                    break
                a = parent[match[a]]
            while True:
                b = base[b]
                if seen[b]:
                    return b
                b = parent[match[b]]

        def mark(v: int, b: int, child: int, blossom: list) -> None:
            while base[v] != b:
                blossom[base[v]] = blossom[base[match[v]]] = True
                parent[v] = child
                child = match[v]
                v = parent[match[v]]

        while head < len(queue) and found == -1:
            v = queue[head]
            head += 1
            for to in adj[v]:
                if base[v] == base[to] or match[v] == to:
                    continue
                if to == root or (match[to] != -1 and parent[match[to]] != -1):
                    cb = lca(v, to)
                    blossom = [False] * n
                    mark(v, cb, to, blossom)
                    mark(to, cb, v, blossom)
                    for i in range(n):
                        if blossom[base[i]]:
                            base[i] = cb
                            if not used[i]:
                                used[i] = True
                                queue.append(i)
                elif parent[to] == -1:
                    parent[to] = v
                    if match[to] == -1:
                        found = to
                        break
                    used[match[to]] = True
                    queue.append(match[to])
        v = found
        while v != -1:
            pv = parent[v]
            ppv = match[pv]
            match[v], match[pv] = pv, v
            v = ppv
    return sum(1 for x in match if x != -1) // 2


class _Matcher:
    """Minimum-storage choice of exactly m disjoint pairs (branch and bound).

    Exactness rests on two facts about the storage cost
    c(a, b) = ra*rb*S - ra*sa - rb*sb  (S = stride of the product row,
    sa, sb the strides of A and B, so S >= max(sa, sb)):
    - dominance: of two tables with the same dim, the one with fewer rows is
      never worse to pair (c(y, z) - c(x, z) = (ry - rx)(rz*S - sx) <= 0),
      so the paired tables of each dim form a prefix in rows order;
    - bound: c(a, b) >= S*((ra-1)(rb-1) - 1) >= v_a*v_b - S_max with
      v = (rows - 1) * 2 * sqrt(dim) (S >= 2(da+db) >= 4 sqrt(da*db)), and
      the least sum of v_a*v_b over k pairs of non-negative numbers pairs
      the 2k smallest outside-in.
    Products larger than an HBM channel can only live on DDR; `max_big`
    caps how many of them a solution may use (the DDR lookup slots left).
    The size of the largest feasible pairing (maximum matchings, Edmonds)
    rules out impossible pair counts before any search. When the cheapest
    pairing leaves too few tables that fit on chip, `solve` reserves the
    largest fitting tables of each dim (again by dominance) and searches the
    rest, or, if products could fit on chip, searches with the on-chip count
    checked at the leaves.
    """

    def __init__(self, cfg: ModelConfig, platform: Platform, node_budget: int,
                 total_budget: int | None = None):
        self.cfg = cfg
        n = cfg.num_tables
        self.order = sorted(range(n), key=lambda t: (cfg.tables[t].rows, cfg.tables[t].dim, t))
        self.pos = {t: i for i, t in enumerate(self.order)}
        self.cls_dim = {t: cfg.tables[t].dim for t in range(n)}
        self.cls_shape = {t: (cfg.tables[t].rows, cfg.tables[t].dim) for t in range(n)}
        self.cls = self.cls_dim
        self.shape = {t: (cfg.tables[t].rows, cfg.tables[t].dim) for t in range(n)}
        self.v = {t: (cfg.tables[t].rows - 1) * 2 * math.sqrt(cfg.tables[t].dim) for t in range(n)}
        hbm_cap = platform.hbm_channel_bytes if platform.hbm_channels else 0
        self.partners: dict[int, list[tuple[int, int, bool]]] = {t: [] for t in range(n)}
        self.smax = 0
        for i, a in enumerate(self.order):
            for b in self.order[i + 1:]:
                if pair_ok(cfg, a, b, platform):
                    c = product_cost(cfg, a, b)
                    dim = cfg.tables[a].dim + cfg.tables[b].dim
                    big = cfg.tables[a].rows * cfg.tables[b].rows * stride_for_dim(dim) > hbm_cap
                    self.partners[a].append((c, b, big))
                    self.smax = max(self.smax, stride_for_dim(dim))
        for a in self.partners:
            self.partners[a].sort(key=lambda e: (e[0], self.pos[e[1]]))
        self.edge = {(min(a, b), max(a, b)): big for a in self.partners
                     for _, b, big in self.partners[a]}
        # Vertex covers for a matching-size bound: every legal pair (every
        # legal non-big pair) has a table among the first k_all (k_small)
        # tables in rows order, since products of two larger ones are too big.
        self.k_all = self._cover(lambda big: True)
        self.k_small = self._cover(lambda big: not big)
        self.node_budget = node_budget
        self.total_left = float("inf") if total_budget is None else total_budget
        self._mm_cache: dict = {}
        # which tables / products could be cached on chip (fit a bank)
        word, bank = platform.onchip_word_bytes, platform.bank_bytes

        def fits(rows: int, stride: int) -> bool:
            return align_up(rows * stride, max(stride, word)) <= bank

        self.slots = platform.onchip_slots
        self.fits = {t: fits(cfg.tables[t].rows, cfg.tables[t].stride) for t in range(n)}
        self.pair_fits = {}
        for a, lst in self.partners.items():
            for _, b, _ in lst:
                ta, tb = cfg.tables[a], cfg.tables[b]
                self.pair_fits[(min(a, b), max(a, b))] = \
                    fits(ta.rows * tb.rows, stride_for_dim(ta.dim + tb.dim))
        last = -1
        for a, lst in self.partners.items():
            for _, b, _ in lst:
                if not self.fits[a] and not self.fits[b]:
                    last = max(last, min(self.pos[a], self.pos[b]))
        self.k_nf = last + 1   # cover of the pairs between tables that do not fit

    def _cover(self, use) -> int:
        last = -1
        for a, lst in self.partners.items():
            for _, b, big in lst:
                if use(big):
                    last = max(last, min(self.pos[a], self.pos[b]))
        return last + 1

    def _most_pairs(self) -> float:
        """Most disjoint legal pairs among the unreserved tables (exact maximum
        matchings: all pairs, and pairs that fit HBM plus the DDR slots)."""
        key = frozenset(self.reserved)
        if key not in self._mm_cache:
            ids = [t for t in self.order if t not in self.reserved]
            idx = {t: i for i, t in enumerate(ids)}
            adj_all = [[] for _ in ids]
            adj_small = [[] for _ in ids]
            for a in ids:
                for _, b, big in self.partners[a]:
                    if b in idx:
                        adj_all[idx[a]].append(idx[b])
                        adj_all[idx[b]].append(idx[a])
                        if not big:
                            adj_small[idx[a]].append(idx[b])
                            adj_small[idx[b]].append(idx[a])
            self._mm_cache[key] = (max_matching(len(ids), adj_all),
                                   max_matching(len(ids), adj_small))
        most, most_small = self._mm_cache[key]
        return min(most, most_small + self.max_big)

    def onchip_count(self, pairs) -> int:
        """Physical tables that could go on chip (capped at the slots)."""
        used = {t for p in pairs for t in p}
        n = sum(self.fits[t] for t in self.fits if t not in used)
        n += sum(self.pair_fits[(min(a, b), max(a, b))] for a, b in pairs)
        return min(n, self.slots)

    def solve(self, m: int, max_big: int | None = None,
              incumbents: Sequence[Sequence[tuple[int, int]]] = (), onchip_need: int = 0):
        """(cost, pairs, exact) for exactly m pairs, or None when none was found.

        With `onchip_need`, the physical tables must include that many that
        fit on chip. `exact` is False when the node budget ran out (the result
        is then the best found, and None may hide a solution).
        """
        self.max_big = float("inf") if max_big is None else max_big
        self.onchip_need = 0
        self.cls = self.cls_dim
        self.reserved: set[int] = set()
        res = self._solve(m, incumbents)
        if res is None or onchip_need <= 0 or self.onchip_count(res[1]) >= onchip_need:
            return res
        if sum(self.fits.values()) < onchip_need:
            return None
        handled, res = self._solve_reserving(m, incumbents, onchip_need)
        if handled and not any(self.pair_fits.values()):
            return res
        # Products may fit on chip (or too many ways to reserve): search with
        # the on-chip count checked at the leaves, from the reserving result.
        # The dominance rule no longer holds (pairing a smaller table leaves
        # a larger one unpaired), so the prefix rule applies to identical
        # shapes only (pure symmetry).
        self.onchip_need = onchip_need
        self.cls = self.cls_shape
        self.reserved = set()
        return self._solve(m, list(incumbents) + ([res[1]] if res else []))

    def _solve_reserving(self, m, incumbents, need, max_splits: int = 2000):
        """The on-chip constraint, exactly when no product fits on chip (else
        a good feasible pairing): keep `need` fitting tables unpaired. Within
        a dim class, keeping the largest fitting tables is never worse
        (dominance), so only how many per class is enumerated; each split is
        an unconstrained search of the rest.
        Returns (False, None) when there are more than `max_splits` splits,
        else (True, result or None)."""
        by_cls: dict[int, list[int]] = {}
        for t in sorted(self.fits, key=lambda t: -self.pos[t]):
            if self.fits[t]:
                by_cls.setdefault(self.cls_dim[t], []).append(t)
        lists = list(by_cls.values())
        splits: list[list[int]] = []

        def gen(k, left, acc):
            if len(splits) > max_splits:
                return
            if k == len(lists):
                if left == 0:
                    splits.append(list(acc))
                return
            rest = sum(len(x) for x in lists[k + 1:])
            for r in range(max(0, left - rest), min(left, len(lists[k])) + 1):
                acc.append(r)
                gen(k + 1, left - r, acc)
                acc.pop()

        gen(0, need, [])
        if len(splits) > max_splits:
            return False, None
        best, exact = None, True
        for split in splits:
            self.reserved = {t for lst, r in zip(lists, split) for t in lst[:r]}
            inc = [i for i in incumbents if not {t for p in i for t in p} & self.reserved]
            res = self._solve(m, inc)
            exact = exact and not self.exhausted
            if res is not None and (best is None or res[0] < best[0]):
                best = res
        self.reserved = set()
        self.exhausted = not exact
        return True, None if best is None else (best[0], best[1], exact)

    def _solve(self, m, incumbents):
        self.best_cost, self.best_pairs = float("inf"), None
        edge = self.edge
        for inc in incumbents:
            inc = [(min(a, b), max(a, b)) for a, b in inc]
            if len(inc) == m and len({t for p in inc for t in p}) == 2 * m \
                    and all(p in edge for p in inc) \
                    and sum(edge[p] for p in inc) <= self.max_big \
                    and self.onchip_count(inc) >= self.onchip_need:
                c = sum(product_cost(self.cfg, a, b) for a, b in inc)
                if c < self.best_cost:
                    self.best_cost, self.best_pairs = c, inc
        self.nodes = 0
        self.exhausted = False
        if m == 0:
            return (0, [], True) if self.onchip_count([]) >= self.onchip_need else None
        if m > self._most_pairs():
            return None
        self.paired: set[int] = set()
        self.closed: set[int] = set()
        self.chosen: list[tuple[int, int]] = []
        self._rec(0, m, 0, 0, self.chosen)
        if self.best_pairs is None:
            return None
        return self.best_cost, sorted(self.best_pairs), not self.exhausted

    def _bound(self, i: int, need: int, big: int) -> float:
        vs = []
        p_all = p_small = p_nf = n_nf = 0
        for j in range(i, len(self.order)):
            t = self.order[j]
            if t not in self.paired and t not in self.reserved and self.cls[t] not in self.closed:
                vs.append(self.v[t])
                p_all += j < self.k_all
                p_small += j < self.k_small
                if not self.fits[t]:
                    n_nf += 1
                    p_nf += j < self.k_nf
        n = len(vs)
        # matching size <= (k + min(k, n - k)) / 2 for a vertex cover of k tables
        most = (p_all + min(p_all, n - p_all)) // 2
        most_small = (p_small + min(p_small, n - p_small)) // 2
        if need > min(most, most_small + max(0, self.max_big - big)):
            return float("inf")
        if self.onchip_need:
            # every future pair that is not between two tables too big for the
            # chip loses at least one table that fits (products are larger)
            nf_pairs = (p_nf + min(p_nf, n_nf - p_nf)) // 2
            fits_now = sum(self.fits[t] for t in self.fits if t not in self.paired) + \
                sum(self.pair_fits[p] for p in self.chosen)
            if min(fits_now - max(0, need - nf_pairs), self.slots) < self.onchip_need:
                return float("inf")
        vs.sort()
        lb = sum(vs[j] * vs[2 * need - 1 - j] for j in range(need)) - need * self.smax
        return lb * (1 - 1e-12) - 1  # float safety: never prune an equal-cost branch

    def _rec(self, i: int, need: int, cost: int, big: int, chosen: list) -> None:
        if need == 0:
            if cost < self.best_cost and (not self.onchip_need or
                                          self.onchip_count(chosen) >= self.onchip_need):
                self.best_cost, self.best_pairs = cost, list(chosen)
            return
        self.nodes += 1
        self.total_left -= 1
        if self.nodes > self.node_budget or self.total_left < 0:
            self.exhausted = True
            return
        order = self.order
        while i < len(order) and (order[i] in self.paired or order[i] in self.reserved
                                  or self.cls[order[i]] in self.closed):
            i += 1
        if i >= len(order):
            return
        if cost + self._bound(i, need, big) >= self.best_cost:
            return
        x = order[i]
        # (a) pair x with a later table y (one representative per identical shape)
        seen_shapes = set()
        self.paired.add(x)
        for c, y, is_big in self.partners[x]:
            if cost + c >= self.best_cost:
                break  # partners are sorted by cost
            if y in self.paired or y in self.reserved or self.cls[y] in self.closed \
                    or self.shape[y] in seen_shapes:
                continue
            if is_big and big >= self.max_big:
                continue
            seen_shapes.add(self.shape[y])
            self.paired.add(y)
            chosen.append((min(x, y), max(x, y)))
            self._rec(i + 1, need - 1, cost + c, big + is_big, chosen)
            chosen.pop()
            self.paired.discard(y)
            if self.exhausted:
                break
        self.paired.discard(x)
        if self.exhausted:
            return
        # (b) leave x unpaired: its class is then closed (prefix rule), which
        # is only consistent if no larger table of the class is paired already
        k = self.cls[x]
        if any(self.cls[t] == k for t in self.paired if self.pos[t] > i):
            return
        self.closed.add(k)
        self._rec(i + 1, need, cost, big, chosen)
        self.closed.discard(k)


def plan_search(cfg: ModelConfig, platform: Platform | None = None, *,
                storage_budget_pct: float | None = DEFAULT_STORAGE_BUDGET_PCT,
                node_budget: int = DEFAULT_NODE_BUDGET,
                total_node_budget: int = DEFAULT_TOTAL_NODE_BUDGET,
                max_extra_pairs: int = 3) -> Plan:
    """Fewest DRAM rounds, then least storage, then fewest lookups.

    `node_budget` bounds one branch and bound, `total_node_budget` all of
    them; when either runs out the plan is the best found (`exact=False`).
    Never worse than `plan_heuristic` with the same budget: if the search
    cannot beat it (capacity corners), the heuristic's plan is returned,
    marked inexact.
    """
    platform = platform or Platform()
    budget = _budget_bytes(cfg, storage_budget_pct)
    n, slots, nch = cfg.num_tables, platform.onchip_slots, platform.num_channels
    try:
        fallback = plan_heuristic(cfg, platform, storage_budget_pct=storage_budget_pct)
    except PlacementError:
        fallback = None
    matcher = _Matcher(cfg, platform, node_budget, total_node_budget)
    hbm_cap = platform.hbm_channel_bytes if platform.hbm_channels else 0
    ddr_only = sum(t.table_bytes > hbm_cap for t in cfg.tables)
    last_err, all_exact = None, True
    for rounds in range(0, n + 1):
        if nch == 0 and rounds > 0:
            break
        if fallback is not None and rounds > fallback.dram_rounds:
            break
        m0 = max(0, n - slots - rounds * nch)
        if m0 > n // 2:
            continue
        # DDR lookup slots left for products too large for an HBM channel
        max_big = max(0, rounds * platform.ddr_channels - ddr_only)
        best, best_key = None, None
        for m in range(m0, min(n // 2, m0 + max_extra_pairs) + 1):
            need_on = max(0, n - m - rounds * nch)   # tables that must go on chip
            incumbents = [heuristic_pairs(cfg, 2 * m), _rows_pairs(cfg, 2 * m)]
            res = matcher.solve(m, max_big, incumbents, need_on)
            all_exact = all_exact and not matcher.exhausted
            if res is None:
                continue
            cost, pairs, exact = res
            if cost > budget:
                break  # more pairs cost more
            pairs = _add_free_pairs(cfg, pairs, platform)
            try:
                p = evaluate(cfg, pairs, platform, method="search", exact=exact and all_exact)
            except PlacementError as e:
                last_err = e
                continue
            key = (p.storage_bytes, p.lookups_per_query)
            if p.dram_rounds <= rounds and (best_key is None or key < best_key):
                best, best_key = p, key
        if best is not None:
            if fallback is not None and (fallback.dram_rounds, fallback.storage_bytes,
                                         fallback.lookups_per_query) < \
                    (best.dram_rounds, best.storage_bytes, best.lookups_per_query):
                break
            return best
    if fallback is not None:
        return Plan("search", cfg, fallback.pairs, fallback.placement, exact=False)
    if last_err is not None:
        raise last_err
    raise PlacementError(f"{cfg.name}: no plan places within the storage budget")


def _rows_pairs(cfg: ModelConfig, k: int) -> list[tuple[int, int]]:
    order = sorted(range(cfg.num_tables), key=lambda t: (cfg.tables[t].rows, t))[:k]
    h = len(order) // 2
    return [(min(a, b), max(a, b)) for a, b in zip(order[:h], reversed(order[h:]))]


def _add_free_pairs(cfg: ModelConfig, pairs, platform) -> list[tuple[int, int]]:
    """Add disjoint pairs that cost no storage (possible only with 1-row tables)."""
    used = {t for p in pairs for t in p}
    out = list(pairs)
    free = [(product_cost(cfg, a, b), a, b) for a in range(cfg.num_tables)
            for b in range(a + 1, cfg.num_tables)
            if a not in used and b not in used
            and (cfg.tables[a].rows == 1 or cfg.tables[b].rows == 1)
            and pair_ok(cfg, a, b, platform) and product_cost(cfg, a, b) <= 0]
    for _, a, b in sorted(free):
        if a not in used and b not in used:
            out.append((a, b))
            used |= {a, b}
    return sorted(out)


def plan(cfg: ModelConfig, method: str = "search", platform: Platform | None = None,
         **kw) -> Plan:
    """`method`: "search", "heuristic" or "none"."""
    if method == "search":
        return plan_search(cfg, platform, **kw)
    if method == "heuristic":
        return plan_heuristic(cfg, platform, **kw)
    if method == "none":
        return plan_none(cfg, platform)
    raise ValueError(f"method: must be 'search', 'heuristic' or 'none', got {method!r}")


def compare(cfg: ModelConfig, platform: Platform | None = None, **kw) -> dict[str, Plan]:
    """No products, MicroRec's heuristic and our search on the same platform."""
    return {"none": plan_none(cfg, platform), "heuristic": plan_heuristic(cfg, platform, **kw),
            "search": plan_search(cfg, platform, **kw)}
