"""`make mutate-handpicked`: the Temporal-facing mistakes that matter, each applied to a copy
of the repository, with the tests that must notice it.

A mutation tool would take hours on code that needs a Temporal server for every test; these
few mutations are chosen by hand instead: each one is a plausible edit that breaks a
guarantee (exactly once, hand-over, timers, refusals, reminders, the audit's trust anchor).
For each: the copy's file gets `new` in place of `old` (which must occur exactly once), the
named tests run there, and the mutation is *killed* when they fail. Before any mutation the
same tests must pass on the unmutated copy (a kill then means something).

    .venv/bin/python -m mutation.handpicked                 # every mutation
    .venv/bin/python -m mutation.handpicked carried-ids     # some, by name
    .venv/bin/python -m mutation.handpicked --list

Exit 0 when every mutation run was killed, 1 when one survived, 2 on a usage mistake.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    why: str
    #: Set when the code is being rewritten elsewhere: the snippet then needs re-targeting.
    retarget: str = ""


MUTATIONS = [
    Mutation(
        name="store-dedupe",
        file="store/application.py",
        old="""        if earlier is not None:
            return earlier
        if expected_version is not None and current_version != expected_version:""",
        new="""        if expected_version is not None and current_version != expected_version:""",
        tests=(
            "tests/workflows/test_exactly_once.py::test_retry_after_a_lost_reply_does_not_duplicate",
        ),
        why="the record_events activity no longer finds its own earlier attempt by request_id",
    ),
    Mutation(
        name="carried-ids",
        file="workflows/requests.py",
        old="        return outcomes, fingerprints",
        new="        return {}, {}",
        tests=(
            "tests/workflows/test_handover.py::test_a_resent_update_after_a_handover_is_answered_once",
            "tests/workflows/test_handover.py::test_a_resent_signal_after_a_handover_is_applied_once",
        ),
        why="continue-as-new carries no applied request ids: a resent command applies twice",
    ),
    Mutation(
        name="handover-gate",
        file="workflows/handover.py",
        old="""        self.draining = True
        await workflow.wait_condition(lambda: self.active == 0)
""",
        new="""        self.draining = True
