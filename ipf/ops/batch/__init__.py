"""ipf-batch: run Job Orders at scale on a Dask cluster (:mod:`ipf.ops.batch.runner`), from a spool directory (:mod:`ipf.ops.batch.spool`)."""
