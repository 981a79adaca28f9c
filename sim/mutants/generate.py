"""Seeded mutants over every hand-written RTL line that is design.

Which lines are design: everything with code in a hand-written .sv under
rtl/ (not rtl/csr/generated/), except

- comments and blank lines; ``ifdef INJECT_BUGS`` (and older ``ifdef
  *_BUG_*``) branches (injected bugs: the other branch, or the code after
  the ``endif``, is the design) and simulation-only ``ifdef``/``ifndef
  SYNTHESIS`` regions; preprocessor directives;
- module headers (parameter defaults, which every bench overrides, and port
  lists); declarations (``logic``, ``typedef`` with enum values and struct
  fields, ``function`` headers, ports): a changed width is a lint error, not a
  behaviour;
- assertions (``assert``/``assume``/``cover`` statements to their ``;``),
  the ``sva_armed`` arming logic and the guards that only enable assertions;
- message tasks (``$error``, ``$fatal``, ``$display`` ...) and ``if`` blocks
  that only hold them (elaboration-time parameter checks);
- lint sinks (``assign unused_* = ^{...}``).

``localparam`` definitions are design (derived sizes, the contract's
constants) and are mutated.

Mutation operators, each applied at every place it fits:

- ``eq``: ``==`` <-> ``!=``;  ``rel``: ``<`` <-> ``<=``, ``>`` <-> ``>=``
  (comparisons only, never the non-blocking assignment);
- ``arith``: binary ``+`` <-> ``-``;  ``logical``: ``&&`` <-> ``||``;
- ``bitwise``: binary ``&`` <-> ``|``, ``^`` -> ``|``, reduction ``|x`` <-> ``&x``;
- ``const``: a number n -> n+1 and n-1 (within its width), ``1'b0`` <->
  ``1'b1``, ``'0`` <-> ``'1`` (not inside part-selects, not cast widths);
- ``cond``: ``if (c)`` -> ``if (!(c))``, ``if (1'b1)``, ``if (1'b0)``;
- ``stuck``: bit 0 of the value a one-line assignment stores stuck at 1 or 0:
  ``x <= e;`` -> ``x <= type(x)'((e) | type(x)'(1));`` (and ``& ~type(x)'(1)``),
  width-exact so the mutant is lint-clean; not for a whole unpacked array,
  and not at the value a constant right-hand side already has there (that
  mutant would be equivalent by construction).

A mutant is one changed line; its id ``<file>:<op>:<hash>`` hashes the old
and new line text (and which identical line of the file it is), so it stays
the same when unrelated lines move. :func:`sample` picks n of them with a
seeded RNG from the sorted list: the same seed and RTL give the same sample.
"""
from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

GENERATED_DIRS = ("csr/generated",)

# ---------------------------------------------------------------------------
# lexing
# ---------------------------------------------------------------------------


def mask_comments_and_strings(text: str) -> str:
    """``text`` with comment and string-literal characters blanked (newlines and
    columns kept), so code-only scanning never sees them."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append('"' + " " * max(0, j - i - 2) + ('"' if j - i >= 2 else ""))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


_OPERATORS = sorted("""<<< >>> <<= >>= === !== ==? !=? |-> |=> <-> -> => == != <= >= && || << >> ~& ~| ~^ ^~
++ -- += -= *= /= &= |= ^= +: -: :: ** < > + - & | ^ ~ ! = ? : * / % ( ) [ ] { } , ; @ # . '""".split(),
                    key=len, reverse=True)
_TOKEN_RE = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<based>(?:\d[\d_]*\s*)?'[sS]?[bBoOdDhH]\s*[0-9a-fA-FxXzZ?_]+)"
    r"|(?P<fill>'[01xXzZ](?![\w(]))"
    r"|(?P<number>\d[\d_]*(?:\.\d+)?)"
    r"|(?P<ident>[A-Za-z_][\w$]*|\$[A-Za-z_]\w*|`\w+)"
    r"|(?P<op>" + "|".join(re.escape(o) for o in _OPERATORS) + r")"
    r"|(?P<other>.)"
)

