"""test_crash.py - crash safety of the whole system (issue 3 acceptance): kill -9 under load.

The system (`postern start` on the re-rooted HOWTO setup) receives numbered messages from 20
client threads; once enough have been accepted, the master and all its children are killed with
SIGKILL at once (their process group, plus anything of this system still found in /proc). Then
`postern start` again, wait until `postern queue` is empty, and count the delivered copies of
each message number in the Maildirs: every message that got its 250 is there exactly once; a
message whose 250 never arrived (DATA ended, then the connection died) is there at most once;
no message is ever there twice, even when the kill came between an agent's delivery and the
queue manager's record of it (the retry finds the earlier copy).
"""
import os
import re
import shutil
import signal
import smtplib
import subprocess
import threading
import time

import pytest

from conftest import mbox_quote, strip_added_headers, wait_for

SENDER = "sender@example.net"
CLIENTS = 20
PER_CLIENT = 200            # upper bound; the kill comes long before
KILL_AFTER = 150            # accepted messages before the kill
# Maildir recipients only: john directly, and through the johnsmith alias
RCPTS = ("john@example.org", "johnsmith@example.org")
JANE_BOX = "example.org/jane"


def message(num):
    return (b"From: <sender@example.net>\r\nTo: <john@example.org>\r\nSubject: crash %05d\r\n"
            b"Message-ID: <crash-%05d@client.example>\r\n\r\nmessage number %05d\r\n" % (num, num, num)
            + b"filler line\r\n" * 50)


class Load:
    """CLIENTS threads sending numbered messages until the server goes away.
    state[num]: 'acked' (250 received), 'unknown' (the end of DATA may have been sent, no reply),
    'rejected' (another reply)"""

    def __init__(self, sy):
        self.sy = sy
        self.state = {}
        self.qid = {}  # num -> queue id from the 250 reply
        self.lock = threading.Lock()
        self.errors = []
        self.threads = [threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(CLIENTS)]

    def acked(self):
        with self.lock:
            return sum(1 for s in self.state.values() if s == "acked")

    def client(self, n):
        try:
            c = self.sy.smtp(timeout=30)
            c.ehlo("c%d.example" % n)
        except OSError:
            return  # the server is already gone: nothing was sent
        for i in range(PER_CLIENT):
            num = n * PER_CLIENT + i
            try:
                c.mail(SENDER)
                code, _ = c.rcpt(RCPTS[num % 2])
                if code != 250:
                    with self.lock:
                        self.errors.append((num, "rcpt", code))
                    return
            except (OSError, smtplib.SMTPException):
                return  # nothing of this message was sent: it cannot be delivered
            with self.lock:
                self.state[num] = "unknown"  # from here on the server may have the message
            try:
                code, text = c.data(message(num))
            except (OSError, smtplib.SMTPException):
                return
            with self.lock:
                self.state[num] = "acked" if code == 250 else "rejected"
                self.qid[num] = text.split()[-1].decode(errors="replace")
                if code != 250:
                    self.errors.append((num, "data", code, text))
            if code != 250:
                return

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout):
        end = time.time() + timeout
        for t in self.threads:
            t.join(max(0.1, end - time.time()))
        return not any(t.is_alive() for t in self.threads)


def delivered_files(sy):
    """message number -> [Maildir files holding it], over every Maildir under the spool"""
    files = {}
    for f in sy.spool.glob("example.org/*/new/*"):
        m = re.search(rb"(?m)^Subject: crash (\d{5})$", f.read_bytes())
        assert m, f
        files.setdefault(int(m.group(1)), []).append(f)
    return files


def delivered_numbers(sy):
    """message number -> copies"""
    return {n: len(fs) for n, fs in delivered_files(sy).items()}


