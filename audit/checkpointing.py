"""The scheduled checkpoint: sign the whole log and publish it to the witness.

Run by the `CheckpointLog` workflow that `amity audit schedule` starts on a Temporal
Schedule. The worker that runs it needs the signing key (AMITY_AUDIT_KEY /
AMITY_AUDIT_KEY_FILE): in production that is a worker of its own on the signer host, on its
own task queue, so the key never sits on the hosts that write events.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from audit.keys import AuditKeyError, load_signing_key
from audit.publish import WitnessRefused, WitnessUnavailable, publish
from audit.signer import NotConsistent, Signed, checkpoint_log
from runtime.settings import Settings
from store.application import PartnershipStore
from tlog.witness import CheckpointResult


class CheckpointActivities:
    """Bound to one store; publishes to the witness on `witness_task_queue`."""

    def __init__(
        self, store: PartnershipStore, witness_task_queue: str, settings: Settings | None = None
    ) -> None:
        self.store = store
        self.witness_task_queue = witness_task_queue
        self._settings = settings

    @property
    def settings(self) -> Settings:
        """The worker's settings; without them, read afresh at each checkpoint."""
        return self._settings or Settings()

    def _sign(self, settings: Settings) -> Signed:
        try:
            signing = load_signing_key(settings, self.store.url, create=True)
        except AuditKeyError as error:
            raise ApplicationError(str(error), type="AuditKeyError", non_retryable=True) from None
        assert signing is not None  # create=True makes one
        try:
            return checkpoint_log(self.store, signing.key, settings.audit_origin)
        except NotConsistent as error:
            raise ApplicationError(
                f"refusing to sign: the log is not consistent with its earlier checkpoints:"
                f" {error}",
                type="NotConsistent",
                non_retryable=True,
            ) from None

    @activity.defn(name="checkpoint_log")
    async def checkpoint_log(self) -> CheckpointResult:
        settings = self.settings
        signed = await asyncio.to_thread(self._sign, settings)
        try:
            state = await publish(
                activity.client(),
                self.witness_task_queue,
                settings.audit_origin,
                signed.tree,
                signed.note,
                signed.public_key,
            )
        except WitnessRefused as error:
            raise ApplicationError(
                f"checkpoint #{signed.seq} is stored but the witness refused it: {error}",
                type="WitnessRefused",
                non_retryable=True,
            ) from None
        except WitnessUnavailable as error:  # retried: the witness's worker may come back
            raise ApplicationError(
                f"checkpoint #{signed.seq} is not witnessed yet: {error}"
            ) from None
        activity.logger.info(
            "checkpoint #%s of %s entries, witnessed (%s)", signed.seq, signed.size, state.size
        )
        return CheckpointResult(
            seq=signed.seq,
            size=signed.size,
            fresh=signed.fresh,
            witnessed=state.size,
            note=signed.note,
        )