""",
        tests=(
            "tests/workflows/test_handover.py::test_concurrent_commands_across_handovers_are_each_applied_once",
        ),
        why="the run hands over while commands past the gate are in flight: signals are lost",
    ),
    Mutation(
        name="commands-cap",
        file="workflows/partnership.py",
        old="or self._commands_this_run >= COMMANDS_PER_RUN",
        new="or self._commands_this_run > COMMANDS_PER_RUN",
        tests=("tests/workflows/test_handover.py::test_the_run_hands_over_after_the_cap",),
        why="a run applies one command more than COMMANDS_PER_RUN before handing over",
    ),
    Mutation(
        name="timer-keeping",
        file="workflows/policy_timer.py",
        old="        if key == self._key:",
        new="        if key == self._key or self._key is not None:",
        tests=(
            "tests/workflows/test_timers.py::test_renewal_notice_then_renew_moves_the_term",
            "tests/workflows/test_timers.py::test_correcting_the_policy_moves_the_running_timer",
        ),
        why="a running policy timer is kept after the policy or term changed",
    ),
    Mutation(
        name="validator-skipped",
        file="workflows/partnership.py",
        old="""        if self._input_error is not None:
            raise ApplicationError(self._input_error, type="InvalidProposal")
        too_large = oversize(name, raw)""",
        new="""        return
        too_large = oversize(name, raw)""",
        tests=("tests/workflows/test_refusals.py::test_refused_update_records_nothing",),
        why="Updates are accepted without validation: refusals reach the handler (and history)",
    ),
    Mutation(
        name="signal-refusal-unrecorded",
        file="workflows/partnership.py",
        old="""        if self._input_error is not None:
            return
        record = RecordRejectedSignal(""",
        new="""        return
        record = RecordRejectedSignal(""",
        tests=(
            "tests/workflows/test_refusals.py::test_refused_signal_is_listed_and_the_workflow_goes_on",
        ),
        why="a refused Signal is dropped silently instead of recorded as signal_rejected",
    ),
    Mutation(
        name="webhook-idempotency-key",
        file="activities/webhook.py",
        old="""            "Idempotency-Key": message_id,
""",
        new="",
        tests=(
            "tests/workflows/test_timers.py::test_talks_deadline_is_recorded_and_reminded",
            "tests/security/test_webhook_delivery.py::test_every_reminder_is_signed_and_carries_its_idempotency_key",
        ),
        why="reminder retries no longer carry the Idempotency-Key receivers dedupe by",
    ),
    Mutation(
        name="trust-anchor",
        file="audit/verify.py",
        old="name, public = trusted if trusted else note.parse_verifier_key(",
        new="name, public = note.parse_verifier_key(",
        tests=(
            "tests/security/test_tests_trust_anchor.py::test_a_checkpoint_re_signed_with_the_key_beside_it_is_refused",
        ),
        why="verify trusts the public key stored beside each checkpoint, not the trusted key",
    ),
]

IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    "*.egg-info", "test-artifacts", "node_modules",
)  # fmt: skip


def copy_repository(target: Path) -> Path:
    copy = target / "repo"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    return copy


def run_tests(copy: Path, tests: tuple[str, ...], log: Path) -> int:
    """pytest on the copy (its modules first on the path, for subprocesses too)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", *tests, "-x", "-q", "-p", "no:randomly"]
    command += ["-p", "no:cacheprovider"]
    with log.open("w") as out:
        return subprocess.run(command, cwd=copy, env=env, stdout=out, stderr=out).returncode


def imports_the_copy(copy: Path) -> bool:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    found = subprocess.run(
        [sys.executable, "-c", "import workflows.partnership as m; print(m.__file__)"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return found.startswith(str(copy))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (all by default)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    known = {m.name: m for m in MUTATIONS}
    if args.list:
        for m in MUTATIONS:
            note = f" [{m.retarget}]" if m.retarget else ""
            print(f"{m.name:<28}{m.file:<28}{m.why}{note}")
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        print(f"unknown mutation {unknown[0]!r}; see --list", file=sys.stderr)
        return 2
    chosen = [known[n] for n in args.names] if args.names else MUTATIONS
    results: list[tuple[Mutation, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="amity-handpicked-") as folder:
        copy = copy_repository(Path(folder))
        if not imports_the_copy(copy):
            print("the copy's modules are not the ones imported: cannot mutate", file=sys.stderr)
            return 2
        logs = ROOT / "var" / "handpicked"
        logs.mkdir(parents=True, exist_ok=True)
        for mutation in chosen:
            target = copy / mutation.file
            original = target.read_text()
            found = original.count(mutation.old)
            if found != 1:
                outcome = f"not applied (snippet found {found} times)"
                results.append((mutation, outcome, 0.0))
                print(f"{mutation.name}: {outcome}", flush=True)
                continue
            started = time.monotonic()
            baseline = run_tests(copy, mutation.tests, logs / f"{mutation.name}.baseline.log")
            if baseline != 0:
                outcome = f"tests fail without the mutation (exit {baseline})"
            else:
                target.write_text(original.replace(mutation.old, mutation.new))
                try:
                    code = run_tests(copy, mutation.tests, logs / f"{mutation.name}.log")
                finally:
                    target.write_text(original)
                outcome = "killed" if code == 1 else "SURVIVED" if code == 0 else f"error {code}"
            elapsed = time.monotonic() - started
            results.append((mutation, outcome, elapsed))
            print(f"{mutation.name}: {outcome} ({elapsed:.0f}s)", flush=True)
    print(f"\n{'mutation':<28}{'outcome':<12}tests")
    for mutation, outcome, _ in results:
        tests = ", ".join(t.split("::")[-1] for t in mutation.tests)
        note = f"  (re-target: {mutation.retarget})" if mutation.retarget else ""
        print(f"{mutation.name:<28}{outcome:<12}{tests}{note}")
    print(f"logs: {ROOT / 'var' / 'handpicked'}")
    return 0 if all(outcome == "killed" for _, outcome, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
