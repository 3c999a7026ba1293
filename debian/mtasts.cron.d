# /etc/cron.d/mtasts: policy refresh and TLS-RPT reports where systemd is
# not the init system.  Under systemd, mtasts-refresh.timer and
# mtasts-report.timer do this work and these lines do nothing.
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin

17 * * * *	Debian-exim	[ -d /run/systemd/system ] || [ ! -x /usr/bin/mtasts ] || mtasts refresh >/dev/null
47 * * * *	Debian-exim	[ -d /run/systemd/system ] || [ ! -x /usr/bin/mtasts ] || mtasts report >/dev/null
