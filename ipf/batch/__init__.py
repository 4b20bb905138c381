"""ipf-batch: run Job Orders at scale on a Dask cluster (:mod:`ipf.batch.runner`), from a spool directory (:mod:`ipf.batch.spool`)."""
