"""BenchDef's injected-bug switch: bug defines become plusargs on one shared build."""
import pytest

from tb.common.bench_def import bug_switches, defines_tag


def test_bug_defines_become_plusargs_on_the_shared_build():
    defines, plus = bug_switches({"LOOKUP_BUG_ADDR": 1, "SOME_OPTION": 3})
    assert defines == {"SOME_OPTION": 3, "INJECT_BUGS": 1}
    assert plus == ["+LOOKUP_BUG_ADDR"]
    # two different bugs of one DUT name the same build
    assert defines_tag(bug_switches({"TOPK_BUG_K_OFF_BY_ONE": 1})[0]) == \
        defines_tag(bug_switches({"TOPK_BUG_TIE_REVERSED": 1})[0]) == "_INJECT_BUGS"


def test_no_bug_no_inject_build():
    assert bug_switches(None) == ({}, [])
    assert bug_switches({"SOME_OPTION": 1}) == ({"SOME_OPTION": 1}, [])


def test_a_bug_is_switched_on_with_one_only():
    with pytest.raises(ValueError, match="LOOKUP_BUG_ADDR"):
        bug_switches({"LOOKUP_BUG_ADDR": 0})