KEYWORDS = frozenset("""if else case casez casex endcase for foreach while do begin end assign always always_ff
always_comb always_latch posedge negedge or and not default unique unique0 priority return module endmodule
function endfunction task endtask generate endgenerate package endpackage import export automatic static
logic wire reg bit byte int integer shortint longint signed unsigned typedef enum struct packed union
parameter localparam genvar input output inout var const inside type initial final""".split())


@dataclass
class Tok:
    kind: str      # based | fill | number | ident | op | other
    text: str
    line: int      # 0-based
    col: int
    depth: int = 0             # () [] {} nesting before this token (file-wide)
    in_select: bool = False    # inside a [a:b] / [a+:b] part-select
    cast_width: bool = False   # the N of N'(...)
    match: int | None = None   # file-wide index of the matching bracket
    idx: int = 0               # this token's file-wide index


def tokenize(masked: str) -> list[Tok]:
    toks: list[Tok] = []
    line, line_start = 0, 0
    for m in _TOKEN_RE.finditer(masked):
        kind = m.lastgroup
        text = m.group()
        if kind == "ws":
            nl = text.count("\n")
            if nl:
                line += nl
                line_start = m.start() + text.rfind("\n") + 1
            continue
        toks.append(Tok(kind, text, line, m.start() - line_start))
    _annotate(toks)
    return toks


def _annotate(toks: list[Tok]) -> None:
    for n, t in enumerate(toks):
        t.idx = n
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[int] = []
    colon_in: dict[int, bool] = {}
    for i, t in enumerate(toks):
        t.depth = len(stack)
        if t.text in pairs:
            stack.append(i)
            colon_in[i] = False
        elif t.text in (")", "]", "}"):
            if stack and pairs[toks[stack[-1]].text] == t.text:
                j = stack.pop()
                toks[j].match, t.match = i, j
                t.depth = len(stack)
        elif t.text in (":", "+:", "-:") and stack and toks[stack[-1]].text == "[":
            colon_in[stack[-1]] = True
        if t.text == "'" and i > 0 and toks[i - 1].kind == "number":
            toks[i - 1].cast_width = True
    # mark tokens inside part-selects
    for j, has_colon in colon_in.items():
        if has_colon and toks[j].match is not None:
            for t in toks[j:toks[j].match + 1]:
                t.in_select = True


# ---------------------------------------------------------------------------
# which lines are design
# ---------------------------------------------------------------------------

_MSG_TASKS = re.compile(r"\$(error|fatal|warning|info|display|write|strobe|monitor|finish|stop)\b")
_ASSERT_KW = re.compile(r"\b(assert|assume|cover|restrict|expect)\b")
_DECL_START = re.compile(r"^\s*(logic|wire|reg|bit|byte|int|integer|shortint|longint|genvar|input|output|inout|"
                         r"parameter|typedef|import|function|task|var)\b")
_USER_TYPE_DECL = re.compile(r"^\s*(?!(?:" + "|".join(KEYWORDS) + r")\b)[A-Za-z_]\w*(?:::\w+)?\s+"
                             r"(?:\[[^\]]*\]\s*)*[A-Za-z_]\w*\s*(?:\[[^\]]*\]\s*)*[;,=]")
_UNUSED_SINK = re.compile(r"^\s*assign\s+unused\w*\s*=")
_BUG_MACRO = re.compile(r"_BUG_|^INJECT_BUGS$")


def _is_bug_macro(name: str) -> bool:
    return bool(_BUG_MACRO.search(name))


