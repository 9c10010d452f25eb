"""Faults and bad input: nothing lost, nothing doubled, nobody stuck.

`python -m bench.faults [--full]` runs four scenarios against real processes and prints
their figures (and writes them as markdown to bench/results/faults-<date>.md):

- crash (`crash.py`): N partnerships driven through the story by concurrent clients while
  the worker process (`python worker.py`) is killed with SIGKILL at random moments and
  restarted, and the Temporal dev server (SQLite file) is stopped and restarted once mid-run;
- store locked (`locked.py`): the event store's SQLite file held by another process
  (`BEGIN EXCLUSIVE`) while commands arrive;
- bad input (`bad_cases.py`, `bad_input.py`): hypothesis-generated payloads for every command
  and the start input, as Updates, Signals, through the CLI and as start inputs;
- races (`races.py`): 10 clients sending conflicting commands to one partnership.

They share the processes (`cluster.py`), crash-tolerant sending (`sending.py`), the checks
each ends with (`checks.py`) and the table (`figures.py`, `report.py`). The tests in
tests/faults/ call the same functions at a reduced size.
"""

from bench.faults.bad_input import bad_input_suite
from bench.faults.cluster import Cluster
from bench.faults.crash import crash_suite
from bench.faults.figures import Figures
from bench.faults.locked import lock_suite
from bench.faults.races import race_suite

__all__ = ["Cluster", "Figures", "bad_input_suite", "crash_suite", "lock_suite", "race_suite"]
