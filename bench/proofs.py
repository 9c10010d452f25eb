"""The proofs case: tamper evidence. `audit verify` over the whole log against hashing the same
leaf bytes with hashlib.sha256 and nothing else; inclusion proofs (size and time to make
and to check one) at 10^3 .. 10^6 entries, which must grow as log2(n)."""

from __future__ import annotations

import hashlib
import math
import random
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.log import BATCH, _originator_bytes, _row_batches, leaf_data
from audit.verify import TreeState, verify_store
from bench.common import Options, Row, check, say
from runtime.settings import open_store
from tlog import note
from tlog.merkle import Tree, verify_inclusion

PROOFS_PER_SIZE = 200


def verify_rate(url: str, helper: bool | None = None) -> tuple[float, Tree, str]:
    """Entries verified per second, the tree, and where the leaves and the tree were
    hashed (`helper` None: where `audit verify` would hash it, a helper process for a big
    log on 2+ cores)."""
    store = open_store(url)
    try:
        report = verify_store(store, helper=helper)
        assert report.ok, [p.message for p in report.problems[:3]]
        return report.size / report.seconds, report.tree, report.tree_hashing
    finally:
        store.close()


def incremental_seconds(url: str, tree: Tree, new: int) -> float:
    """A verify going on from a saved tree state `new` entries before the log's end (its
    checkpoint signed here with a throwaway key): what `audit verify --state` does."""
    key = Ed25519PrivateKey.generate()
    name = "bench.amity.example/log"
    size = tree.size - new
    signed = note.sign(note.body(name, size, tree.root(size)), name, key)
    store = open_store(url)
    try:
        with store.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                "SELECT rowid FROM stored_events ORDER BY rowid LIMIT 1 OFFSET ?", (size - 1,)
            )
            last_id = int(cursor.fetchone()[0])
        state = TreeState(signed, size, tuple(tree.frontier(size)), last_id, tree.leaf(size - 1))
        report = verify_store(store, (name, key.public_key()), since=state)
        assert report.ok and report.resumed_from == size, report.problems[:3]
        assert report.root == tree.root()
        return report.seconds
    finally:
        store.close()


def sha256_rate(url: str) -> tuple[float, float]:
    """hashlib.sha256 over the same leaf inputs (0x00 || leaf data): the rate of the hashing
    alone, and of reading the rows (as plain tuples) plus hashing them."""
    store = open_store(url)
    try:
        hashed, hashing, reading = 0, 0.0, 0.0
        sha256 = hashlib.sha256
        started = time.perf_counter()
        for rows in _row_batches(store, BATCH):
            reading += time.perf_counter() - started
            inputs = [
                b"\x00" + leaf_data(nid, _originator_bytes(o), version, topic, state)
                for nid, o, version, topic, state in rows
            ]
            began = time.perf_counter()
            for data in inputs:
                sha256(data).digest()
            hashing += time.perf_counter() - began
            hashed += len(inputs)
            started = time.perf_counter()
        return hashed / hashing, hashed / (hashing + reading)
    finally:
        store.close()


def measure_verify(opts: Options, url: str, events: int) -> tuple[list[Row], Tree]:
    verify_rate(url)  # warm-up (and the OS cache)
    rates, alone, floors, read_floors = [], [], [], []
    tree, hashing = Tree(), ""
    for _ in range(opts.repeat):
        rate, tree, hashing = verify_rate(url)
        rates.append(rate)
        alone.append(verify_rate(url, helper=False)[0])
        hashing_rate, reading = sha256_rate(url)
        floors.append(hashing_rate)
        read_floors.append(reading)
        say(
            f"verify: {rates[-1]:,.0f} entries/s (hashed in {hashing}),"
            f" {alone[-1]:,.0f}/s in one process; sha256 alone {floors[-1]:,.0f}/s,"
            f" read + sha256 {read_floors[-1]:,.0f}/s"
        )
    metric = f"audit verify entries/s ({events:,} entries)"
    cores = (
        "2 processes: the leaves and the tree hashed in a helper process"
        " (audit/tree_helper.py), given each batch's leaf inputs while the verifier reads;"
        " the floor uses 1"
        if hashing == "a helper process"
        else f"one process (hashed in {hashing})"
    )
    row = Row(
        "6 tamper evidence",
        metric,
        "/s",
        rates,
        floors,
        "hashlib.sha256 of the same leaf bytes",
        note=cores,
    )
    honest = Row(
        "6 tamper evidence",
        metric,
        "/s",
        rates,
        read_floors,
        "read the same rows + sha256 (no tree)",
        note=f"informative floor: any verifier must read the log. {cores}",
    )
    single = Row(
        "6 tamper evidence",
        f"audit verify entries/s, one process ({events:,} entries)",
        "/s",
        alone,
        read_floors,
        "read the same rows + sha256 (no tree)",
        note="everything in the verifying process (helper=False): the leaves and the"
        " tree's n - 1 interior hashes (~1 us each) on the one core",
    )
    fulls = [events / rate for rate in rates]
    new = max(1, events // 100)
    resumed = [incremental_seconds(url, tree, new) for _ in range(opts.repeat)]
    say(f"verify from a saved state ({new:,} new entries): {[round(x, 3) for x in resumed]} s")
    incremental = Row(
        "6 tamper evidence",
        f"audit verify from a saved state ({new:,} new of {events:,} entries)",
        "ms",
        [x * 1000 for x in resumed],
        [x * 1000 for x in fulls],
        "full verify of the same log",
        better="lower",
        note="only the new entries are read and hashed: O(new + log n)",
    )
    return [
        check(row, row.ratio, ">=", 0.5),
        check(honest, honest.ratio, ">=", 0.85),
        single,
        incremental,
    ], tree


def measure_proofs(opts: Options, tree: Tree) -> list[Row]:
    rows = []
    rng = random.Random(8)
    for size in opts.proof_sizes:
        if size > tree.size:
            rows.append(
                Row(
                    "6 tamper evidence",
                    f"inclusion proof at n={size:,}",
                    "ms",
                    [],
                    note="skipped: log too small",
                )
            )
            continue
        root = tree.root(size)
        make, check_times, lengths = [], [], set()
        for _ in range(opts.repeat):
            made, checked = [], []
            for _ in range(PROOFS_PER_SIZE):
                index = rng.randrange(size)
                started = time.perf_counter()
                proof = tree.inclusion_proof(index, size)
                middle = time.perf_counter()
                ok = verify_inclusion(index, size, tree.leaf(index), proof, root)
                done = time.perf_counter()
                assert ok
                made.append(middle - started)
                checked.append(done - middle)
                lengths.add(len(proof))
            make.append(sum(made) / len(made) * 1000)
            check_times.append(sum(checked) / len(checked) * 1000)
        hashes = max(lengths)
        rows.append(
            Row(
                "6 tamper evidence",
                f"inclusion proof at n={size:,}: make",
                "ms",
                make,
                better="lower",
                note=f"{hashes} hashes = {hashes * 32} bytes;"
                f" ceil(log2 n) = {math.ceil(math.log2(size))}",
            )
        )
        rows.append(
            Row(
                "6 tamper evidence",
                f"inclusion proof at n={size:,}: check",
                "ms",
                check_times,
                better="lower",
            )
        )
    return rows
