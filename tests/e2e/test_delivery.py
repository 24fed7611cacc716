"""test_delivery.py - the virtual delivery agent (`postern service virtual`) end to end.

A re-rooted HOWTO configuration (tables built with postmap), a queue file written in Postern's
queue format (qfile.h) into active/, and requests sent over private/virtual in the dlvproto
format (dlvproto.h) as the queue manager sends them. Checks the Maildir and mbox results, the
owner (virtual_uid_maps) and mode, the prepended Return-Path:/Delivered-To:, unknown users,
virtual_minimum_uid, and that a malformed request is fatal for the agent. Then the queue
manager with the agent: alias fan-out, bounces, deferral and flush, concurrent deliveries, and
local recipients routed to private/local.
"""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from conftest import HOWTO, Postern, postern_bin

ROOT_RUN = os.geteuid() == 0
VUID = 5000 if ROOT_RUN else os.getuid()
VGID = 5000 if ROOT_RUN else os.getgid()


def qfile(qid, sender, rcpts, content):
    """A queue file (qfile.h layout) with pending recipients [(orig, addr)]."""
    def rec(t, payload):
        return t + struct.pack(">I", len(payload)) + payload

    def s(x):
        x = x.encode()
        return struct.pack(">H", len(x)) + x

    out = b"POSTERN-QUEUE 1\n"
    out += rec(b"T", struct.pack(">Q", int(time.time() * 1e6)))
    out += rec(b"I", qid.encode()) + rec(b"S", sender.encode())
    out += rec(b"C", s("127.0.0.1") + s("localhost") + s("test") + s("ESMTP") + s(""))
    out += rec(b"P", bytes([0, 0, 0]) + s(""))
    for orig, addr in rcpts:
        slot = b"P" + bytes(12) + b"\0\0" + bytes(300)
        out += rec(b"R", bytes([0]) + s(orig) + s(addr) + s("") + slot)
    out += rec(b"M", content) + rec(b"E", struct.pack(">IQ", len(rcpts), len(content)))
    return out


def request(qid, idx, addr, orig, queue="active", flags=0):
    def s(x):
        x = x.encode()
        return struct.pack(">H", len(x)) + x
    body = b"Q\x02" + s(qid) + s(queue) + struct.pack(">I", idx) + s(addr) + s(orig) + bytes([flags])
    return struct.pack(">I", len(body)) + body


def read_reply(sock):
    def exact(n):
        b = b""
        while len(b) < n:
            c = sock.recv(n - len(b))
            assert c, "agent closed the connection"
            b += c
        return b
    n = struct.unpack(">I", exact(4))[0]
    body = exact(n)
    assert body[:2] == b"A\x02"
    status = chr(body[2])
    dl = struct.unpack(">H", body[3:5])[0]
    dsn = body[5:5 + dl].decode()
    tl = struct.unpack(">H", body[5 + dl:7 + dl])[0]
    text = body[7 + dl:7 + dl + tl].decode()
    fl = struct.unpack(">H", body[7 + dl + tl:9 + dl + tl])[0]
    assert 9 + dl + tl + fl == len(body)  # the forward id: only the local agent sets it
    return status, dsn, text


def start_agent(qmgr=False):
    top = tempfile.mkdtemp(prefix="postern-dlv-")
    os.chmod(top, 0o755)
    etc = os.path.join(top, "etc")
    spool = os.path.join(top, "spool")
    queue = os.path.join(top, "queue")
    os.mkdir(etc)
    os.mkdir(spool, 0o755)
    for name in ("main.cf", "virtual_mailbox", "virtual_alias"):
        text = (HOWTO / name).read_text()
        text = text.replace("/etc/postfix", etc).replace("/var/spool/mail", spool)
        if name == "main.cf":
            text += "\nqueue_directory = %s\nmail_owner = %s\n" % (
                queue, "nobody" if ROOT_RUN else os.environ.get("USER", "root"))
            text += "virtual_uid_maps = static:%d\nvirtual_gid_maps = static:%d\n" % (VUID, VGID)
            text += "virtual_minimum_uid = %d\n" % min(VUID, 100)
        with open(os.path.join(etc, name), "w") as f:
            f.write(text)
    with open(os.path.join(etc, "master.cf"), "w") as f:
        f.write("")
    # the mailbox owner must be able to create its mailboxes
    dom = os.path.join(spool, "example.org")
    os.mkdir(dom, 0o700)
    if ROOT_RUN:
        os.chown(dom, VUID, VGID)
    pn = Postern(etc)
    pn.run("postmap", os.path.join(etc, "virtual_mailbox"), check=True)
    pn.run("postmap", os.path.join(etc, "virtual_alias"), check=True)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    env.pop("POSTERN_LISTEN_FDS", None)
    proc = subprocess.Popen([postern_bin(), "-c", etc, "service", "virtual"], env=env,
                            stderr=subprocess.PIPE, text=True)
    path = os.path.join(queue, "private", "virtual")
    for _ in range(200):
        if os.path.exists(path):
            break
        time.sleep(0.05)
    assert os.path.exists(path), proc.stderr.read() if proc.poll() is not None else "no socket"
    a = {"top": top, "etc": etc, "spool": spool, "queue": queue, "path": path, "proc": proc, "qmgr": None}
    if qmgr:
        a["qmgr"] = subprocess.Popen([postern_bin(), "-c", etc, "service", "qmgr"], env=env,
                                     stderr=subprocess.PIPE, text=True)
        wait_for(lambda: os.path.exists(os.path.join(queue, "public", "qmgr")), a["qmgr"])
    return a


