"""Dask: `dask.delayed` over m chunks of another backend's kernel (E10), on the threaded scheduler or
a `dask.distributed` LocalCluster of processes or threads."""

from __future__ import annotations

from gilsafe.kernels import installed, missing

NAME = "dask"
RELEASES_GIL = "nothing itself: its threaded scheduler overlaps only kernels that release the GIL"
PACKAGES = ("dask",)  # what its kernels import


def available() -> tuple[bool, str]:
    return installed("dask")


def distributed_available() -> tuple[bool, str]:
    return missing("distributed")


def delayed_sum(kernel, chunks: list[int], seeds: list[int], scheduler: str, client=None) -> int:
    """Sum kernel(n, seed) over the chunks as one dask graph."""
    import dask

    parts = [dask.delayed(kernel)(n, seed) for n, seed in zip(chunks, seeds)]
    total = dask.delayed(sum)(parts)
    if scheduler == "threads":
        return total.compute(scheduler="threads", num_workers=len(chunks))
    return client.compute(total).result()


def local_cluster(workers: int, processes: bool):
    from distributed import Client, LocalCluster

    # Processes talk over loopback TCP; a threads-only cluster lives in this process (inproc://).
    where = {"host": "127.0.0.1"} if processes else {}
    cluster = LocalCluster(
        n_workers=workers if processes else 1,
        threads_per_worker=1 if processes else workers,
        processes=processes,
        dashboard_address=None,
        **where,
    )
    return cluster, Client(cluster)
