# /etc/cron.d/mtasts: policy refresh and TLS-RPT reports where systemd is
# not the init system.  Under systemd, mtasts-refresh.timer,
# mtasts-report.timer and mtasts-report-push.timer do this work and these
# lines do nothing.
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin

17 * * * *	Debian-exim	[ -d /run/systemd/system ] || [ ! -x /usr/bin/mtasts ] || mtasts refresh >/dev/null
47 * * * *	Debian-exim	[ -d /run/systemd/system ] || [ ! -x /usr/bin/mtasts ] || mtasts report >/dev/null
2,17,32,47 * * * *	Debian-exim	[ -d /run/systemd/system ] || [ ! -x /usr/bin/mtasts ] || mtasts report --push >/dev/null