def stop(a):
    for k in ("qmgr", "proc"):
        p = a[k]
        if p and p.poll() is None:
            p.terminate()
            p.wait(10)
    shutil.rmtree(a["top"])


def wait_for(cond, proc=None, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        assert proc is None or proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    return False


@pytest.fixture
def agent():
    a = start_agent()
    yield a
    stop(a)


@pytest.fixture
def mta():
    a = start_agent(qmgr=True)
    yield a
    stop(a)


def put_queue_file(a, qid, sender, rcpts, content=b"Subject: hi\n\nhello\nFrom me\n"):
    active = os.path.join(a["queue"], "active")
    with open(os.path.join(active, qid), "wb") as f:
        f.write(qfile(qid, sender, rcpts, content))


def ask(a, *reqs):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(a["path"])
    out = []
    for r in reqs:
        s.sendall(r)
        out.append(read_reply(s))
    s.close()
    return out


def test_socket_mode(agent):
    st = os.stat(agent["path"])
    assert st.st_mode & 0o777 == 0o600
    if ROOT_RUN:
        import pwd
        assert st.st_uid == pwd.getpwnam("nobody").pw_uid  # mail_owner


def test_maildir_and_mbox_delivery(agent):
    qid = "4jZ5pv083N054fnj"
    put_queue_file(agent, qid, "jane@example.org",
                   [("johnsmith@example.org", "john@example.org"), ("jane@example.org", "jane@example.org")])
    r = ask(agent, request(qid, 0, "john@example.org", "johnsmith@example.org"),
            request(qid, 1, "jane@example.org", "jane@example.org"))
    assert r[0] == ("O", "2.0.0", "delivered to maildir"), r
    assert r[1] == ("O", "2.0.0", "delivered to mailbox")
    new = os.path.join(agent["spool"], "example.org", "john", "new")
    files = os.listdir(new)
    assert len(files) == 1
    p = os.path.join(new, files[0])
    st = os.stat(p)
    assert st.st_uid == VUID and st.st_mode & 0o777 == 0o600
    data = open(p, "rb").read()
    assert data.startswith(b"Return-Path: <jane@example.org>\nDelivered-To: john@example.org\n")
    assert data.endswith(b"hello\nFrom me\n")
    mbox = os.path.join(agent["spool"], "example.org", "jane")
    data = open(mbox, "rb").read()
    assert data.startswith(b"From jane@example.org ")
    assert b"\nDelivered-To: jane@example.org\n" in data and b"\n>From me\n" in data
    assert os.stat(mbox).st_uid == VUID
    agent["proc"].terminate()
    err = agent["proc"].communicate(timeout=10)[1]
    assert ("%s: to=<john@example.org>, orig_to=<johnsmith@example.org>, relay=virtual" % qid) in err
    assert "status=sent (delivered to maildir)" in err


def test_unknown_user_bounces(agent):
    qid = "4jZ5pv083N054fnk"
    put_queue_file(agent, qid, "jane@example.org", [("nobody@example.org", "nobody@example.org")])
    r = ask(agent, request(qid, 0, "nobody@example.org", "nobody@example.org"))
    assert r == [("B", "5.1.1", 'unknown user: "nobody@example.org"')]


def test_unwritable_mailbox_defers(agent):
    if not ROOT_RUN:
        pytest.skip("needs a uid that cannot write the spool")
    os.chown(os.path.join(agent["spool"], "example.org"), 0, 0)
    qid = "4jZ5pv083N054fnl"
    put_queue_file(agent, qid, "", [("john@example.org", "john@example.org")])
    r = ask(agent, request(qid, 0, "john@example.org", "john@example.org"))
    assert r[0][0] == "D" and r[0][1].startswith("4."), r
    assert "maildir delivery failed" in r[0][2]


def test_missing_queue_file_defers(agent):
    r = ask(agent, request("4jZ5pv083N054fnm", 0, "john@example.org", "john@example.org"))
    assert r[0][0] == "D" and "cannot open queue file" in r[0][2]


def test_malformed_request_is_fatal(agent):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(agent["path"])
    body = b"Q\x02" + b"\x00\x03a/b"
    s.sendall(struct.pack(">I", len(body)) + body)
    agent["proc"].wait(10)
    assert agent["proc"].returncode != 0
    assert "bad request from qmgr" in agent["proc"].stderr.read()


# --- the queue manager and the agent together --------------------------------------------------

SEQ = iter("bcdfghjklmnpqrstvwxyz")


def inject(a, sender, rcpts, content=b"Subject: hi\n\nhello\n"):
    """Commit a queue file to incoming/ as smtpd does and notify the queue manager."""
    qid = "4jZ5pv083N054f" + next(SEQ) + "b"
    inc = os.path.join(a["queue"], "incoming")
    with open(os.path.join(inc, qid + ".tmp"), "wb") as f:
        f.write(qfile(qid, sender, [(r, r) for r in rcpts], content))
    os.rename(os.path.join(inc, qid + ".tmp"), os.path.join(inc, qid))
    notify(a, "I" + qid)
    return qid


def notify(a, text):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(text.encode(), os.path.join(a["queue"], "public", "qmgr"))
    s.close()


def queue_files(a, q):
    return [f for f in os.listdir(os.path.join(a["queue"], q)) if not f.endswith(".tmp")]


def queue_empty(a):
    return all(not queue_files(a, q) for q in ("incoming", "active", "deferred"))


def maildir_new(a, user):
    d = os.path.join(a["spool"], "example.org", user, "new")
    return [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))] if os.path.isdir(d) else []


