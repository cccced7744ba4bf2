"""``tradeguard keys platform-*`` and ``tradeguard messages scan|verify``."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from tradeguard.adapters.cli.main import cli
from tradeguard.bootstrap import build_app
from tradeguard.kernel.parties import OPERATOR, buyer


def _invoke(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_platform_init_creates_the_key_once(tmp_path: Path) -> None:
    # given
    db = f"sqlite:///{tmp_path / 'tg.db'}"

    # when
    first = _invoke("keys", "platform-init", "--db", db)
    second = _invoke("keys", "platform-init", "--db", db)

    # then
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == json.loads(second.stdout)
    assert "created platform key" in first.stderr
    assert "already had" in second.stderr


def test_platform_rotate_keeps_old_public_keys(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tg.db'}"
    old = json.loads(_invoke("keys", "platform-init", "--db", db).stdout)
    new = json.loads(_invoke("keys", "platform-rotate", "--db", db).stdout)
    published = json.loads(_invoke("keys", "platform-public", "--db", db).stdout)
    assert old["key_id"] != new["key_id"]
    assert published == {
        old["key_id"]: old["public_key_b64"],
        new["key_id"]: new["public_key_b64"],
    }


def test_messages_scan_reads_json_lines_and_writes_one_verdict_per_line() -> None:
    # given
    lines = [
        {"text": "亲,您拍的宝贝价格标高了,请点击链接 http://taobao-tk.cn/x 重新拍下"},
        {"text": "好的,明天发货,谢谢亲", "sender_role": "seller"},
        {"text": "Please tell me the verification code you just received", "sender_role": "buyer"},
    ]
    stdin = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n"

    # when
    result = _invoke("messages", "scan", stdin=stdin)

    # then
    assert result.exit_code == 0, result.output
    verdicts = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(v) for v in verdicts] == [{"flagged", "reasons"}] * 3
    assert [v["flagged"] for v in verdicts] == [True, False, True]
    assert "reorder_link" in verdicts[0]["reasons"]
    assert verdicts[2]["reasons"] == ["verification_code"]


def test_messages_scan_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps({"text": "加我微信私聊,微信转账给你便宜"}) + "\n", encoding="utf-8")
    result = _invoke("messages", "scan", str(path))
    assert json.loads(result.stdout) == {
        "flagged": True,
        "reasons": ["off_platform_payment", "off_platform_contact"],
    }


def test_messages_scan_refuses_a_bad_line_in_one_line() -> None:
    result = _invoke("messages", "scan", stdin='{"text": "ok"}\n{"txt": 1}\n')
    assert result.exit_code != 0
    assert result.stderr.strip().splitlines() == [
        'error: line 2: expected an object with a string "text"'
    ]


def test_messages_verify_reports_a_tampered_conversation(tmp_path: Path) -> None:
    # given
    db = f"sqlite:///{tmp_path / 'tg.db'}"
    app = build_app(db)
    chat = app.messaging.start(OPERATOR, buyer_id="b1", seller_id="s1")
    app.messaging.post(buyer("b1"), chat.id, "hello")
    app.messaging.checkpoint(chat.id)
    assert _invoke("messages", "verify", chat.id, "--db", db).exit_code == 0
    with app.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE messages SET text = 'bye'")
    app.close()

    # when
    result = _invoke("messages", "verify", chat.id, "--db", db)

    # then
    assert result.exit_code != 0
    assert "message 1: content altered (hash mismatch)" in result.stdout
