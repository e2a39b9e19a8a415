"""The audit journal: a hash chain in SQLite, signed checkpoints, and verify naming the first
record that was tampered with."""

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.journal import Journal, verify


def make(tmp_path, payloads, *, checkpoint_every=10_000):
    tmp_path.mkdir(parents=True, exist_ok=True)
    journal = Journal(f"sqlite:///{tmp_path / 'journal.db'}", tmp_path / "journal.checkpoints",
                      tmp_path / "journal.key", checkpoint_every=checkpoint_every)
    for i, payload in enumerate(payloads, 1):
        journal.append("quote", "trader:alice", payload, ts_ns=1_000 + i, outcome="sent")
    journal.close(ts_ns=10**9)
    return tmp_path


def check(path):
    return verify(f"sqlite:///{path / 'journal.db'}", path / "journal.checkpoints",
                  path / "journal.pub")


def sql(path, statement, *args):
    with sqlite3.connect(path / "journal.db") as db:
        db.execute(statement, args)


def test_an_untouched_journal_verifies(tmp_path):
    path = make(tmp_path, [f"p{i}".encode() for i in range(500)])
    verdict = check(path)
    assert verdict.ok and verdict.records == 500 and verdict.checkpoints == 1


def test_a_changed_record_is_named(tmp_path):
    path = make(tmp_path, [f"p{i}".encode() for i in range(50)])
    sql(path, "UPDATE journal SET payload = ? WHERE seq = 17", b"forged")
    verdict = check(path)
    assert not verdict.ok and verdict.seq == 17 and "record 17 was changed" in verdict.problem


def test_a_deleted_record_is_named(tmp_path):
    path = make(tmp_path, [f"p{i}".encode() for i in range(50)])
    sql(path, "DELETE FROM journal WHERE seq = 23")
    verdict = check(path)
    assert verdict.seq == 23 and "record 23 is missing" in verdict.problem


def test_swapped_records_are_named(tmp_path):
    path = make(tmp_path, [f"p{i}".encode() for i in range(50)])
    with sqlite3.connect(path / "journal.db") as db:
        rows = {seq: row for seq, *row in db.execute(
            "SELECT seq, ts_ns, kind, actor, outcome, payload, prev_hash, hash FROM journal "
            "WHERE seq IN (10, 30)")}
        for seq, other in ((10, 30), (30, 10)):
            db.execute("UPDATE journal SET ts_ns=?, kind=?, actor=?, outcome=?, payload=?, "
                       "prev_hash=?, hash=? WHERE seq=?", (*rows[other], seq))
    verdict = check(path)
    assert verdict.seq == 10 and "record 10 does not follow record 9" in verdict.problem


def test_a_truncated_tail_is_caught_by_the_signed_checkpoint(tmp_path):
    path = make(tmp_path, [f"p{i}".encode() for i in range(50)])
    sql(path, "DELETE FROM journal WHERE seq > 45")
    verdict = check(path)
    assert verdict.seq == 46 and "records 46..50 are missing" in verdict.problem


def test_a_rewritten_chain_is_caught_by_the_signed_checkpoint(tmp_path):
    path = make(tmp_path / "a", [f"p{i}".encode() for i in range(20)])
    forged = make(tmp_path / "b", [b"forged" if i == 5 else f"p{i}".encode()
                                   for i in range(20)])
    # the forger rewrites the whole chain consistently, but cannot sign its head
    for suffix in ("", "-wal", "-shm"):
        (path / f"journal.db{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if (forged / f"journal.db{suffix}").exists():
            (path / f"journal.db{suffix}").write_bytes(
                (forged / f"journal.db{suffix}").read_bytes())
    verdict = check(path)
    assert not verdict.ok and "differs from its signed checkpoint" in verdict.problem


def test_a_forged_checkpoint_signature_is_caught(tmp_path):
    path = make(tmp_path, [b"x"] * 5)
    text = (path / "journal.checkpoints").read_text().replace('"signature":"',
                                                               '"signature":"00')
    (path / "journal.checkpoints").write_text(text)
    assert "bad signature" in check(path).problem


def test_a_journal_that_cannot_write_reports_it(tmp_path):
    journal = Journal(f"sqlite:///{tmp_path / 'journal.db'}", tmp_path / "cp",
                      tmp_path / "key")
    journal.append("a", "b", b"c", ts_ns=1)
    journal.flush()
    sql(tmp_path, "DROP TABLE journal")
    journal.append("a", "b", b"c", ts_ns=2)
    with pytest.raises(RuntimeError, match=r"cannot write records 2\.\.2"):
        journal.flush()
    assert not journal.healthy


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=2, max_size=40), st.data())
def test_any_change_delete_or_swap_is_caught(tmp_path_factory, payloads, data):
    path = make(tmp_path_factory.mktemp("j"), payloads)
    n = len(payloads)
    action = data.draw(st.sampled_from(["change", "delete", "swap", "none"]))
    i = data.draw(st.integers(1, n))
    if action == "change":
        old = payloads[i - 1]
        sql(path, "UPDATE journal SET payload = ? WHERE seq = ?", old + b"!", i)
    elif action == "delete":
        sql(path, "DELETE FROM journal WHERE seq = ?", i)
    elif action == "swap":
        j = data.draw(st.integers(1, n).filter(lambda x: x != i))
        lo, hi = sorted((i, j))
        with sqlite3.connect(path / "journal.db") as db:
            a = db.execute("SELECT payload FROM journal WHERE seq=?", (lo,)).fetchone()[0]
            b = db.execute("SELECT payload FROM journal WHERE seq=?", (hi,)).fetchone()[0]
            db.execute("UPDATE journal SET payload=? WHERE seq=?", (b, lo))
            db.execute("UPDATE journal SET payload=? WHERE seq=?", (a, hi))
        if a == b:
            action = "none"  # swapping equal payloads changes nothing
        i = lo
    verdict = check(path)
    if action == "none":
        assert verdict.ok
    else:
        assert not verdict.ok and verdict.seq == i