def mbox(a, user="jane"):
    p = os.path.join(a["spool"], "example.org", user)
    return open(p, "rb").read() if os.path.exists(p) else b""


def test_qmgr_delivers_alias_fanout_once(mta):
    inject(mta, "someone@example.net", ["team@example.org", "john@example.org", "johnsmith@example.org"])
    assert wait_for(lambda: queue_empty(mta), mta["qmgr"])
    john = maildir_new(mta, "john")
    assert len(john) == 1, john
    assert john[0].startswith(b"Return-Path: <someone@example.net>\nDelivered-To: john@example.org\n")
    assert mbox(mta).count(b"\nDelivered-To: jane@example.org\n") == 1
    mta["qmgr"].terminate()
    err = mta["qmgr"].communicate(timeout=10)[1]
    assert "from=<someone@example.net>, size=" in err and "nrcpt=3 (queue active)" in err
    assert ": removed" in err


def test_qmgr_bounces_unknown_user_to_local_sender(mta):
    inject(mta, "jane@example.org", ["nobody@example.org"])
    assert wait_for(lambda: b"multipart/report" in mbox(mta) and queue_empty(mta), mta["qmgr"])
    box = mbox(mta)
    assert box.startswith(b"From MAILER-DAEMON ")
    assert b"nobody@example.org" in box and b"5.1.1" in box


def test_qmgr_never_bounces_null_sender(mta):
    qid = inject(mta, "", ["nobody@example.org"])
    assert wait_for(lambda: queue_empty(mta), mta["qmgr"])
    time.sleep(0.3)
    assert queue_empty(mta) and mbox(mta) == b""
    mta["qmgr"].terminate()
    err = mta["qmgr"].communicate(timeout=10)[1]
    assert qid + ": removed" in err and "non-delivery notification" not in err


def test_qmgr_defers_then_flush_delivers_once(mta):
    if not ROOT_RUN:
        pytest.skip("needs a uid that cannot write the spool")
    dom = os.path.join(mta["spool"], "example.org")
    os.chown(dom, 0, 0)
    qid = inject(mta, "someone@example.net", ["john@example.org"])
    assert wait_for(lambda: queue_files(mta, "deferred") == [qid], mta["qmgr"])
    st = os.stat(os.path.join(mta["queue"], "deferred", qid))
    assert st.st_mtime > time.time() + 200  # next retry: minimal_backoff_time (300s) away
    out = Postern(mta["etc"]).run("queue").stdout
    assert "(maildir delivery failed" in out and "john@example.org" in out, out
    notify(mta, "I" + qid)  # not due: a wake-up does not retry it
    time.sleep(0.3)
    assert queue_files(mta, "deferred") == [qid] and maildir_new(mta, "john") == []
    os.chown(dom, VUID, VGID)
    notify(mta, "F")
    assert wait_for(lambda: queue_empty(mta), mta["qmgr"])
    notify(mta, "F")
    time.sleep(0.3)
    assert len(maildir_new(mta, "john")) == 1


