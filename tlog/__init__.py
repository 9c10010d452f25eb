"""Transparency-log primitives (RFC 6962 Merkle tree, C2SP signed notes, the witness rule):
pure, so workflows and the audit toolkit can both use them."""
