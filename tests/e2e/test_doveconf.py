"""test_doveconf.py - `postern doveconf`: dovecot.conf in both HOWTO syntaxes, defaults, values, findings."""
import shutil

from conftest import HOWTO, ROOT, Postern


def dovecot_dir(tmp_path, name="dovecot.conf", text=None):
    """A config dir whose dovecot.conf is a HOWTO file (or text)."""
    if text is None:
        shutil.copy(HOWTO / name, tmp_path / "dovecot.conf")
    else:
        (tmp_path / "dovecot.conf").write_text(text)
    return Postern(tmp_path)


def sections(out):
    """The text of each top-level section of doveconf output, keyed by its first line."""
    result, cur = {}, None
    for line in out.splitlines():
        if cur is None and line.endswith("{"):
            cur = line
            result[cur] = []
        elif cur is not None:
            if line == "}":
                cur = None
            else:
                result[cur].append(line)
    return result


def test_n_both_howto_syntaxes_print_the_same_2x_config(tmp_path):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    p1 = dovecot_dir(tmp_path / "v1", "dovecot.conf").run("doveconf", "-n", check=True)
    p2 = dovecot_dir(tmp_path / "v2", "dovecot-2x.conf").run("doveconf", "-n", check=True)
    assert p2.stderr == ""
    l1, l2 = p1.stdout.splitlines(), p2.stdout.splitlines()
    for want in ("auth_mechanisms = plain login cram-md5", "auth_verbose = yes",
                 "mail_location = maildir:/var/spool/mail/%d/%n/", "pop3_uidl_format = %08Xu%08Xv",
                 "protocols = imap pop3", "ssl_cert = </etc/pki/dovecot/certs/dovecot.pem",
                 "ssl_key = </etc/pki/dovecot/private/dovecot.pem"):
        assert want in l1, p1.stdout
        assert want in l2, p2.stdout
    s1, s2 = sections(p1.stdout), sections(p2.stdout)
    for name in ("passdb {", "service imap-login {", "service pop3-login {"):
        assert s1[name] == s2[name], (name, p1.stdout, p2.stdout)
    assert s1["passdb {"] == ["  args = /etc/postfix/passwd", "  driver = passwd-file"]
    assert "  driver = static" in s1["userdb {"]
    assert s1["userdb {"][0].startswith("  args = uid=5000 gid=5000 home=/var/spool/mail/%d/")
    assert s1["protocol pop3 {"] == ["  pop3_uidl_format = %08Xu%08Xv"]
    # nothing 1.x-only survives in the 2.x form
    for old in ("ssl_cert_file", "auth default", "executable", "imaps", "pop3s ="):
        assert old not in p1.stdout.replace("inet_listener imaps", "").replace("inet_listener pop3s", "")
    # no option means -n
    assert dovecot_dir(tmp_path / "v1", "dovecot.conf").run("doveconf").stdout == p1.stdout


def test_1x_obsolete_settings_warn_once_with_file_and_line(tmp_path):
    pc = dovecot_dir(tmp_path, "dovecot.conf")
    p = pc.run("doveconf", "-n", check=True)
    conf = tmp_path / "dovecot.conf"
    lines = conf.read_text().splitlines()
    for name in ("login_executable", "mail_executable", "auth_executable", "ssl_cert_file", "ssl_key_file"):
        n = next(i for i, l in enumerate(lines, 1) if l.strip().startswith(name))
        hits = [l for l in p.stderr.splitlines() if f'"{name}"' in l]
        assert len(hits) == 1, p.stderr
        assert hits[0].startswith(f"postern/doveconf: warning: {conf}, line {n}: obsolete setting"), hits[0]
    assert "error" not in p.stderr


def test_values_and_later_setting_wins(tmp_path):
    pc = dovecot_dir(tmp_path, "dovecot.conf")
    p = pc.run("doveconf", "mail_location", "ssl", "first_valid_uid", check=True)
    assert p.stdout == ("mail_location = maildir:/var/spool/mail/%d/%n/\n"
                        "ssl = yes\nfirst_valid_uid = 500\n")
    p = pc.run("doveconf", "mail_location", "no_such_setting")
    assert p.returncode == 1
    assert p.stdout == "mail_location = maildir:/var/spool/mail/%d/%n/\n"
    assert "no_such_setting: unknown setting" in p.stderr