def test_qmgr_alias_partly_deferred_delivers_each_once(mta):
    """team@ -> john (Maildir), jane (mbox). john's Maildir is not writable for the virtual uid:
    the queue-file recipient team@ is deferred while jane has her copy. The retry asks the agent
    to recheck (several addresses, deferred before), so jane's mbox does not get a second copy;
    john gets his once the Maildir is fixed."""
    if not ROOT_RUN:
        pytest.skip("needs a uid that cannot write the Maildir")
    md = os.path.join(mta["spool"], "example.org", "john")
    os.mkdir(md, 0o700)  # root's: the agent, as the virtual uid, cannot create new/ in it
    qid = inject(mta, "someone@example.net", ["team@example.org"])
    assert wait_for(lambda: queue_files(mta, "deferred") == [qid], mta["qmgr"])
    assert mbox(mta).count(b"\nDelivered-To: jane@example.org\n") == 1
    os.chown(md, VUID, VGID)
    notify(mta, "F")
    assert wait_for(lambda: queue_empty(mta), mta["qmgr"])
    assert len(maildir_new(mta, "john")) == 1
    assert mbox(mta).count(b"\nDelivered-To: jane@example.org\n") == 1
    mta["qmgr"].terminate()
    mta["proc"].terminate()
    err = mta["proc"].communicate(timeout=10)[1]
    assert "status=sent (delivered to mailbox (the copy of an earlier attempt))" in err


def test_qmgr_defers_remote_recipients(mta):
    qid = inject(mta, "jane@example.org", ["someone@remote.test"])
    assert wait_for(lambda: queue_files(mta, "deferred") == [qid], mta["qmgr"])
    mta["qmgr"].terminate()
    err = mta["qmgr"].communicate(timeout=10)[1]
    assert "status=deferred (outbound SMTP delivery is not implemented yet)" in err


def test_qmgr_delivers_concurrently(mta):
    """A slow delivery (jane's mbox is dot-locked: the agent retries for ~20 s) does not hold
    up the others: john's mail arrives meanwhile. With one delivery at a time it would wait."""
    lock = os.path.join(mta["spool"], "example.org", "jane.lock")
    open(lock, "w").close()
    slow = inject(mta, "someone@example.net", ["jane@example.org"])
    time.sleep(0.5)  # jane's delivery is in flight, waiting for the lock
    fast = inject(mta, "someone@example.net", ["john@example.org"])
    # john's file appears before the queue manager records it: wait for the removal too
    assert wait_for(lambda: len(maildir_new(mta, "john")) == 1 and queue_files(mta, "active") == [slow],
                    mta["qmgr"], timeout=8)
    assert mbox(mta) == b""
    os.unlink(lock)
    assert wait_for(lambda: mbox(mta) != b"" and queue_empty(mta), mta["qmgr"], timeout=15)
    mta["qmgr"].terminate()
    err = mta["qmgr"].communicate(timeout=10)[1]
    assert fast + ": removed" in err and slow + ": removed" in err
    assert mbox(mta).count(b"\nDelivered-To: jane@example.org\n") == 1


def test_qmgr_defers_local_without_local_agent(mta):
    """Local recipients go to the "local" transport (private/local); with no agent there they
    are deferred, never lost."""
    qid = inject(mta, "jane@example.org", ["root@localhost"])
    assert wait_for(lambda: queue_files(mta, "deferred") == [qid], mta["qmgr"])
    mta["qmgr"].terminate()
    err = mta["qmgr"].communicate(timeout=10)[1]
    assert "to=<root@localhost>, relay=none" in err
    assert "dsn=4.3.0, status=deferred (delivery agent local is unavailable)" in err


