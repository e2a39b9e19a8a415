"""Record files: resume after restarts, torn, corrupt, duplicated and out-of-order records."""

import pytest

from adapters.stepfile.files import (
    LinkGapError,
    StepFileReader,
    StepFileWriter,
    file_path,
)

TIME = "20261123-01:30:00.000000000"


def write(path, count, start_text="hello"):
    writer = StepFileWriter(path, sender="MM01", target="SSE")
    for i in range(count):
        writer.append("j", [(379, f"{start_text}{i}"), (380, "0"), (58, "x")], TIME)
    writer.flush()
    writer.close()


def texts(received):
    return [r.message.get(379) for r in received]


def test_records_arrive_in_order_and_a_restarted_reader_resumes(tmp_path):
    path = file_path(tmp_path, "execreport")
    write(path, 3)
    reader = StepFileReader(path, "gw")
    assert texts(reader.poll()) == ["hello0", "hello1", "hello2"]
    reader.commit()
    write(path, 2, "more")
    again = StepFileReader(path, "gw")  # a restart: the saved position
    got = again.poll()
    assert texts(got) == ["more0", "more1"]
    assert [r.seq for r in got] == [4, 5]


def test_a_reader_that_did_not_commit_sees_the_batch_again(tmp_path):
    path = file_path(tmp_path, "execreport")
    write(path, 2)
    StepFileReader(path, "gw").poll()  # crashed before commit
    assert texts(StepFileReader(path, "gw").poll()) == ["hello0", "hello1"]
    # unless its consumer says it has handled them
    assert texts(StepFileReader(path, "gw", skip_through=1).poll()) == ["hello1"]


def test_a_restarted_writer_continues_the_numbers_and_cuts_a_torn_tail(tmp_path):
    path = file_path(tmp_path, "reqresp")
    write(path, 2)
    with path.open("ab") as fh:
        fh.write(b"3\t8=FIXT.1.1\x019=5")  # a crash in the middle of a write
    write(path, 1, "after")
    reader = StepFileReader(path, "sim")
    got = reader.poll()
    assert [r.seq for r in got] == [1, 2, 3]
    assert texts(got) == ["hello0", "hello1", "after0"]
    assert reader.rejected == 0


def test_a_torn_last_record_is_waited_for_not_parsed(tmp_path):
    path = file_path(tmp_path, "pubdata")
    write(path, 1)
    whole = path.read_bytes()
    write(path, 1, "second")
    data = path.read_bytes()
    second = data[len(whole):]
    path.write_bytes(whole + second[:20])
    reader = StepFileReader(path, "gw")
    assert texts(reader.poll()) == ["hello0"]
    assert reader.poll() == []
    with path.open("ab") as fh:
        fh.write(second[20:])
    assert texts(reader.poll()) == ["second0"]
    assert reader.rejected == 0


def test_a_corrupt_record_goes_to_rejects_with_line_and_reason_and_the_link_goes_on(tmp_path):
    path = file_path(tmp_path, "execreport")
    write(path, 3)
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"hello1", b"hellO1")
    path.write_bytes(b"\n".join(lines))
    reader = StepFileReader(path, "gw")
    assert texts(reader.poll()) == ["hello0", "hello2"]
    rejects = (tmp_path / "rejects.log").read_text(encoding="utf-8")
    assert "execreport.step:2: record 2: tag 10" in rejects and "CheckSum mismatch" in rejects


def test_a_duplicated_record_is_skipped_and_reported(tmp_path):
    path = file_path(tmp_path, "execreport")
    write(path, 2)
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], lines[1], lines[1], b""]))
    write(path, 1, "third")
    reader = StepFileReader(path, "gw")
    assert texts(reader.poll()) == ["hello0", "hello1", "third0"]
    assert reader.duplicates == 1
    assert "record 2: duplicate of record 2, skipped" in (
        tmp_path / "rejects.log").read_text(encoding="utf-8")


def test_an_out_of_order_record_stops_the_link_after_what_came_before(tmp_path):
    path = file_path(tmp_path, "execreport")
    write(path, 3)
    lines = path.read_bytes().split(b"\n")
    path.write_bytes(b"\n".join([lines[0], lines[2], lines[1], b""]))
    reader = StepFileReader(path, "gw")
    assert texts(reader.poll()) == ["hello0"]
    with pytest.raises(LinkGapError, match=r"record 3 follows 1: records 2\.\.2 are missing"):
        reader.poll()


def test_a_record_whose_header_number_disagrees_is_rejected(tmp_path):
    path = file_path(tmp_path, "execreport")
    write(path, 2)
    lines = path.read_bytes().split(b"\n")
    lines[1] = b"2" + lines[1][1:].replace(b"\t", b"\t", 1)
    other = lines[0].split(b"\t", 1)[1]  # record 1's message (MsgSeqNum 1) as record 2
    lines[1] = b"2\t" + other
    path.write_bytes(b"\n".join(lines))
    reader = StepFileReader(path, "gw")
    assert [r.seq for r in reader.poll()] == [1]
    assert "MsgSeqNum 1 is not the record number" in (
        tmp_path / "rejects.log").read_text(encoding="utf-8")
