# lib.sh - shared helpers for the bench/ scripts (sourced, not run)
#
# Needs: BENCH_TAG (the script's name, for messages) set before sourcing.
# Gives: say, die, as_root, install_postfix (Debian's package, no daemon left running).

say() { printf '%s: %s\n' "${BENCH_TAG:-bench}" "$*" >&2; }
die() { say "$*"; exit 2; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
		die "need root or sudo to install postfix (or set POSTFIX_POSTMAP)"
	fi
}

install_postfix() {
	local policy=/usr/sbin/policy-rc.d made_policy=0
	say "installing Debian's postfix (no configuration, no daemon)"
	echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
	# invoke-rc.d asks policy-rc.d before starting a service: exit 101 = "not allowed"
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# bench: no service starts during the postfix install\nexit 101\n' |
			as_root tee "$policy" >/dev/null
		as_root chmod 0755 "$policy"
		made_policy=1
	fi
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		postfix >&2; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			postfix >&2 || { [ $made_policy = 1 ] && as_root rm -f "$policy"; die "apt-get install postfix failed"; }
	fi
	if [ $made_policy = 1 ]; then as_root rm -f "$policy"; fi
	# we only need the postmap binary: make sure no mail daemon runs or starts at boot
	if command -v systemctl >/dev/null; then
		# disable works without a running systemd (it only removes the boot-time symlinks)
		as_root systemctl disable postfix.service >/dev/null 2>&1 || true
		if [ -d /run/systemd/system ]; then as_root systemctl stop postfix.service >/dev/null 2>&1 || true; fi
	fi
	if [ -f /etc/postfix/main.cf ] && as_root postfix status >/dev/null 2>&1; then
		as_root postfix stop >/dev/null 2>&1 || true
	fi
	if command -v ss >/dev/null && ss -ltnH 'sport = :25' 2>/dev/null | grep -q .; then
		say "warning: something listens on port 25 (not started by this script)"
	fi
	[ -x /usr/sbin/postmap ] || die "postfix installed but /usr/sbin/postmap is still missing"
}

