"""Evidence bundles: one JSON file that proves a case offline (DESIGN.md §6).

A bundle carries the case, every evidence item, the attachments' bytes, the
chat ranges' hash-chain proofs and the signed decisions, and is itself signed
by the platform's Ed25519 key. :func:`verify_bundle` needs only the platform's
public keys: it recomputes every digest and checks every signature and proof,
and reports each failure in words (an empty list means the bundle is intact).

Format ``tradeguard-evidence-bundle/1``::

    {
      "format": "tradeguard-evidence-bundle/1",
      "exported_at": "...",
      "case": {...},                       # the case as the API shows it
      "evidence": [{"id", "kind", "provenance", "party", "data", "attachment": {sha256,size,content_type}|null, ...}],
      "attachments": {"<sha256>": "<base64 bytes>"},
      "chain_proofs": [{"evidence_id": "...", "proof": {...}}],
      "decisions": [{"payload": {...}, "signature": {"key_id", "signature_b64"}}],
      "signature": {"key_id", "signature_b64"}   # over canonical JSON of everything above
    }

Canonical JSON: UTF-8, keys sorted, no insignificant whitespace (``separators=(",", ":")``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT: Final = "tradeguard-evidence-bundle/1"

#: ``(public_keys, data, key_id, signature_b64) -> bool``
SignatureCheck = Callable[[Mapping[str, str], bytes, str, str], bool]
#: ``(proof_dict, public_keys) -> list of failures``
ProofCheck = Callable[[Mapping[str, Any], Mapping[str, str]], list[str]]


def canonical_json(value: Any) -> bytes:
    """The one byte form every digest and signature of a bundle is computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@dataclass(frozen=True, slots=True)
class Signed:
    """A signature as a bundle stores it."""

    key_id: str
    signature_b64: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"key_id": self.key_id, "signature_b64": self.signature_b64}


def ed25519_check(
    public_keys: Mapping[str, str], data: bytes, key_id: str, signature_b64: str
) -> bool:
    """True when ``signature_b64`` is ``key_id``'s Ed25519 signature of ``data``.

    Public keys are base64 raw 32-byte Ed25519 keys, as ``GET /v1/public/platform-keys`` lists them.
    """
    try:
        key = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(public_keys[key_id], validate=True)
        )
        key.verify(base64.b64decode(signature_b64, validate=True), data)
    except (KeyError, TypeError, ValueError, binascii.Error, InvalidSignature):
        return False
    return True


def unsigned_part(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the bundle signature covers."""
    return {k: v for k, v in bundle.items() if k != "signature"}


def evidence_sha256(evidence: list[Any]) -> str:
    """The digest a decision records of the evidence it saw."""
    return hashlib.sha256(canonical_json(evidence)).hexdigest()


def verify_bundle(
    bundle: Any,
    public_keys: Mapping[str, str],
    check_signature: SignatureCheck,
    check_proof: ProofCheck,
) -> list[str]:
    """Every way the bundle fails verification; empty when it is intact.

    Checks, in order: the format; the bundle signature; each attachment's
    sha256 against its bytes and against the evidence that names it; each chain
    proof; each decision's signature and its digest of the evidence. Malformed
    parts are reported as such, never raised.
    """
    if not isinstance(bundle, dict):
        return ["the bundle is not a JSON object"]
    if bundle.get("format") != FORMAT:
        return [f"unknown format {bundle.get('format')!r} (expected {FORMAT})"]
    failures = _check_signed(
        "bundle signature",
        bundle.get("signature"),
        canonical_json(unsigned_part(bundle)),
        public_keys,
        check_signature,
    )
    evidence = bundle.get("evidence")
    attachments = bundle.get("attachments")
    if not isinstance(evidence, list) or not isinstance(attachments, dict):
        return [*failures, "evidence or attachments missing or malformed"]
    contents: dict[str, bytes] = {}
    for sha, encoded in attachments.items():
        content = _b64(encoded)
        if content is None:
            failures.append(f"attachment {sha}: not valid base64")
            continue
        contents[sha] = content
        actual = hashlib.sha256(content).hexdigest()
        if actual != sha:
            failures.append(f"attachment {sha}: content hashes to {actual}")
    by_id: dict[Any, Any] = {}
    for item in evidence:
        if not isinstance(item, dict):
            failures.append("evidence: an item is not a JSON object")
            continue
        by_id[item.get("id")] = item
        attachment = item.get("attachment")
        if attachment is None:
            continue
        if not isinstance(attachment, dict):
            failures.append(f"evidence {item.get('id')}: attachment reference malformed")
            continue
        sha = attachment.get("sha256")
        if sha not in attachments:
            failures.append(f"evidence {item.get('id')}: attachment {sha} is missing")
        elif sha in contents and len(contents[sha]) != attachment.get("size"):
            failures.append(
                f"evidence {item.get('id')}: attachment size {len(contents[sha])} != {attachment.get('size')}"
            )
    proofs = bundle.get("chain_proofs")
    if not isinstance(proofs, list):
        failures.append("chain proofs missing or malformed")
        proofs = []
    for entry in proofs:
        evidence_id = entry.get("evidence_id") if isinstance(entry, dict) else None
        proof = entry.get("proof") if isinstance(entry, dict) else None
        if not isinstance(proof, dict):
            failures.append(f"chain proof of {evidence_id}: missing or malformed")
            continue
        quoted = by_id.get(evidence_id, {}).get("data")
        if not isinstance(quoted, dict) or quoted.get("proof") != proof:
            failures.append(f"chain proof of {evidence_id}: differs from the evidence item's proof")
        failures += [
            f"chain proof of {evidence_id}: {problem}"
            for problem in check_proof(proof, public_keys)
        ]
    digest = evidence_sha256(evidence)
    decisions = bundle.get("decisions")
    if not isinstance(decisions, list):
        return [*failures, "decisions missing or malformed"]
    for index, entry in enumerate(decisions):
        payload = entry.get("payload") if isinstance(entry, dict) else None
        if not isinstance(payload, dict):
            failures.append(f"decision {index}: payload missing or malformed")
            continue
        name = f"decision {payload.get('decision_id')}"
        failures += _check_signed(
            name, entry.get("signature"), canonical_json(payload), public_keys, check_signature
        )
        if index == len(decisions) - 1 and payload.get("evidence_sha256") != digest:
            # Only the last decision saw the final evidence; earlier ones are checked by signature.
            failures.append(f"{name}: the evidence differs from what the decision saw")
    return failures


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _check_signed(
    name: str, signature: Any, data: bytes, public_keys: Mapping[str, str], check: SignatureCheck
) -> list[str]:
    if not isinstance(signature, dict) or not signature.get("key_id"):
        return [f"{name}: missing"]
    key_id = str(signature["key_id"])
    if key_id not in public_keys:
        return [f"{name}: signed by unknown key {key_id}"]
    if not check(public_keys, data, key_id, str(signature.get("signature_b64", ""))):
        return [f"{name}: invalid (the signed content was altered or the signature is forged)"]
    return []