def excluded_lines(text: str) -> dict[int, str]:
    """0-based line -> why it is not design, for every line with no code or code
    that is not design. Lines absent from the result are design."""
    masked = mask_comments_and_strings(text)
    mlines = masked.split("\n")
    why: dict[int, str] = {}

    def mark(i: int, reason: str) -> None:
        why.setdefault(i, reason)

    # preprocessor regions
    stack: list[tuple[bool, bool]] = []   # (if-branch excluded, else-branch excluded)
    in_else: list[bool] = []
    for i, code in enumerate(mlines):
        s = code.strip()
        m = re.match(r"`(ifdef|ifndef|elsif|else|endif)\b\s*(\w*)", s)
        if m:
            kind, name = m.groups()
            if kind in ("ifdef", "ifndef"):
                bug = _is_bug_macro(name)
                simonly = name == "SYNTHESIS"
                if kind == "ifdef":
                    stack.append((bug, simonly))
                else:
                    stack.append((simonly, bug))
                in_else.append(False)
            elif kind in ("else", "elsif") and stack:
                in_else[-1] = True
            elif kind == "endif" and stack:
                stack.pop()
                in_else.pop()
            mark(i, "directive")
            continue
        if s.startswith("`"):
            mark(i, "directive")
            continue
        if any((e if el else f) for (f, e), el in zip(stack, in_else)):
            mark(i, "injected-bug or simulation-only ifdef")
        if not s:
            mark(i, "comment or blank")

    # statement spans: module headers, assertions, declarations, messages, lint sinks
    i = 0
    while i < len(mlines):
        code = mlines[i]
        s = code.strip()
        reason = None
        if re.match(r"^(module|interface|program)\b", s):
            reason = "module header"
        elif _ASSERT_KW.search(s):
            reason = "assertion"
        elif _DECL_START.match(code) or _USER_TYPE_DECL.match(code):
            reason = "declaration"
        elif _MSG_TASKS.search(s):
            reason = "message"
        elif _UNUSED_SINK.match(code):
            reason = "lint sink"
        elif "sva_armed" in s:
            reason = "assertion arming"
        if reason is None:
            i += 1
            continue
        # the statement ends at the first ';' outside brackets (from where it starts)
        depth = 0
        j = i
        done = False
        while j < len(mlines) and not done:
            # a package import inside a module header ends with its own ';'
            skip_semicolon = reason == "module header" and mlines[j].strip().startswith("import")
            for ch in mlines[j]:
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
                elif ch == ";" and depth <= 0 and not skip_semicolon:
                    done = True
                    break
            mark(j, reason)
            j += 1
        i = j

    # `if (...) begin` blocks whose body is only messages (elaboration-time checks)
    for i, code in enumerate(mlines):
        if i in why or not re.search(r"\bif\s*\(.*\)\s*begin\b", code):
            continue
        level, body, j = 0, [], i
        while j < len(mlines):
            level += len(re.findall(r"\bbegin\b", mlines[j])) - len(re.findall(r"\bend\b", mlines[j]))
            if j > i and level <= 0:
                break
            if j > i:
                body.append(j)
            j += 1
        coded = [b for b in body if why.get(b) != "comment or blank"]
        if coded and all(why.get(b) == "message" for b in coded):
            mark(i, "message guard")
    return why


# ---------------------------------------------------------------------------
# mutation operators
# ---------------------------------------------------------------------------

_OPERAND_END = ("ident", "number", "based", "fill")


def _is_operand_end(t: Tok | None) -> bool:
    if t is None:
        return False
    if t.kind == "ident":
        return t.text not in KEYWORDS
    return t.kind in _OPERAND_END or t.text in (")", "]", "}")


def _local(line_toks: list[Tok], t: Tok) -> int | None:
    """The index in ``line_toks`` of t's matching bracket (None: not on this line)."""
    if t.match is None:
        return None
    k = t.match - line_toks[0].idx
    return k if 0 <= k < len(line_toks) else None


def _skip_prefix(toks: list[Tok], i: int, end: int) -> int:
    """Index after a statement prefix (end/else/begin[:label]/if (...)/@(...)/
    case label/assign) starting at i, not past end."""
    while i < end:
        t = toks[i]
        nxt = toks[i + 1] if i + 1 < end else None
        if t.text in ("end", "else", "assign", "default", "unique", "priority", "always_ff", "always_comb",
                      "always_latch", "always"):
            i += 1
            if t.text == "default" and nxt is not None and nxt.text == ":":
                i += 1
        elif t.text == "begin":
            i += 1
            if nxt is not None and nxt.text == ":":
                i += 2
        elif t.text in ("if", "@", "for") and nxt is not None and nxt.text == "(" and _local(toks, nxt) is not None \
                and _local(toks, nxt) < end:
            i = _local(toks, nxt) + 1
        elif t.kind in ("ident", "number", "based") and t.text not in KEYWORDS and nxt is not None \
                and nxt.text == ":":
            i += 2      # case item label
        else:
            break
    return i


