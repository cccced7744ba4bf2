"""DESIGN.md §6: a case exports as a signed evidence bundle that ``evidence verify`` checks offline.

Each test tampers one part of a good bundle and expects exactly that part to be reported.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tradeguard.adapters.cli.main import cli
from tradeguard.disputes.bundle import canonical_json, ed25519_check, verify_bundle
from tradeguard.disputes.model import CaseType, EvidenceKind
from tradeguard.kernel.parties import OPERATOR, buyer, seller

PNG = b"\x89PNG\r\n\x1a\nthe broken screen" * 4


def no_chat(proof: Any, keys: Any) -> list[str]:
    return ["unexpected chain proof"]


@pytest.fixture
def decided(disputes) -> tuple[Any, dict[str, Any], dict[str, str]]:
    """A decided quality case with a photo, exported as a bundle, and the public keys."""
    case = disputes.file(disputes.shipped(), CaseType.QUALITY)
    disputes.app.disputes.stage_evidence(
        case.id,
        buyer("b1"),
        EvidenceKind.PHOTO,
        "broken screen",
        content=PNG,
        content_type="image/png",
    )
    disputes.app.disputes.submit_evidence(case.id, buyer("b1"))
    disputes.app.disputes.respond(case.id, seller("s1"), "It left us intact.")
    disputes.app.disputes.submit_evidence(case.id, seller("s1"))
    disputes.decide(case.id, outcome="split", refund_minor=4_000)
    bundle = disputes.app.disputes.export_bundle(case.id, OPERATOR)
    return case, bundle, disputes.app.disputes.signer.public_keys()


def check(bundle: dict[str, Any], keys: dict[str, str]) -> list[str]:
    return verify_bundle(bundle, keys, ed25519_check, no_chat)


def resign(bundle: dict[str, Any], disputes) -> None:
    """Sign the bundle again as the platform would, to isolate an inner failure."""
    bundle.pop("signature")
    sig = disputes.app.disputes.signer.sign(canonical_json(bundle))
    bundle["signature"] = {"key_id": sig.key_id, "signature_b64": sig.signature_b64}


def test_an_exported_bundle_verifies_with_the_public_keys_alone(decided) -> None:
    # given
    case, bundle, keys = decided
    # then
    assert check(bundle, keys) == []
    assert bundle["case"]["case_id"] == case.id
    assert bundle["decisions"][0]["payload"]["outcome"] == "split"
    [photo] = [e for e in bundle["evidence"] if e["kind"] == "photo"]
    assert base64.b64decode(bundle["attachments"][photo["attachment"]["sha256"]]) == PNG
    assert {e["provenance"] for e in bundle["evidence"]} == {"system", "party"}


def test_tampering_with_the_case_breaks_the_bundle_signature(decided) -> None:
    _, bundle, keys = decided
    bundle["case"]["outcome"] = "buyer_wins"
    assert check(bundle, keys) == [
        "bundle signature: invalid (the signed content was altered or the signature is forged)"
    ]


def test_tampering_with_an_attachment_is_reported(decided, disputes) -> None:
    _, bundle, keys = decided
    sha = next(iter(bundle["attachments"]))
    bundle["attachments"][sha] = base64.b64encode(PNG.replace(b"broken", b"intact")).decode()
    resign(bundle, disputes)
    [failure] = check(bundle, keys)
    assert failure.startswith(f"attachment {sha}: content hashes to")


def test_a_missing_attachment_is_reported(decided, disputes) -> None:
    _, bundle, keys = decided
    bundle["attachments"].clear()
    resign(bundle, disputes)
    [failure] = check(bundle, keys)
    assert "is missing" in failure


def test_tampering_with_evidence_is_reported_against_the_decision(decided, disputes) -> None:
    _, bundle, keys = decided
    bundle["evidence"][0]["data"]["paid_minor"] = 1
    resign(bundle, disputes)
    [failure] = check(bundle, keys)
    assert failure.endswith("the evidence differs from what the decision saw")


def test_tampering_with_a_decision_breaks_its_signature(decided, disputes) -> None:
    _, bundle, keys = decided
    bundle["decisions"][0]["payload"]["refund_minor"] = 9_999
    resign(bundle, disputes)
    [failure] = check(bundle, keys)
    assert failure.startswith("decision ")
    assert "invalid" in failure


def test_a_forged_decision_signature_is_reported(decided, disputes) -> None:
    _, bundle, keys = decided
    bundle["decisions"][0]["signature"]["signature_b64"] = base64.b64encode(b"\0" * 64).decode()
    resign(bundle, disputes)
    [failure] = check(bundle, keys)
    assert "invalid" in failure


def test_a_bundle_signed_by_an_unknown_key_is_reported(decided) -> None:
    _, bundle, keys = decided
    other = {"someone-else": next(iter(keys.values()))}
    failures = check(bundle, other)
    assert any("unknown key" in f for f in failures)


def test_every_byte_flip_of_the_bundle_is_detected(decided) -> None:
    # given: the bundle as a file's bytes
    _, bundle, keys = decided
    raw = json.dumps(bundle, sort_keys=True).encode()

    # when: any byte is flipped in any way (hypothesis searches positions and masks)
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(raw) - 1), st.integers(1, 255))
    def flip(position: int, mask: int) -> None:
        flipped = bytearray(raw)
        flipped[position] ^= mask
        try:
            tampered = json.loads(bytes(flipped))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return  # a file that is no longer JSON is refused outright
        # then: unless the flip left the same document (e.g. inside insignificant whitespace)
        if tampered != bundle:
            assert check(tampered, keys) != [], f"undetected flip at byte {position}"

    flip()


def test_cli_exports_and_verifies_a_bundle_and_fails_on_tampering(
    decided, disputes, tmp_path: Path, database
) -> None:
    # given
    case, _, keys = decided
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(keys))
    bundle_file = tmp_path / "bundle.json"
    bundle = disputes.app.disputes.export_bundle(case.id, OPERATOR)
    bundle_file.write_text(json.dumps(bundle))
    runner = CliRunner()
    # when
    ok = runner.invoke(
        cli, ["evidence", "verify", str(bundle_file), "--public-keys", str(keys_file)]
    )
    bundle["evidence"][0]["title"] = "forged"
    bundle_file.write_text(json.dumps(bundle))
    bad = runner.invoke(
        cli, ["evidence", "verify", str(bundle_file), "--public-keys", str(keys_file)]
    )
    # then
    assert ok.exit_code == 0, ok.output
    assert "bundle ok" in ok.stdout
    assert bad.exit_code == 1
    assert "bundle signature: invalid" in bad.stderr
    assert "evidence differs" in bad.stderr


def test_cli_exports_every_decided_case_and_verifies_with_the_keys_of_the_database(
    decided, disputes, tmp_path: Path, database
) -> None:
    # given: one decided case and one still open
    case, _, _ = decided
    disputes.file(disputes.shipped(), CaseType.NOT_RECEIVED)
    out_dir = tmp_path / "bundles"
    runner = CliRunner()
    # when
    exported = runner.invoke(
        cli, ["evidence", "export", "--all", "--out", str(out_dir), "--db", database.url]
    )
    # then: only the decided case, and it verifies
    assert exported.exit_code == 0, exported.output
    assert sorted(p.name for p in out_dir.iterdir()) == [f"{case.id}.json"]
    verified = runner.invoke(
        cli, ["evidence", "verify", str(out_dir / f"{case.id}.json"), "--db", database.url]
    )
    assert verified.exit_code == 0, verified.output


def test_cli_refuses_bad_requests_in_one_line(tmp_path: Path, database) -> None:
    # given
    runner = CliRunner()
    not_json = tmp_path / "bundle.json"
    not_json.write_text("{ nope")
    keys = tmp_path / "keys.json"
    keys.write_text("{}")
    # when
    neither = runner.invoke(cli, ["evidence", "export", "--db", database.url])
    broken = runner.invoke(cli, ["evidence", "verify", str(not_json), "--public-keys", str(keys)])
    unknown = runner.invoke(
        cli,
        ["evidence", "export", "dsp_nope", "--out", str(tmp_path / "x.json"), "--db", database.url],
    )
    # then
    for result, text in ((neither, "--all"), (broken, "is not JSON"), (unknown, "No dispute")):
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ")
        assert text in lines[0]
