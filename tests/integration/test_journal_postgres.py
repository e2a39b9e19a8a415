"""The journal against a real PostgreSQL server: a private cluster started for the test."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.journal import Journal, verify


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def postgres():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    assert binaries, "PostgreSQL is installed by ops/install-postgres.sh (make test runs it)"
    bin_dir = Path(binaries[-1])
    # the server runs as postgres, which cannot enter pytest's private temporary folders
    base = Path(tempfile.mkdtemp(prefix="mmgw-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    shutil.chown(base, "postgres")
    shutil.chown(sock, "postgres")
    os.chmod(base, 0o755)
    port = _free_port()
    _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
                 "-o", f"-p {port} -k {sock} -c listen_addresses=''", "start")
    url = f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with sa.create_engine(url).connect() as connection:
                connection.execute(sa.text("select 1"))
            break
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    yield url
    _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
    shutil.rmtree(base, ignore_errors=True)


def test_the_journal_chains_and_verifies_in_postgres(postgres, tmp_path):
    journal = Journal(postgres, tmp_path / "cp", tmp_path / "key", checkpoint_every=100)
    for i in range(1_000):
        journal.append("quote", "engine", f"payload {i}".encode(), ts_ns=i, outcome="sent")
    journal.close(ts_ns=10_000)
    verdict = verify(postgres, tmp_path / "cp", tmp_path / "key.pub")
    assert verdict.ok and verdict.records == 1_000 and verdict.checkpoints >= 2
    with sa.create_engine(postgres).begin() as connection:
        connection.execute(sa.text("UPDATE journal SET payload = 'x' WHERE seq = 500"))
    assert verify(postgres, tmp_path / "cp", tmp_path / "key.pub").seq == 500
