# s2ipf processor image: `docker run -v /data:/data IMAGE /data/JobOrder.xml`.
# Built with the same `make install` as a developer machine; the entry point is `ipf`, so the Job
# Order path is the only argument, as prosEO-style hosts call processors.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends make libopenjp2-7 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/s2ipf
COPY . .
RUN make install PYTHON=python3.11 && rm -rf /root/.cache/pip
ENV PATH=/opt/s2ipf/.venv/bin:$PATH \
    IPF_CACHE_DIR=/opt/s2ipf/.cache \
    IPF_NUMBA_CACHE_DIR=/opt/s2ipf/.cache/numba
# warm the compiled-schema cache so the first task does not pay for it
RUN ipf --check-tasktable ipf/processors/demo/TaskTable_S2IPF_DEMO_01.00.xml >/dev/null \
    && python -c "from ipf import xmlio; [xmlio.schema(n) for n in ('JobOrder_MMFI_1_8.xsd', 'JobOrder_GMES_1_1.xsd', 'TaskTable.xsd')]"
ENTRYPOINT ["ipf"]
