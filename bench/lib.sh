# lib.sh - shared helpers for the bench/ scripts (sourced, not run)
#
# Needs: BENCH_TAG (the script's name, for messages) set before sourcing.
# Gives: say, die, as_root, apt_install_quiet, no_daemon, install_postfix, install_dovecot
#        (Debian's packages, no daemon left running).

say() { printf '%s: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() { say "$*"; exit 2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		die "need root or sudo to install postfix (or set POSTFIX_POSTMAP)"
	fi
}

# apt_install_quiet PKG... - install Debian packages while no service may start (a temporary
# policy-rc.d answers "not allowed" to invoke-rc.d, unless one exists already)
apt_install_quiet() {
	local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# bench: no service starts during this install\nexit 101\n' |
			as_root tee "$policy" >/dev/null
		as_root chmod 0755 "$policy"
		made_policy=1
	fi
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"$@" >&2; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			"$@" >&2 || rc=1
	fi
	if [ $made_policy = 1 ]; then as_root rm -f "$policy"; fi
	return $rc
}

# no_daemon UNIT - a distro service must neither run now nor start at boot
no_daemon() {
	if command -v systemctl >/dev/null; then
		# disable works without a running systemd (it only removes the boot-time symlinks)
		as_root systemctl disable "$1.service" >/dev/null 2>&1 || true
		if [ -d /run/systemd/system ]; then as_root systemctl stop "$1.service" >/dev/null 2>&1 || true; fi
	fi
	if [ -x "/etc/init.d/$1" ] && [ ! -d /run/systemd/system ]; then
		as_root "/etc/init.d/$1" stop >/dev/null 2>&1 || true
	fi
}

install_postfix() {
	say "installing Debian's postfix (no configuration, no daemon)"
	echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
	apt_install_quiet postfix || die "apt-get install postfix failed"
	# we only need the postmap binary: make sure no mail daemon runs or starts at boot
	no_daemon postfix
	if [ -f /etc/postfix/main.cf ] && as_root postfix status >/dev/null 2>&1; then
		as_root postfix stop >/dev/null 2>&1 || true
	fi
	if command -v ss >/dev/null && ss -ltnH 'sport = :25' 2>/dev/null | grep -q .; then
		say "warning: something listens on port 25 (not started by this script)"
	fi
	[ -x /usr/sbin/postmap ] || die "postfix installed but /usr/sbin/postmap is still missing"
}

# install_dovecot - Debian's dovecot-core + dovecot-pop3d; the distro's own dovecot service is
# stopped and disabled, so nothing keeps ports 110/995 (the bench runs its own instances)
install_dovecot() {
	say "installing Debian's dovecot (no daemon left running)"
	apt_install_quiet dovecot-core dovecot-pop3d || die "apt-get install dovecot failed"
	no_daemon dovecot
	[ -x /usr/sbin/dovecot ] || die "dovecot installed but /usr/sbin/dovecot is still missing"
}
