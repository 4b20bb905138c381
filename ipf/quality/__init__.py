"""On-line quality control (OLQC) of products: the checks (:mod:`ipf.quality.checks`) and the
OLQC report (:mod:`ipf.quality.report`)."""