def lost_story(sy, load, lost):
    """what the log and the queue say about lost messages (for the failure report)"""
    out = []
    for n in lost:
        qid = load.qid.get(n, "?")
        out.append("%d %s: %s" % (n, qid, [ln for ln in sy.log().splitlines() if qid in ln]))
        out.append("in queue: %s" % [str(p) for p in sy.queue.glob("*/%s*" % qid)])
    out.append("corrupt: %s" % [p.name for p in (sy.queue / "corrupt").iterdir()])
    out.append("maildir tmp: %s" % [p.name for p in sy.spool.glob("example.org/*/tmp/*")])
    return "\n".join(out)


def test_kill9_under_load_loses_and_duplicates_nothing(howto):
    sy = howto()
    load = Load(sy)
    t0 = time.time()
    load.start()
    assert wait_for(lambda: load.acked() >= KILL_AFTER, timeout=40, interval=0.02), \
        (load.acked(), load.errors, sy.log()[-2000:])
    old = sy.processes()
    assert len(old) >= 4, old  # master, smtpd, qmgr, virtual
    sy.kill9()
    assert load.join(timeout=60), "client threads did not end after the kill"
    assert not load.errors, load.errors[:5]
    acked = sorted(n for n, s in load.state.items() if s == "acked")
    unknown = sorted(n for n, s in load.state.items() if s == "unknown")
    assert len(acked) >= KILL_AFTER
    before = delivered_numbers(sy)
    print("acked %d, unknown %d, delivered before the restart %d" % (len(acked), len(unknown), len(before)))

    sy.start()
    assert not set(sy.processes()) & set(old)
    assert wait_for(sy.queue_empty, timeout=60, interval=0.2), (sy.queue_text(), sy.log()[-3000:])
    files = delivered_files(sy)
    counts = {n: len(fs) for n, fs in files.items()}
    twice = {n: c for n, c in counts.items() if c > 1}
    # a copy the killed agent delivered and the killed queue manager had not recorded is found by the
    # retry (the Maildir name is derived from queue id and recipient), never written a second time
    assert not twice, ("delivered more than once", twice)
    lost = [n for n in acked if counts.get(n, 0) == 0]  # more than once: checked above
    assert not lost, ("acknowledged with 250 but not delivered", lost, lost_story(sy, load, lost))
    assert not list((sy.queue / "corrupt").iterdir())
    stray = set(counts) - set(acked) - set(unknown)
    assert not stray, ("delivered but never sent", stray)
    # the log tells the story: both masters started, the old services died without a goodbye
    assert sy.log().count("daemon started -- version") == 2
    assert time.time() - t0 < 120


def unix_recvq(path):
    """bytes waiting in the receive queues of unix stream sockets bound to path (iproute2 `ss`)"""
    out = subprocess.run(["ss", "-x", "-a", "-n"], capture_output=True, text=True, timeout=30).stdout
    total = 0
    for line in out.splitlines()[1:]:
        f = line.split()
        if len(f) >= 5 and f[0] == "u_str" and f[4] == path:
            total += int(f[2])
    return total