def _is_lvalue(toks: list[Tok], i: int, end: int) -> bool:
    if i >= end or toks[i].kind != "ident" or toks[i].text in KEYWORDS or toks[i].text.startswith("$"):
        return False
    i += 1
    while i < end:
        t = toks[i]
        if t.text == "." and i + 1 < end and toks[i + 1].kind == "ident":
            i += 2
        elif t.text == "[" and _local(toks, t) is not None and _local(toks, t) < end:
            i = _local(toks, t) + 1
        else:
            return False
    return True


def _assignment_at(line_toks: list[Tok], k: int) -> bool:
    """Is token k (a '<=' or '=') the assignment of a statement on this line?"""
    t = line_toks[k]
    if t.text not in ("<=", "="):
        return False
    base = line_toks[0].depth
    if t.depth != base or any(x.depth < base for x in line_toks[:k]):
        return False
    start = _skip_prefix(line_toks, 0, k)
    return start == k or _is_lvalue(line_toks, start, k)


def _is_comparison(line_toks: list[Tok], k: int) -> bool:
    """Is the '<=' at k surely a comparison? Inside brackets, or after the
    statement's own assignment; anything doubtful counts as an assignment
    (a missed mutant is better than a syntax error)."""
    base = line_toks[0].depth
    if line_toks[k].depth > base:
        return True
    if line_toks[0].text in ("assign", "return"):
        return True
    return any(x.depth == base and x.text in ("=", "<=") and _assignment_at(line_toks, j)
               for j, x in enumerate(line_toks[:k]))


@dataclass(frozen=True)
class Mutant:
    file: str          # path under rtl/
    line: int          # 1-based
    op: str
    detail: str
    old: str           # the original line
    new: str           # the mutated line
    occurrence: int = 0   # which of the file's identical lines (for the id)
    col: int = field(default=0, compare=False)

    @property
    def id(self) -> str:
        h = hashlib.sha1(f"{self.old.strip()}\0{self.new.strip()}\0{self.occurrence}".encode()).hexdigest()[:8]
        return f"{self.file}:{self.op}:{h}"

    def to_dict(self) -> dict:
        return {"id": self.id, "file": self.file, "line": self.line, "op": self.op, "detail": self.detail,
                "old": self.old.strip(), "new": self.new.strip()}


def _literal_variants(text: str) -> list[tuple[str, str]]:
    """(new literal, detail) for a based literal like 4'd1 / 32'hFFFF_FFFF / 1'b0."""
    m = re.fullmatch(r"(\d[\d_]*)?\s*'([sS]?)([bBoOdDhH])\s*([0-9a-fA-F_]+)", text)
    if not m:
        return []
    width_s, sign, base, digits = m.groups()
    radix = {"b": 2, "o": 8, "d": 10, "h": 16}[base.lower()]
    try:
        value = int(digits.replace("_", ""), radix)
    except ValueError:
        return []
    width = int(width_s.replace("_", "")) if width_s else 32
    prefix = f"{width_s or ''}'{sign}{base}"
    if width == 1:
        return [(f"{prefix}{1 - value}", f"{text} -> {prefix}{1 - value}")] if value in (0, 1) else []
    ndig = len(digits.replace("_", ""))

    def fmt(v: int) -> str:
        if radix == 10:
            return str(v)
        s = {2: format(v, "b"), 8: format(v, "o"), 16: format(v, "X")}[radix]
        return s.rjust(ndig, "0")

    out = []
    if value + 1 < (1 << width):
        out.append((prefix + fmt(value + 1), f"{text} -> {prefix}{fmt(value + 1)}"))
    if value > 0:
        out.append((prefix + fmt(value - 1), f"{text} -> {prefix}{fmt(value - 1)}"))
    return out


_UNPACKED_DECL = re.compile(r"\b([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)+)(?=[,;)=])")


def unpacked_arrays(masked_lines: list[str], why: dict[int, str]) -> dict[str, int]:
    """name -> number of unpacked dimensions, from the file's declarations
    (``logic [7:0] mem [DEPTH];``, ports, ``automatic`` variables)."""
    out: dict[str, int] = {}
    for i, code in enumerate(masked_lines):
        if why.get(i) in ("declaration", "module header") or code.strip().startswith("automatic"):
            for m in _UNPACKED_DECL.finditer(code):
                if m.group(1) not in KEYWORDS:
                    out[m.group(1)] = m.group(2).count("[")
    return out


