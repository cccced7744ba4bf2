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
    proof; each decision's signature and its digest of the evidence.
    """
    if not isinstance(bundle, dict):
        return ["the bundle is not a JSON object"]
    failures: list[str] = []
    if bundle.get("format") != FORMAT:
        failures.append(f"unknown format {bundle.get('format')!r} (expected {FORMAT})")
        return failures
    failures += _check_signed(
        "bundle signature",
        bundle.get("signature"),
        canonical_json(unsigned_part(bundle)),
        public_keys,
        check_signature,
    )
    evidence = bundle.get("evidence")
    attachments = bundle.get("attachments")
    if not isinstance(evidence, list) or not isinstance(attachments, dict):
        return [*failures, "evidence or attachments missing"]
    for sha, encoded in attachments.items():
        try:
            content = base64.b64decode(str(encoded), validate=True)
        except (binascii.Error, ValueError):
            failures.append(f"attachment {sha}: not valid base64")
            continue
        actual = hashlib.sha256(content).hexdigest()
        if actual != sha:
            failures.append(f"attachment {sha}: content hashes to {actual}")
    for item in evidence:
        attachment = item.get("attachment") if isinstance(item, dict) else None
        if attachment:
            sha = attachment.get("sha256")
            if sha not in attachments:
                failures.append(f"evidence {item.get('id')}: attachment {sha} is missing")
            else:
                size = len(base64.b64decode(str(attachments[sha]), validate=False))
                if size != attachment.get("size"):
                    failures.append(
                        f"evidence {item.get('id')}: attachment size {size} != {attachment.get('size')}"
                    )
    by_id = {item.get("id"): item for item in evidence if isinstance(item, dict)}
    for entry in bundle.get("chain_proofs") or []:
        evidence_id = entry.get("evidence_id")
        proof = entry.get("proof")
        if not isinstance(proof, dict):
            failures.append(f"chain proof of {evidence_id}: missing")
            continue
        quoted = by_id.get(evidence_id, {}).get("data", {}).get("proof")
        if quoted != proof:
            failures.append(f"chain proof of {evidence_id}: differs from the evidence item's proof")
        failures += [
            f"chain proof of {evidence_id}: {problem}"
            for problem in check_proof(proof, public_keys)
        ]
    digest = evidence_sha256(evidence)
    decisions = bundle.get("decisions") or []
    for index, entry in enumerate(decisions):
        payload = entry.get("payload") if isinstance(entry, dict) else None
        if not isinstance(payload, dict):
            failures.append(f"decision {index}: payload missing")
            continue
        name = f"decision {payload.get('decision_id')}"
        failures += _check_signed(
            name, entry.get("signature"), canonical_json(payload), public_keys, check_signature
        )
        if index == len(decisions) - 1 and payload.get("evidence_sha256") != digest:
            # Only the last decision saw the final evidence; earlier ones are checked by signature.
            failures.append(f"{name}: the evidence differs from what the decision saw")
    return failures


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
