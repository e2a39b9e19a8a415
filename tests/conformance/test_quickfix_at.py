"""QuickFIX's own acceptance tests for a FIX 4.4 acceptor (`../shared/conformance/
quickfix-at/`, unmodified), run by our runner against `mmgw sim fix-at` as a real process."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conformance.atrunner import AtFailure, patterns, run
from tests.integration.linkkit import MMGW, free_port

SUITE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "quickfix-at"
DEFINITIONS = sorted((SUITE / "fix44").glob("*.def"))


def test_the_suite_is_all_there():
    assert len(DEFINITIONS) == 59



@pytest.fixture(scope="module")
def acceptor(tmp_path_factory):
    port = free_port()
    proc = subprocess.Popen([str(MMGW), "sim", "fix-at", "--port", str(port), "--dir",
                             str(tmp_path_factory.mktemp("fixat"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening"), proc.stderr.read()
    yield port
    proc.terminate()
    assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize("definition", DEFINITIONS, ids=[d.stem for d in DEFINITIONS])
def test_acceptance_definition(acceptor, definition):
    run(definition, "127.0.0.1", acceptor, patterns(SUITE / "fields.fmt"))


def test_a_wrong_expectation_fails_naming_the_line(acceptor, tmp_path):
    """The runner compares: a definition expecting another heartbeat interval fails."""
    changed = tmp_path / "1a_changed.def"
    shutil.copy(SUITE / "fix44" / "1a_ValidLogonWithCorrectMsgSeqNum.def", changed)
    text = changed.read_text(encoding="latin-1")
    expected = next(line for line in text.splitlines() if line.startswith("E8=FIX.4.4"))
    changed.write_text(text.replace(expected, expected.replace("108=30", "108=31")),
                       encoding="latin-1")
    with pytest.raises(AtFailure, match=r"1a_changed.def:\d+: .*field 108 should be '31', "
                                        r"was '30'"):
        run(changed, "127.0.0.1", acceptor, patterns(SUITE / "fields.fmt"))
