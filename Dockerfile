# s2ipf processor image: `docker run -v /data:/data IMAGE /data/JobOrder.xml`.
# The first stage builds the s2ipf wheel (schemas, task tables and py.typed are package data); the
# image installs that wheel (not the source tree) in a venv. The entry point is `ipf`, so the Job
# Order path is the only argument, as prosEO-style hosts call processors. Developers use
# `make install` (editable install) instead.
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ipf ipf
RUN pip wheel --no-deps --wheel-dir /dist . && rm -rf /root/.cache/pip

FROM python:3.11-slim-bookworm
COPY scripts/install-system-deps.sh /tmp/install-system-deps.sh
RUN /tmp/install-system-deps.sh && rm -rf /var/lib/apt/lists/* /tmp/install-system-deps.sh
COPY --from=wheel /dist /tmp/dist
RUN python3.11 -m venv /opt/s2ipf/venv \
    && /opt/s2ipf/venv/bin/pip install --quiet "$(ls /tmp/dist/s2ipf-*.whl)[htj2k]" \
    && rm -rf /tmp/dist /root/.cache/pip
ENV PATH=/opt/s2ipf/venv/bin:$PATH \
    IPF_CACHE_DIR=/opt/s2ipf/.cache \
    IPF_NUMBA_CACHE_DIR=/opt/s2ipf/.cache/numba
WORKDIR /opt/s2ipf
# warm the compiled-schema cache so the first task does not pay for it
RUN ipf --check-tasktable "$(python -c "from importlib import resources; print(resources.files('ipf.processors') / 'demo' / 'TaskTable_S2IPF_DEMO_01.00.xml')")" >/dev/null \
    && python -c "from ipf.interface import xmlio; [xmlio.schema(n) for n in ('JobOrder_MMFI_1_8.xsd', 'JobOrder_GMES_1_1.xsd', 'TaskTable.xsd')]"
ENTRYPOINT ["ipf"]
