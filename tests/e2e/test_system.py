"""test_system.py - the whole mail system, started by `postern start`, on the HOWTO's files.

SMTP in (smtplib), through smtpd, the queue, qmgr and the virtual agent, into Maildir and mbox
under virtual_mailbox_base, owned by the virtual uid; Postfix-style log lines from every process.
"""
import os
import pathlib
import shutil
import tempfile
import pwd
import smtplib
import time

import pytest

from conftest import VUID, Postern, free_port, wait_for


@pytest.fixture
def workdir():
    # the services run as mail_owner: like /etc/postern, the configuration must be readable by
    # them, which pytest's tmp_path (under a 0700 directory) is not
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-system-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def system(howto):
    sy = howto()
    yield sy.pn, sy.port, sy.spool, VUID, sy.maillog


def maildir_files(spool, box):
    d = spool / box / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


def test_howto_mail_arrives(system):
    pn, port, spool, vuid, maillog = system
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    # team@ expands to john and jane; johnsmith@ is john again: john gets one copy
    refused = s.sendmail("sender@example.net", ["team@example.org", "johnsmith@example.org"],
                         b"Subject: to the team\r\n\r\nhello team\r\n\xc3\xa9t\xc3\xa9 8bit\r\n")
    assert refused == {}
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        s.sendmail("sender@example.net", ["nobody@example.org"], "Subject: x\r\n\r\nx\r\n")
    code, text = e.value.recipients["nobody@example.org"]
    assert code == 550 and b"User unknown in virtual mailbox table" in text
    s.quit()

    assert wait_for(lambda: len(maildir_files(spool, "example.org/john")) == 1
                    and (spool / "example.org/jane").exists())
    time.sleep(0.5)
    files = maildir_files(spool, "example.org/john")
    assert len(files) == 1, files  # delivered once, not once per alias
    data = files[0].read_bytes()
    assert data.startswith(b"Return-Path: <sender@example.net>\nDelivered-To: john@example.org\nReceived: from ")
    assert b"\n\nhello team\n\xc3\xa9t\xc3\xa9 8bit\n" in data  # byte-exact body, LF line ends
    st = files[0].stat()
    assert (st.st_uid, oct(st.st_mode & 0o777)) == (vuid, "0o600")
    assert files[0].name.endswith(f",S={len(data)}")
    mbox = (spool / "example.org/jane").read_bytes()
    assert mbox.startswith(b"From sender@example.net ") and b"Delivered-To: jane@example.org\n" in mbox
    assert mbox.endswith(b"\n\n")

    log = maillog.read_text()
    for needle in ("postern/master[", "daemon started", "postern/smtpd[", "connect from unknown[127.0.0.1]",
                   "postern/qmgr[", "nrcpt=", "postern/virtual[", "to=<john@example.org>, orig_to=<team@example.org>",
                   "status=sent (delivered to maildir)", "status=sent (delivered to mailbox)", ": removed"):
        assert needle in log, (needle, log)
    assert pn.run("queue", check=True).stdout.strip() == "Mail queue is empty"


@pytest.mark.skipif(os.geteuid() != 0, reason="privilege drop needs root")
def test_services_run_unprivileged(system):
    pn, port, spool, vuid, maillog = system
    nobody = pwd.getpwnam("nobody").pw_uid
    pid = int(pn.run("status", check=True).stdout.split("PID:")[1])

    def service_uids():
        uids = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                status = open(f"/proc/{entry}/status").read()
                cmd = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            ppid = int(status.split("PPid:")[1].split()[0])
            if ppid == pid and b"service" in cmd:
                uids[cmd[cmd.index(b"service") + 1].decode()] = int(status.split("Uid:")[1].split()[0])
        return uids
    # `start` returns once the services are forked, not exec'ed: wait for all of them
    wait_for(lambda: {"smtpd", "qmgr", "virtual", "local"} <= set(service_uids()))
    uids = service_uids()
    # network-facing and queue processes never run as root; the delivery agents switch per delivery
    assert uids.get("smtpd") == nobody and uids.get("qmgr") == nobody, uids
    assert uids.get("virtual") == 0 and uids.get("local") == 0, uids


def test_parallel_clients_delivered_exactly_once(system):
    pn, port, spool, vuid, maillog = system
    import threading
    errors = []

    def client(n):
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=30)
            for i in range(10):
                s.sendmail("sender@example.net", ["john@example.org"], f"Subject: {n}-{i}\r\n\r\nbody {n}-{i}\r\n")
            s.quit()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert wait_for(lambda: len(maildir_files(spool, "example.org/john")) >= 200, timeout=60)
    time.sleep(1)
    subjects = sorted(f.read_bytes().split(b"Subject: ")[1].split(b"\n")[0] for f in maildir_files(spool, "example.org/john"))
    assert len(subjects) == 200 and len(set(subjects)) == 200


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a configuration the services cannot read")
def test_service_startup_error_is_logged(workdir):
    etc = workdir / "etc"
    etc.mkdir()
    port = free_port()
    (etc / "main.cf").write_text(f"queue_directory = {workdir}/queue\nmaillog_file = {workdir}/maillog\n"
                                 "mail_owner = nobody\nmydestination = localhost\n")
    (etc / "master.cf").write_text(f"127.0.0.1:{port} inet n - n - - smtpd\n")
    os.chmod(etc, 0o700)  # readable by the root master only: the services fail at start
    pn = Postern(etc)
    pn.run("start", check=True)
    try:
        log = workdir / "maillog"
        # the reason reaches the log (the services' stderr), not /dev/null
        assert wait_for(lambda: "cannot load the configuration" in log.read_text()), log.read_text()
        assert wait_for(lambda: "exit status" in log.read_text()), log.read_text()
    finally:
        pn.run("stop")
