#!/usr/bin/env bash
# What the flows need from the machine, probed by what it can run (command -v,
# the compiler's own header search), never by a package database, so it works
# the same on Debian, Fedora, Arch and macOS, as root or not.
#
#   sim/check_env.sh python     Python >= 3.11 with venv and pip ($PYTHON, default
#                               python3); run before .venv is created
#   sim/check_env.sh build      required: g++, make, perl; optional: ccache
#   sim/check_env.sh genhtml    optional: genhtml (lcov) for the HTML coverage report
#   sim/check_env.sh waves      the lz4 headers FST tracing links against (required
#                               by `make waves`, which cannot work without them)
#   sim/check_env.sh --install  install the optional packages (ccache, lcov, lz4
#                               headers): apt-get when root, else print the command
#
# A missing required tool is an error naming its package for apt, dnf and brew
# (exit 1). A missing optional tool is ONE warning line on stderr and exit 0:
# the flow takes a slower or reduced path. Written for bash 3.2 (macOS).
set -uo pipefail

PYTHON=${PYTHON:-python3}
MIN_PY_MAJOR=3
MIN_PY_MINOR=11

# package names per manager: "apt|dnf|brew"
pkg_names() {
  case "$1" in
    python)  echo "python3.11 python3.11-venv|python3.11|python@3.11" ;;
    g++)     echo "g++|gcc-c++|gcc" ;;
    make)    echo "make|make|make" ;;
    perl)    echo "perl|perl|perl" ;;
    ccache)  echo "ccache|ccache|ccache" ;;
    genhtml) echo "lcov|lcov|lcov" ;;
    lz4)     echo "liblz4-dev|lz4-devel|lz4" ;;
  esac
}

install_hint() {
  local names apt dnf brew
  names=$(pkg_names "$1")
  apt=${names%%|*}; names=${names#*|}; dnf=${names%%|*}; brew=${names#*|}
  echo "apt: $apt | dnf: $dnf | brew: $brew"
}

have_lz4() {
  [ -f /usr/include/lz4.h ] && return 0
  command -v pkg-config >/dev/null 2>&1 && pkg-config --exists liblz4 2>/dev/null && return 0
  # what the Verilator build will actually see: the compiler's include path
  command -v g++ >/dev/null 2>&1 && echo '#include <lz4.h>' | g++ -E -x c++ - >/dev/null 2>&1
}

warn() { echo "warning: $*" >&2; }

check_python() {
  local where version
  where=$(command -v "$PYTHON" 2>/dev/null) || {
    echo "error: $PYTHON not found; Python >= $MIN_PY_MAJOR.$MIN_PY_MINOR with venv is needed" >&2
    echo "       install: $(install_hint python); or point make at one: make PYTHON=/path/to/python3.11 ..." >&2
    return 1
  }
  version=$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null) || version="?"
  if ! "$PYTHON" -c "import sys; sys.exit(sys.version_info[:2] < ($MIN_PY_MAJOR, $MIN_PY_MINOR))" 2>/dev/null; then
    echo "error: Python >= $MIN_PY_MAJOR.$MIN_PY_MINOR needed (the pinned numpy, cocotb and tomllib need it); $where is $version" >&2
    echo "       install: $(install_hint python); then: make PYTHON=python3.11 ..." >&2
    return 1
  fi
  # Debian splits venv/ensurepip into python3-venv: without it `python3 -m venv` makes a .venv without pip
  if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "error: $where ($version) cannot create a virtual environment with pip (no venv/ensurepip module)" >&2
    echo "       install: apt: python${version%.*}-venv | dnf: python${version%.*} | brew: python@${version%.*}" >&2
    return 1
  fi
  # a .venv left by an older Python (e.g. a failed first try) would be reused silently
  if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import sys; sys.exit(sys.version_info[:2] < ($MIN_PY_MAJOR, $MIN_PY_MINOR))" 2>/dev/null; then
    echo "error: .venv was made with $(.venv/bin/python --version 2>&1); remove it (rm -rf .venv) and rerun" >&2
    return 1
  fi
}

check_build() {
  local missing=() t
  for t in g++ make perl; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    for t in "${missing[@]}"; do
      echo "error: $t not found (Verilator builds need it); install: $(install_hint "$t")" >&2
    done
    return 1
  fi
  command -v ccache >/dev/null 2>&1 ||
    warn "ccache not found: Verilator builds are not cached (a rebuild takes seconds instead of 0.3 s); install: $(install_hint ccache), or make deps"
  return 0
}

check_genhtml() {
  command -v genhtml >/dev/null 2>&1 ||
    warn "genhtml not found: coverage gives its text report and lcov file, no HTML; install: $(install_hint genhtml), or make deps"
  return 0
}

check_waves() {
  have_lz4 && return 0
  echo "error: cannot write FST waves: no lz4 headers (lz4.h) for the Verilator trace library; install: $(install_hint lz4), or make deps" >&2
  return 1
}

install_optional() {
  local want=() pkgs=() t names mgr
  command -v ccache >/dev/null 2>&1 || want+=(ccache)
  command -v genhtml >/dev/null 2>&1 || want+=(genhtml)
  have_lz4 || want+=(lz4)
  if [ ${#want[@]} -eq 0 ]; then
    echo "deps: ccache, genhtml (lcov) and the lz4 headers are present"
    return 0
  fi
  if command -v apt-get >/dev/null 2>&1; then mgr=apt
  elif command -v dnf >/dev/null 2>&1; then mgr=dnf
  elif command -v brew >/dev/null 2>&1; then mgr=brew
  else mgr=""; fi
  for t in "${want[@]}"; do
    names=$(pkg_names "$t")
    case "$mgr" in
      apt) pkgs+=("${names%%|*}") ;;
      dnf) names=${names#*|}; pkgs+=("${names%%|*}") ;;
      brew) pkgs+=("${names##*|}") ;;
    esac
  done
  if [ -z "$mgr" ]; then
    echo "deps: missing ${want[*]}; no apt-get, dnf or brew here; packages:" >&2
    for t in "${want[@]}"; do echo "  $t: $(install_hint "$t")" >&2; done
    return 1
  fi
  if [ "$mgr" = apt ] && [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing ${pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
    return $?
  fi
  case "$mgr" in
    apt) echo "deps: missing ${want[*]}; run: sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2 ;;
    dnf) echo "deps: missing ${want[*]}; run: sudo dnf install -y ${pkgs[*]}" >&2 ;;
    brew) echo "deps: missing ${want[*]}; run: brew install ${pkgs[*]}" >&2 ;;
  esac
  return 1
}

[ $# -gt 0 ] || { sed -n '2,16p' "$0"; exit 2; }
rc=0
for what in "$@"; do
  case "$what" in
    python) check_python || rc=1 ;;
    build) check_build || rc=1 ;;
    genhtml) check_genhtml || rc=1 ;;
    waves) check_waves || rc=1 ;;
    --install) install_optional || rc=1 ;;
    *) echo "check_env.sh: unknown check '$what' (python, build, genhtml, waves, --install)" >&2; rc=2 ;;
  esac
done
exit $rc
