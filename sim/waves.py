"""`make waves`, after the rerun: where the FST is and how to open it.

GTKWave reads FST directly and takes a save file with the interesting
signals of each harness (tb/hdl/waves/<toplevel>.gtkw); Surfer reads FST too.
"""
from __future__ import annotations

import sys
from pathlib import Path

from .toolchain import BUILD_ROOT, ROOT, TB_DIR

SAVE_DIR = TB_DIR / "hdl" / "waves"


def newest_dump(root: Path = BUILD_ROOT / "tests") -> Path | None:
    dumps = sorted(root.glob("*/dump.fst"), key=lambda p: p.stat().st_mtime, reverse=True)
    return dumps[0] if dumps else None


def hint(dump: Path) -> str:
    top_file = dump.parent / "toplevel.txt"
    top = top_file.read_text().strip() if top_file.exists() else None
    save = SAVE_DIR / f"{top}.gtkw" if top else None
    rel = lambda p: p.relative_to(ROOT) if p.is_relative_to(ROOT) else p  # noqa: E731
    lines = [f"waves: {rel(dump)} ({dump.stat().st_size / 1e6:.1f} MB, toplevel {top or 'unknown'})",
             f"  GTKWave: gtkwave {rel(dump)}" + (f" {rel(save)}" if save and save.exists() else ""),
             f"  Surfer:  surfer {rel(dump)}"]
    if save and save.exists():
        lines.append(f"  the save file {rel(save)} opens the harness's streams, handshakes and status")
    return "\n".join(lines)


def main() -> int:
    dump = newest_dump()
    if dump is None:
        print("waves: no build/tests/*/dump.fst (did the test run with --waves?)", file=sys.stderr)
        return 1
    print(hint(dump))
    return 0


if __name__ == "__main__":
    sys.exit(main())