def serve_fake_local(path, seen):
    """A stand-in for the local agent on private/local: answers every request 'delivered'."""
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(path)
    ls.listen(4)

    def run():
        c, _ = ls.accept()
        while True:
            hdr = c.recv(4, socket.MSG_WAITALL)
            if len(hdr) < 4:
                break
            body = c.recv(struct.unpack(">I", hdr)[0], socket.MSG_WAITALL)
            seen.append(body)

            def s(x):
                return struct.pack(">H", len(x)) + x
            rep = b"A\x02O" + s(b"2.0.0") + s(b"delivered to mailbox") + s(b"")
            c.sendall(struct.pack(">I", len(rep)) + rep)
        c.close()
        ls.close()
    import threading
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_qmgr_routes_local_to_private_local(mta):
    seen = []
    serve_fake_local(os.path.join(mta["queue"], "private", "local"), seen)
    qid = inject(mta, "jane@example.org", ["root@localhost", "john@example.org"])
    assert wait_for(lambda: queue_empty(mta), mta["qmgr"])
    assert len(seen) == 1 and seen[0].startswith(b"Q\x02") and b"root@localhost" in seen[0]
    assert qid.encode() in seen[0]
    assert len(maildir_new(mta, "john")) == 1


# --- postern sendmail and postern queue ---------------------------------------------------------

def sendmail(a, *args, input="Subject: hi\nFrom: x\n\nhello\n.\nnot sent\n"):
    return Postern(a["etc"]).run("sendmail", *args, input=input)


def queue(a, *args):
    return Postern(a["etc"]).run("queue", *args)


def test_sendmail_delivers_with_received_header(mta):
    p = sendmail(mta, "-f", "jane@example.org", "johnsmith@example.org")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: len(maildir_new(mta, "john")) == 1 and queue_empty(mta), mta["qmgr"])
    msg = maildir_new(mta, "john")[0]
    assert msg.startswith(b"Return-Path: <jane@example.org>\nDelivered-To: john@example.org\nReceived: by ")
    assert b"(Postern, from userid %d)" % os.getuid() in msg
    assert msg.endswith(b"\nhello\n")  # the lone "." ended the message


def test_sendmail_i_keeps_dot_lines(mta):
    p = sendmail(mta, "-i", "-f", "jane@example.org", "john@example.org", input="\r\nA\r\n.\r\nB\r\n")
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: len(maildir_new(mta, "john")) == 1, mta["qmgr"])
    assert maildir_new(mta, "john")[0].endswith(b"\nA\n.\nB\n")


def test_queue_list_delete_hold_release(agent):
    # no queue manager: messages stay in incoming/
    assert queue(agent).stdout == "Mail queue is empty\n"
    p = queue(agent, "flush")
    assert p.returncode == 0 and "not running" in p.stdout
    assert sendmail(agent, "-f", "jane@example.org", "john@example.org").returncode == 0
    assert sendmail(agent, "-f", "jane@example.org", "jane@example.org").returncode == 0
    ids = sorted(queue_files(agent, "incoming"))
    assert len(ids) == 2
    out = queue(agent).stdout
    assert ids[0] in out and "jane@example.org" in out and "john@example.org" in out
    assert "Kbytes in 2 Requests." in out
    assert queue(agent, "hold", ids[0]).returncode == 0
    assert queue_files(agent, "hold") == [ids[0]]
    assert ids[0] + "!" in queue(agent).stdout
    assert queue(agent, "release", ids[0]).returncode == 0
    assert queue_files(agent, "deferred") == [ids[0]] and queue_files(agent, "hold") == []
    assert queue(agent, "delete", ids[1]).returncode == 0
    assert queue_files(agent, "incoming") == []
    assert queue(agent, "delete", "ALL").returncode == 0
    assert queue(agent).stdout == "Mail queue is empty\n"


def test_queue_shows_deferral_reason(mta):
    qid = inject(mta, "jane@example.org", ["someone@remote.test"])
    assert wait_for(lambda: queue_files(mta, "deferred") == [qid], mta["qmgr"])
    out = queue(mta).stdout
    assert "(outbound SMTP delivery is not implemented yet)" in out and "someone@remote.test" in out


def test_uid_below_minimum_bounces(agent):
    agent["proc"].terminate()
    agent["proc"].wait(10)
    with open(os.path.join(agent["etc"], "main.cf"), "a") as f:
        f.write("virtual_minimum_uid = %d\n" % (VUID + 1))
    os.unlink(agent["path"])
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    env.pop("POSTERN_LISTEN_FDS", None)
    agent["proc"] = subprocess.Popen([postern_bin(), "-c", agent["etc"], "service", "virtual"], env=env,
                                     stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: os.path.exists(agent["path"]), agent["proc"])
    qid = "4jZ5pv083N054fnn"
    put_queue_file(agent, qid, "jane@example.org", [("john@example.org", "john@example.org")])
    r = ask(agent, request(qid, 0, "john@example.org", "john@example.org"))
    assert r == [("B", "5.3.5", "mail system configuration error")]
    assert maildir_new(agent, "john") == []