def mbox_numbers(sy):
    """message number -> copies in jane's mbox"""
    out = {}
    for _, m in sy.mbox(JANE_BOX):
        n = int(re.search(rb"(?m)^Subject: crash (\d{5})$", m).group(1))
        out[n] = out.get(n, 0) + 1
    return out


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss to see the request queued")
@pytest.mark.parametrize("rcpt", ["john@example.org", "jane@example.org"])
def test_kill9_between_delivery_and_status_record(howto, rcpt):
    """The window test_kill9_under_load hits at random, made certain: the agent is stopped while
    the request waits in its socket, the queue manager is stopped, the agent resumes and delivers,
    and everything is killed before the queue manager can record the result. After the restart
    the message is recovered from active/ and the agent, asked to recheck, finds its copy: once
    in the Maildir (john) and once in the mbox (jane), however much was appended after it."""
    sy = howto()
    count = delivered_numbers if rcpt.startswith("john") else mbox_numbers
    c = sy.smtp()
    assert c.sendmail(SENDER, [rcpt], message(1)) == {}  # qmgr connects to the agent
    assert wait_for(lambda: count(sy) == {1: 1} and sy.queue_empty(), timeout=30)
    agents, qmgrs = sy.service_pids("virtual"), sy.service_pids("qmgr")
    assert agents and qmgrs
    vsock = str(sy.queue / "private" / "virtual")
    try:
        for p in agents:
            os.kill(p, signal.SIGSTOP)
        assert c.sendmail(SENDER, [rcpt], message(2)) == {}  # 250: durable in the queue
        c.quit()
        assert wait_for(lambda: unix_recvq(vsock) > 0, timeout=30), "no request reached the agent"
        for p in qmgrs:
            os.kill(p, signal.SIGSTOP)
        for p in agents:
            os.kill(p, signal.SIGCONT)
        assert wait_for(lambda: count(sy) == {1: 1, 2: 1}, timeout=30)
    finally:
        sy.kill9()  # SIGKILL ends stopped processes too
    assert count(sy) == {1: 1, 2: 1}
    assert len(list((sy.queue / "active").iterdir())) == 1  # the recipient is not marked
    started = len(sy.log())
    sy.start()
    assert wait_for(sy.queue_empty, timeout=60, interval=0.2), (sy.queue_text(), sy.log()[-3000:])
    # later mail goes on arriving normally
    c = sy.smtp()
    assert c.sendmail(SENDER, [rcpt], message(3)) == {}
    c.quit()
    assert wait_for(lambda: count(sy).get(3) == 1 and sy.queue_empty(), timeout=30)
    assert count(sy) == {1: 1, 2: 1, 3: 1}, "message 2 got its 250 once and must be delivered once"
    assert "(the copy of an earlier attempt)" in sy.log()[started:]


def test_kill9_during_mbox_delivery(howto):
    """kill -9 while the agent holds jane's dotlock; after the restart the accepted message is
    delivered to the mbox (once, complete) and the queue empties within a minute"""
    sy = howto()
    c = sy.smtp(timeout=120)
    assert c.sendmail(SENDER, ["john@example.org"], message(1)) == {}  # example.org/ exists
    assert wait_for(lambda: len(sy.maildir()) == 1 and sy.queue_empty(), timeout=30)
    lock = sy.spool / "example.org" / "jane.lock"
    big = (b"From: <sender@example.net>\r\nTo: <jane@example.org>\r\nSubject: big for jane\r\n\r\n" +
           b"From here on a long line of text, quoted in the mbox\r\n" * 150000)  # 8 MB
    caught = False
    for attempt in range(10):  # a 8 MB mbox delivery holds the lock long enough to be seen
        before = (sy.spool / JANE_BOX).stat().st_size if (sy.spool / JANE_BOX).exists() else 0
        assert c.sendmail(SENDER, ["jane@example.org"], big) == {}
        end = time.time() + 60
        while time.time() < end and not lock.exists():
            if (sy.spool / JANE_BOX).exists() and (sy.spool / JANE_BOX).stat().st_size > before \
                    and sy.queue_empty():
                break  # delivered before we looked: try again
            time.sleep(0.001)
        if lock.exists():
            sy.kill9()
            caught = True
            break
    assert caught, "never saw the agent hold the dotlock"
    c.close()
    assert lock.exists()  # what a killed agent leaves behind
    started = len(sy.log())
    sy.start()
    # the first outcome for jane after the restart: delivered, or (the bug) deferred on the lock
    assert wait_for(lambda: "to=<jane@example.org>" in sy.log()[started:], timeout=60, interval=0.2)
    assert "unable to create lock file" not in sy.log()[started:], sy.log()[started:][-1500:]
    assert wait_for(sy.queue_empty, timeout=60, interval=0.2), (sy.queue_text()[:2000], sy.log()[-2000:])
    # every accepted copy complete, once; nothing half-written before the kill left in between
    msgs = sy.mbox(JANE_BOX)
    assert len(msgs) == attempt + 1, len(msgs)
    for _, stored in msgs:
        assert strip_added_headers(stored)[1] == mbox_quote(big.replace(b"\r\n", b"\n"))
