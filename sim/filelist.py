"""Verilator-style file lists (``*.f``), as fpganinja/taxi keeps them.

A line is a source file, ``-f other.f`` (another list), ``+incdir+dir`` or a
``//``/``#`` comment; relative paths are relative to the list's own folder,
so a list inside rtl/ still resolves when `make mutate` copies rtl/ elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileList:
    sources: list[Path] = field(default_factory=list)
    includes: list[Path] = field(default_factory=list)

    def __add__(self, other: "FileList") -> "FileList":
        return FileList(_unique(self.sources + other.sources), _unique(self.includes + other.includes))


def _unique(paths):
    return list(dict.fromkeys(paths))


def read_filelist(path: Path, _seen: tuple = ()) -> FileList:
    """Sources (in order, each once) and include dirs of ``path`` and the lists it names."""
    path = Path(path).resolve()
    if path in _seen:
        raise ValueError(f"file list {path} includes itself (via {' -> '.join(map(str, _seen))})")
    if not path.exists():
        raise FileNotFoundError(f"file list {path} does not exist")
    out = FileList()
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("//", 1)[0].split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-f "):
            out = out + read_filelist(path.parent / line[3:].strip(), _seen + (path,))
        elif line.startswith("+incdir+"):
            out.includes = _unique(out.includes + [(path.parent / line[len("+incdir+"):]).resolve()])
        elif line.startswith(("-", "+")):
            raise ValueError(f"{path}:{n}: unsupported option {line!r} (only -f and +incdir+)")
        else:
            src = (path.parent / line).resolve()
            if not src.exists():
                raise FileNotFoundError(f"{path}:{n}: {line} does not exist")
            out.sources = _unique(out.sources + [src])
    return out
