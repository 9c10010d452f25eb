"""How the payload codec tells the workflow that a payload arrived unencrypted.

With AMITY_PAYLOAD_KEY the worker's codec does not pass a plaintext payload on (the sender
had no key, or bypassed the codec): it hands the workflow this marker instead, whose data
is the reason, so the command is refused with that reason and nothing is recorded. Raising
in the codec would fail the whole workflow task again and again instead.
"""

from __future__ import annotations

#: The `encoding` of the marker payload; no payload converter decodes it.
PLAINTEXT_REFUSED = b"binary/plaintext-refused"
PLAINTEXT_REASON = (
    "the payload is not encrypted: this engine accepts only payloads sealed with"
    " AMITY_PAYLOAD_KEY (set it on every client)"
)
