"""test_conf.py - `postern conf`: main.cf settings, expansion, defaults, docs and diagnostics."""
import re
import shutil

from conftest import HOWTO, ROOT, Postern


def howto_dir(tmp_path, extra=""):
    """A config dir holding the HOWTO's main.cf, plus extra lines appended."""
    shutil.copy(HOWTO / "main.cf", tmp_path / "main.cf")
    if extra:
        with open(tmp_path / "main.cf", "a") as f:
            f.write(extra)
    return Postern(tmp_path)


def line_of(path, text):
    """1-based number of the first line of path containing text."""
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return n
    raise AssertionError(f"{text!r} not in {path}")


def howto_settings():
    """name -> value as written in the HOWTO's main.cf (it has no continuation lines)."""
    out = {}
    for line in (HOWTO / "main.cf").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        assert not line[0].isspace(), "the HOWTO main.cf has no continuation lines"
        name, _, value = line.partition("=")
        out[name.strip()] = value.strip()
    return out


def test_conf_n_shows_howto_settings(tmp_path):
    pc = howto_dir(tmp_path)
    p = pc.run("conf", check=True)
    assert p.stderr == ""
    want = [f"{k} = {v}" if v else f"{k} =" for k, v in sorted(howto_settings().items())]
    assert p.stdout.splitlines() == want
    # -n is the default mode
    assert pc.run("conf", "-n", check=True).stdout == p.stdout


def test_conf_name_is_expanded(tmp_path):
    pc = howto_dir(tmp_path)
    p = pc.run("conf", "mydestination", check=True)
    assert p.stdout == "mydestination = mail.example.com localhost.example.com localhost example.com\n"
    p = pc.run("conf", "myorigin", "smtpd_banner", "message_size_limit", check=True)
    assert p.stdout.splitlines() == [
        "myorigin = example.com",
        "smtpd_banner = mail.example.com ESMTP Postern",
        "message_size_limit = 10240000",
    ]


def test_conf_x_expands_explicit_settings(tmp_path):
    p = howto_dir(tmp_path).run("conf", "-n", "-x", check=True)
    lines = p.stdout.splitlines()
    assert "myorigin = example.com" in lines
    assert "mydestination = mail.example.com localhost.example.com localhost example.com" in lines
    assert not any("$" in line for line in lines)


def test_lazy_expansion_later_definition_wins(tmp_path):
    (tmp_path / "main.cf").write_text("myorigin = $mydomain\nmydomain = early.test\n"
                                      "myhostname = mx.example.test\nmydomain = late.test\n")
    p = Postern(tmp_path).run("conf", "myorigin", "mydomain", check=True)
    assert p.stdout == "myorigin = late.test\nmydomain = late.test\n"


def test_conf_d_defaults(tmp_path):
    pc = howto_dir(tmp_path)
    p = pc.run("conf", "-d", check=True)
    lines = p.stdout.splitlines()
    for want in ("message_size_limit = 10240000", "maximal_queue_lifetime = 5d",
                 "smtpd_timeout = 300s", "myorigin = $myhostname", "mail_name = Postern",
                 "mydestination = $myhostname, localhost.$mydomain, localhost",
                 "inet_interfaces = all", "relay_domains =", "mynetworks_style = host",
                 "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
                 "defer_unauth_destination"):
        assert want in lines, want
    names = [line.split(" =")[0] for line in lines]
    assert names == sorted(names) and len(names) > 60
    # defaults ignore main.cf: the computed mydomain is not the HOWTO's
    assert "mydomain = example.com" not in lines
    p = pc.run("conf", "-d", "mail_name", "smtpd_recipient_limit", check=True)
    assert p.stdout == "mail_name = Postern\nsmtpd_recipient_limit = 1000\n"


