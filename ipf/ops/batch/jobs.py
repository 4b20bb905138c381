"""The jobs of ``ipf-batch run``: Job Order files, directories and list files, grouped in chains.

* a Job Order file (``*.xml``) is a job of its own;
* a directory is one chain: its ``*.xml`` Job Orders (XML files whose root is another element,
  such as task tables, are left out) in name order, each started when the one before it
  succeeded (``JobOrder_L0.xml``, ``JobOrder_L1A.xml``, ``JobOrder_L1B.xml``,
  ``JobOrder_L1C_T*.xml`` of one scene);
* any other file is a list: one Job Order path a line (relative to the list), ``#`` comments;
  consecutive lines form a chain, an empty line starts the next one.

``independent`` makes every job a chain of its own. Each job's log is ``LOG_DIR/<id>.log``, its id
being ``<chain>/<Job Order name without .xml>`` (just the name for a job given alone).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from ipf.ops.batch.runner import Job


__all__ = ["directory_chain", "read_list", "collect"]


def _root_tag(path: Path) -> str | None:
    try:
        for _, element in etree.iterparse(str(path), events=("start",), resolve_entities=False,
                                          no_network=True):
            return etree.QName(element).localname
    except (etree.XMLSyntaxError, OSError):
        return None
    return None


def directory_chain(directory: Path) -> list[Path]:
    """The Job Orders of ``directory`` in name order; unreadable XML is kept (``ipf`` reports it)."""
    return [p for p in sorted(directory.glob("*.xml"))
            if p.is_file() and _root_tag(p) in (None, "Ipf_Job_Order")]


def read_list(path: Path) -> list[list[Path]]:
    """The chains of a list file."""
    chains: list[list[Path]] = [[]]
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            if chains[-1]:
                chains.append([])
            continue
        chains[-1].append((path.parent / line).resolve())
    return [c for c in chains if c]


def collect(paths: list[str], log_dir: Path, *, independent: bool = False) -> list[list[Job]]:
    """The chains of jobs named by ``paths``; ``ValueError`` names a path that is missing."""
    groups: list[tuple[str, list[Path]]] = []
    for arg in paths:
        path = Path(arg)
        if path.is_dir():
            groups.append((path.resolve().name, directory_chain(path)))
        elif path.is_file() and path.suffix.lower() == ".xml":
            groups.append(("", [path.resolve()]))
        elif path.is_file():
            chains = read_list(path)
            groups += [(f"{path.stem}-{n}" if len(chains) > 1 else path.stem, c)
                       for n, c in enumerate(chains, 1)]
        else:
            raise ValueError(f"{arg}: no such file or directory")
    taken: set[str] = set()
    chains: list[list[Job]] = []
    for label, orders in groups:
        chain = []
        for order in orders:
            base = f"{label}/{order.stem}" if label else order.stem
            job_id, n = base, 1
            while job_id in taken:
                n += 1
                job_id = f"{base}~{n}"
            taken.add(job_id)
            chain.append(Job(job_id, order.resolve(), log_dir / f"{job_id}.log", label))
        chains += [[j] for j in chain] if independent else [chain]
    return [c for c in chains if c]
