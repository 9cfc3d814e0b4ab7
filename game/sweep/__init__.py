"""Policy sweeps: thousands of paired (variant, seed) runs into a folder of Parquet rows, on a
process pool or a Dask cluster, and what they show (``crashfloor sweep``)."""

from .runner import SweepResult, sweep
from .store import SweepStore

__all__ = ["SweepResult", "SweepStore", "sweep"]