_CONST_DEF = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*((?:\d[\d_]*)?'[sS]?[bBoOdDhH][0-9a-fA-F_]+|\d[\d_]*)\s*[,;}]")


def known_constants(texts: list[str]) -> dict[str, int]:
    """Values of enum items and localparams defined as plain literals (for the
    stuck-bit rule: sticking a bit at the value it already has changes nothing)."""
    out: dict[str, int] = {}
    for text in texts:
        for m in _CONST_DEF.finditer(mask_comments_and_strings(text)):
            v = _literal_value(m.group(2))
            if v is not None:
                out[m.group(1)] = v
    return out


def _literal_value(text: str) -> int | None:
    text = text.strip()
    if text in ("'0", "'1"):
        return 0 if text == "'0" else -1          # -1: all ones
    if re.fullmatch(r"\d[\d_]*", text):
        return int(text.replace("_", ""))
    m = re.fullmatch(r"(?:\d[\d_]*)?\s*'[sS]?([bBoOdDhH])\s*([0-9a-fA-F_]+)", text)
    if not m:
        return None
    try:
        return int(m.group(2).replace("_", ""), {"b": 2, "o": 8, "d": 10, "h": 16}[m.group(1).lower()])
    except ValueError:
        return None


def _line_mutations(line: str, ltoks: list[Tok], unpacked: dict[str, int] | None = None,
                    constants: dict[str, int] | None = None) -> list[tuple[int, str, str, str]]:
    """(col, op, detail, new line) for every mutation of one design line."""
    muts: list[tuple[int, str, str, str]] = []
    on_line = {t.idx: t for t in ltoks}

    def swap(t: Tok, new: str, op: str, detail: str | None = None) -> None:
        muts.append((t.col, op, detail or f"{t.text} -> {new}", line[:t.col] + new + line[t.col + len(t.text):]))

    for k, t in enumerate(ltoks):
        prev = ltoks[k - 1] if k > 0 else None
        nxt = ltoks[k + 1] if k + 1 < len(ltoks) else None
        if t.in_select:
            continue
        binary = _is_operand_end(prev)
        if t.text in ("==", "!="):
            swap(t, "!=" if t.text == "==" else "==", "eq")
        elif t.text in ("<", ">", ">="):
            swap(t, {"<": "<=", ">": ">=", ">=": ">"}[t.text], "rel")
        elif t.text == "<=" and _is_comparison(ltoks, k):
            swap(t, "<", "rel")
        elif t.text in ("+", "-") and binary:
            swap(t, "-" if t.text == "+" else "+", "arith")
        elif t.text in ("&&", "||"):
            swap(t, "||" if t.text == "&&" else "&&", "logical")
        elif t.text in ("&", "|") and nxt is not None and nxt.text != "=":
            kind = "binary" if binary else "reduction"
            swap(t, "|" if t.text == "&" else "&", "bitwise", f"{kind} {t.text} -> {'|' if t.text == '&' else '&'}")
        elif t.text == "^" and binary:
            swap(t, "|", "bitwise")
        elif t.kind == "based":
            for new, detail in _literal_variants(t.text):
                swap(t, new, "const", detail)
        elif t.kind == "fill" and t.text in ("'0", "'1"):
            swap(t, "'1" if t.text == "'0" else "'0", "const")
        elif t.kind == "number" and not t.cast_width and "." not in t.text:
            v = int(t.text.replace("_", ""))
            swap(t, str(v + 1), "const")
            if v > 0:
                swap(t, str(v - 1), "const")
        elif t.text == "if" and nxt is not None and nxt.text == "(" and nxt.match in on_line:
            a, b = nxt.col + 1, on_line[nxt.match].col
            cond = line[a:b].strip()
            for new_cond, detail in ((f"!({cond})", "if (c) -> if (!(c))"),
                                     ("1'b1", "if (c) -> if (1'b1)"), ("1'b0", "if (c) -> if (1'b0)")):
                muts.append((t.col, "cond", detail, line[:a] + new_cond + line[b:]))
    # stuck bit 0 of a one-line assignment
    for k, t in enumerate(ltoks):
        if t.text in ("<=", "=") and _assignment_at(ltoks, k) and ltoks[-1].text == ";" \
                and ltoks[-1].depth == t.depth and k + 1 < len(ltoks) - 1:
            start = _skip_prefix(ltoks, 0, k)
            if start == k:
                break
            # a whole unpacked array (or a slice of one) has no bit 0 to stick
            selects, j = 0, start + 1
            while j < k and ltoks[j].text == "[" and _local(ltoks, ltoks[j]) is not None:
                selects, j = selects + 1, _local(ltoks, ltoks[j]) + 1
            if (unpacked or {}).get(ltoks[start].text, 0) > selects:
                break
            lhs = line[ltoks[start].col:t.col].strip()
            rhs = line[ltoks[k + 1].col:ltoks[-1].col].strip()
            head = line[:ltoks[k + 1].col]
            tail = line[ltoks[-1].col:]
            # a constant right-hand side already has a bit 0: sticking it there changes nothing
            value = _literal_value(rhs)
            if value is None and re.fullmatch(r"[A-Za-z_]\w*", rhs):
                value = (constants or {}).get(rhs)
            for bit, expr in (("1", f"type({lhs})'(({rhs}) | type({lhs})'(1))"),
                              ("0", f"type({lhs})'(({rhs}) & ~type({lhs})'(1))")):
                if value is None or (value & 1) != int(bit):
                    muts.append((t.col, "stuck", f"{lhs} bit 0 stuck at {bit}", head + expr + tail))
            break
    return muts


def mutants_of_text(rel: str, text: str, constants: dict[str, int] | None = None) -> list[Mutant]:
    """Every mutant of one file's text (``rel``: its path under rtl/; ``constants``:
    named values visible to it, default its own)."""
    constants = known_constants([text]) if constants is None else constants
    masked = mask_comments_and_strings(text)
    toks = tokenize(masked)
    why = excluded_lines(text)
    unpacked = unpacked_arrays(masked.split("\n"), why)
    lines = text.split("\n")
    by_line: dict[int, list[Tok]] = {}
    for t in toks:
        by_line.setdefault(t.line, []).append(t)
    seen_text: dict[str, int] = {}
    occurrence = {}
    for i, ln in enumerate(lines):
        key = ln.strip()
        occurrence[i] = seen_text.get(key, 0)
        seen_text[key] = occurrence[i] + 1
    out: list[Mutant] = []
    for i, ltoks in sorted(by_line.items()):
        if i in why:
            continue
        seen_new = set()
        for col, op, detail, new in _line_mutations(lines[i], ltoks, unpacked, constants):
            if new == lines[i] or new in seen_new:
                continue
            seen_new.add(new)
            out.append(Mutant(rel, i + 1, op, detail, lines[i], new, occurrence[i], col))
    return out


def rtl_sources(rtl_dir: Path) -> list[Path]:
    """The hand-written RTL files (everything under rtl/ but generated code)."""
    return [p for p in sorted(rtl_dir.rglob("*.sv"))
            if not any(p.relative_to(rtl_dir).as_posix().startswith(g + "/") for g in GENERATED_DIRS)]


def all_mutants(rtl_dir: Path) -> list[Mutant]:
    out: list[Mutant] = []
    files = rtl_sources(rtl_dir)
    constants = known_constants([p.read_text() for p in files])
    for p in files:
        out += mutants_of_text(p.relative_to(rtl_dir).as_posix(), p.read_text(), constants)
    return sorted(out, key=lambda m: (m.file, m.line, m.col, m.op, m.new))


def sample(rtl_dir: Path, n: int, seed: int) -> list[Mutant]:
    """n mutants drawn without replacement by a Random(seed) from the sorted list;
    returned in file/line order."""
    pool = all_mutants(rtl_dir)
    picked = random.Random(seed).sample(range(len(pool)), min(n, len(pool)))
    return [pool[i] for i in sorted(picked)]


def apply(mutant: Mutant, rtl_dir: Path) -> str:
    """Write the mutant into the copy at rtl_dir; returns the original text (to restore)."""
    path = rtl_dir / mutant.file
    text = path.read_text()
    lines = text.split("\n")
    if lines[mutant.line - 1] != mutant.old:
        raise ValueError(f"stale mutant {mutant.id}: line {mutant.line} of {mutant.file} is no longer "
                         f"{mutant.old.strip()!r}")
    lines[mutant.line - 1] = mutant.new
    path.write_text("\n".join(lines))
    return text
