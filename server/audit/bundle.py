"""The audit bundle format (version 2), shared by export and verify.

A bundle is a ZIP file holding:

    manifest.json    {"format": "xuncha-audit-bundle/v2", "created_at", "scope": "full" | "records",
                      "records": [uuid…], "tree_size", "entry_count", "photo_count",
                      "consistency": [{"first", "second", "hashes": [hex…]}]}
    checkpoint.json  the signed checkpoint the bundle is proven against (xuncha_core.checkpoint)
    public_key.pem   the ledger's Ed25519 public key (the same key as in checkpoint.json)
    entries.jsonl    one JSON object a line: {"index", "entry", "leaf_hash", "content"?, "salt"?,
                     "inclusion"?}
                     "entry" is the exact canonical JSON text that was hashed: the committed
                     form (xuncha_core.ledger_entries), or a legacy entry's whole text;
                     "content" and "salt" (committed entries only) are what its digest
                     commits to; "inclusion" (records scope only) is the audit path to the
                     checkpoint
    photos/<sha256>  each photo the entries refer to, byte for byte
    README.txt       how to check it

A full export carries every entry 0 … tree_size-1 and no per-entry proofs: the
verifier recomputes the root from all leaves, and the root at any older trusted
size too. A records export carries an inclusion proof for each entry, and a
consistency proof from each size given with ``audit export --trusted-size N``
to the checkpoint's size, so an auditor holding an older checkpoint of size N
can check that nothing before it was rewritten.

Version 1 bundles (before commitments) hold legacy entries only, with no contents;
verify reads both.
"""

from __future__ import annotations

FORMAT = "xuncha-audit-bundle/v2"
FORMATS = (FORMAT, "xuncha-audit-bundle/v1")
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.json"
PUBLIC_KEY = "public_key.pem"
ENTRIES = "entries.jsonl"
PHOTOS = "photos/"
README = "README.txt"

README_TEXT = """Xuncha audit bundle (xuncha-audit-bundle/v2)

Check it offline, with no server and no network:

    xuncha-server audit verify THIS.zip --trusted-checkpoint OLD.json

The check recomputes every entry's RFC 9162 leaf hash, every inclusion proof (or,
for a full export, the tree root from all entries), the Ed25519 signature on
checkpoint.json, every entry's content against the digest its public entry commits
to, the SHA-256 of every photo against its name and its photo.received entry, and,
with --trusted-checkpoint, that the log you saw then is a prefix of the log in this
bundle. This bundle holds personal data (names, notes, reasons): keep it as the
enforcement record itself is kept. Compare the key_id it prints with the one
your office published. It prints every failure and exits 1 if there is any.
"""