def test_protocol_filter(tmp_path):
    pc = dovecot_dir(tmp_path, text="login_greeting = hello\nprotocol pop3 {\n  login_greeting = pop3 here\n}\n")
    p = pc.run("doveconf", "-f", "protocol=pop3", "login_greeting", check=True)
    assert p.stdout == "login_greeting = pop3 here\n"
    p = pc.run("doveconf", "-f", "protocol=imap", "login_greeting", check=True)
    assert p.stdout == "login_greeting = hello\n"
    assert pc.run("doveconf", "-f", "nonsense", "ssl").returncode == 2


def test_d_defaults(tmp_path):
    p = Postern(tmp_path).run("doveconf", "-d", check=True)
    lines = p.stdout.splitlines()
    for want in ("auth_failure_delay = 2 secs", "pop3_uidl_format = %08Xu%08Xv", "ssl = yes",
                 "auth_mechanisms = plain", "disable_plaintext_auth = yes", "first_valid_uid = 500",
                 "auth_username_format = %Lu", "mail_max_userip_connections = 10", "service imap-login {",
                 "  inet_listener imaps {", "    port = 993"):
        assert want in lines, want
    keys = [l.split(" = ")[0] for l in lines if " = " in l and not l.startswith(" ")]
    assert keys == sorted(keys)
    p = Postern(tmp_path).run("doveconf", "-d", "ssl_min_protocol", check=True)
    assert p.stdout == "ssl_min_protocol = TLSv1.2\n"


def test_errors_have_file_and_line_and_exit_2(tmp_path):
    pc = dovecot_dir(tmp_path, text="ssl = yes\nauth_failure_delay = soon\nssl = maybe\n"
                                    "frobnicate = 1\nprotocol imap {\n")
    p = pc.run("doveconf", "-n")
    conf = tmp_path / "dovecot.conf"
    assert p.returncode == 2
    err = p.stderr
    assert f'error: {conf}, line 2: bad value for auth_failure_delay: "soon"' in err, err
    assert f'error: {conf}, line 3: bad value for ssl: "maybe"' in err, err
    assert f'warning: {conf}, line 4: unknown setting "frobnicate"' in err, err
    assert f"error: {conf}, line 5: section opened here is not closed" in err, err


def test_includes_relative_and_glob(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "10-mail.conf").write_text("mail_location = maildir:~/A\n")
    (tmp_path / "conf.d" / "20-mail.conf").write_text("mail_location = maildir:~/B\nbogus = 1\n")
    pc = dovecot_dir(tmp_path, text="!include conf.d/*.conf\n!include_try local.conf\n")
    p = pc.run("doveconf", "mail_location", check=True)
    assert p.stdout == "mail_location = maildir:~/B\n"
    assert f'{tmp_path / "conf.d" / "20-mail.conf"}, line 2: unknown setting "bogus"' in p.stderr
    (tmp_path / "dovecot.conf").write_text("!include missing.conf\n")
    p = pc.run("doveconf", "-n")
    assert p.returncode == 2 and "missing.conf: no such file" in p.stderr


def test_missing_dovecot_conf(tmp_path):
    p = Postern(tmp_path).run("doveconf", "-n")
    assert p.returncode == 2
    assert "dovecot.conf: no such file" in p.stderr


def test_markdown_reference_is_current(tmp_path):
    p = Postern(tmp_path).run("doveconf", "--markdown", check=True)
    committed = (ROOT / "docs" / "dovecot-conf.md").read_text()
    assert p.stdout == committed, "docs/dovecot-conf.md is stale: regenerate it with " \
                                  "`build/postern doveconf --markdown > docs/dovecot-conf.md`"


def test_check_reports_dovecot_conf_findings(tmp_path):
    shutil.copy(HOWTO / "main.cf", tmp_path / "main.cf")
    (tmp_path / "master.cf").write_text("127.0.0.1:2525 inet n - n - - smtpd\n")
    pc = dovecot_dir(tmp_path, text="ssl = yes\nssl = maybe\nlogin_process_size = 64\n")
    p = pc.run("check")
    conf = tmp_path / "dovecot.conf"
    assert f'{conf}, line 2: bad value for ssl: "maybe"' in p.stderr, p.stderr
    assert f'{conf}, line 3: obsolete setting "login_process_size"' in p.stderr, p.stderr
    assert p.returncode == 2