def test_conf_h_docs(tmp_path):
    p = Postern(tmp_path).run("conf", "-h", "smtpd_timeout", check=True)
    assert p.stdout.startswith("smtpd_timeout: ") and "SMTP" in p.stdout
    p = Postern(tmp_path).run("conf", "-h", check=True)
    assert len(p.stdout.splitlines()) > 60


def test_bad_value_is_error_with_line(tmp_path):
    pc = howto_dir(tmp_path, "message_size_limit = ten\n")
    n = line_of(tmp_path / "main.cf", "message_size_limit = ten")
    p = pc.run("conf")
    assert p.returncode == 2
    assert (f'postern/conf: error: {tmp_path}/main.cf, line {n}: bad value for message_size_limit: '
            f'"ten" (expected a non-negative integer)') in p.stderr
    for bad, name in (("smtpd_timeout = 5x", "smtpd_timeout"),
                      ("disable_vrfy_command = maybe", "disable_vrfy_command")):
        (tmp_path / "main.cf").write_text(f"# x\n{bad}\n")
        p = Postern(tmp_path).run("conf", name)
        assert p.returncode == 2, bad
        assert f"main.cf, line 2: bad value for {name}" in p.stderr


def test_unknown_parameter_is_warning(tmp_path):
    pc = howto_dir(tmp_path, "smtpd_frobnicate = yes\n")
    n = line_of(tmp_path / "main.cf", "smtpd_frobnicate")
    p = pc.run("conf")
    assert p.returncode == 0, p.stderr
    assert (f'postern/conf: warning: {tmp_path}/main.cf, line {n}: unknown parameter '
            f'"smtpd_frobnicate"') in p.stderr
    assert "smtpd_frobnicate = yes" in p.stdout.splitlines()


def test_user_defined_parameter_referenced_is_fine(tmp_path):
    (tmp_path / "main.cf").write_text("my_nets = 10.0.0.0/8\nmynetworks = 127.0.0.0/8 $my_nets\n"
                                      "mua_restrictions = permit_sasl_authenticated, reject\n")
    (tmp_path / "master.cf").write_text("submission inet n - n - - smtpd\n"
                                        "  -o smtpd_recipient_restrictions=$mua_restrictions\n")
    p = Postern(tmp_path).run("conf", "mynetworks", check=True)
    assert p.stderr == ""
    assert p.stdout == "mynetworks = 127.0.0.0/8 10.0.0.0/8\n"


def test_unknown_name_exit_1(tmp_path):
    p = howto_dir(tmp_path).run("conf", "no_such_thing", "myorigin")
    assert p.returncode == 1
    assert "postern/conf: warning: no_such_thing: unknown parameter" in p.stderr
    assert p.stdout == "myorigin = example.com\n"


def test_loop_is_error(tmp_path):
    (tmp_path / "main.cf").write_text("myorigin = $mydomain\nmydomain = ${myorigin}\n")
    p = Postern(tmp_path).run("conf", "myorigin")
    assert p.returncode == 2
    assert "main.cf, line 1: myorigin: parameter loop: myorigin -> mydomain -> myorigin" in p.stderr


def test_missing_main_cf(tmp_path):
    p = Postern(tmp_path / "nowhere").run("conf")
    assert p.returncode == 2
    assert re.search(r"main\.cf: cannot read: No such file", p.stderr)


def test_usage_errors(tmp_path):
    p = Postern(tmp_path).run("conf", "-q")
    assert p.returncode == 2 and "unknown option" in p.stderr
    p = Postern(tmp_path).run("conf", "-d", "-h")
    assert p.returncode == 2


def test_markdown_reference_is_current(tmp_path):
    p = Postern(tmp_path).run("conf", "--markdown", check=True)
    committed = (ROOT / "docs" / "config-reference.md").read_text()
    assert p.stdout == committed, "docs/config-reference.md is stale: regenerate it with " \
                                  "`build/postern conf --markdown > docs/config-reference.md`"
    assert "| `message_size_limit` | integer | `10240000` |" in p.stdout
