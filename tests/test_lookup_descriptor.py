"""The Python descriptor packer and the SV struct must describe the same bits."""
import re

import pytest

from sim.toolchain import RTL_DIR
from tb.lookup.descriptor import DESC_FIELDS, DESC_W, pack_desc, unpack_desc


def sv_struct_fields():
    text = (RTL_DIR / "lookup" / "lookup_pkg.sv").read_text()
    body = re.search(r"typedef struct packed \{(.*?)\} desc_t;", text, re.S).group(1)
    fields = []
    for m in re.finditer(r"logic\s*(?:\[(\d+):0\])?\s*(\w+);", body):
        fields.append((m.group(2), int(m.group(1)) + 1 if m.group(1) else 1))
    return fields


def test_fields_match_sv_struct():
    assert sv_struct_fields() == DESC_FIELDS
    assert DESC_W == 185


def test_round_trip():
    d = {"valid": 1, "onchip": 0, "channel": 31, "base": 0xFF_FFFF_F000, "stride_log2": 5,
         "rows": 2**32 - 1, "dim": 256, "is_product": 1, "lt_a": 3, "lt_b": 200,
         "rows_b": 1000, "dim_a": 8, "feat_off_a": 65535, "feat_off_b": 0}
    assert unpack_desc(pack_desc(d)) == d


def test_field_overflow_names_the_field():
    with pytest.raises(ValueError, match="descriptor.dim"):
        pack_desc({"dim": 512})
