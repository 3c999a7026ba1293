/*
 * probe.c - test driver over common/dns and common/fetch for the shell
 * tests of the test world.  One lookup or fetch per run, printed as one
 * line of key=value fields (plus the records / body) for assertions:
 *
 *   probe txt NAME    status= sec= n=       then one "rec=..." per record
 *   probe mx NAME     status= sec= n=       then "mx=PREF HOST" lines
 *   probe tlsa HOST   status= sec= n=
 *   probe fetch DOMAIN [--ca FILE] [--timeout-ms N] [--proxy URL]
 *                     [--private-resolver]
 *                     err= tlsrpt= http= len= detail="..."
 *                     (with --body the body follows on stdout; the
 *                     policy host is resolved through a struct dns made
 *                     from the DNS options, or with --private-resolver
 *                     through the one fetch.c makes itself)
 * Common options: --resolv-conf FILE, --trust-anchor FILE,
 * --dns-timeout-ms N; --repeat N (the same lookup N times in one process
 * on one handle, for leak and reuse checks); --fork (DNS: lookup, fork,
 * the child does --repeat lookups on the inherited handle between "child"
 * and "parent" lines, then the parent does one more); --fail-alloc N (the
 * allocation after the next N through mem.h fails: out-of-memory must be
 * a status, never a crash or a leak).
 * Exit status 0 when the operation ran (whatever its outcome), 1 on a
 * returned error status (printed as rc=), 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dns.h"
#include "fetch.h"
#include "log.h"
#include "mem.h"
#include "status.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: probe txt|mx|tlsa NAME [--resolv-conf F]\n"
		"         [--trust-anchor F] [--dns-timeout-ms N]\n"
		"       probe fetch DOMAIN [--ca FILE] [--timeout-ms N]\n"
		"         [--connect-timeout-ms N] [--body] [--proxy URL]\n"
		"         [--private-resolver]\n"
		"       common: [--repeat N] [--fork] [--fail-alloc N]"
		" [--verbose]\n");
}

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0) {
		usage();
		exit(2);
	}
	return v;
}

/* One lookup on d, printed.  Returns 0 or 1 (error status printed). */
static int lookup(struct dns *d, const char *what, const char *name)
{
	int rc;
	size_t i;

	if (strcmp(what, "txt") == 0) {
		struct dns_txt t;

		rc = dns_txt(d, name, &t);
		if (rc == MT_OK) {
			printf("status=%s sec=%s n=%zu\n",
			       dns_status_str(t.status), dns_sec_str(t.sec),
			       t.n);
			for (i = 0; i < t.n; i++)
				printf("rec=%s\n", t.rec[i]);
		}
		dns_txt_clear(&t);
	} else if (strcmp(what, "mx") == 0) {
		struct dns_mx m;

		rc = dns_mx(d, name, &m);
		if (rc == MT_OK) {
			printf("status=%s sec=%s n=%zu\n",
			       dns_status_str(m.status), dns_sec_str(m.sec),
			       m.n);
			for (i = 0; i < m.n; i++)
				printf("mx=%u %s\n", (unsigned)m.pref[i],
				       m.host[i][0] ? m.host[i] : ".");
		}
	} else {
		struct dns_tlsa t;

		rc = dns_tlsa(d, name, 25, &t);
		if (rc == MT_OK)
			printf("status=%s sec=%s n=%zu\n",
			       dns_status_str(t.status), dns_sec_str(t.sec),
			       t.n);
	}
	if (rc != MT_OK)
		printf("rc=%s\n", mt_strerror(rc));
	fflush(stdout);
	return rc == MT_OK ? 0 : 1;
}

/* repeat lookups on one handle; with dofork, after the first one a child
 * uses the same handle (dns.c must make itself a new context), then the
 * parent goes on with its own. */
static int do_dns(const char *what, const char *name, struct dns_opts *o,
		  long repeat, int dofork)
{
	struct dns *d = NULL;
	long i;
	int rc, st;
	pid_t pid;

	rc = dns_create(&d, o);
	if (rc != MT_OK) {
		printf("rc=%s\n", mt_strerror(rc));
		return 1;
	}
	rc = lookup(d, what, name);
	if (rc == 0 && dofork) {
		pid = fork();
		if (pid == 0) {
			printf("child\n");
			for (i = 0; i < repeat && rc == 0; i++)
				rc = lookup(d, what, name);
			dns_destroy(d);
			_exit(rc);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = 1;
		printf("parent\n");
	}
	for (i = 1; i < repeat && rc == 0; i++)
		rc = lookup(d, what, name);
	if (rc == 0 && dofork)
		rc = lookup(d, what, name);
	dns_destroy(d);
	return rc;
}

static int do_fetch(const char *domain, struct fetch_opts *o, int body)
{
	struct fetch_result r;
	int rc;

	rc = fetch_policy(domain, o, &r);
	if (rc != MT_OK) {
		printf("rc=%s\n", mt_strerror(rc));
		fetch_result_clear(&r);
		return 1;
	}
	printf("err=%s tlsrpt=%s http=%ld len=%zu detail=\"%s\"\n",
	       fetch_error_str(r.err),
	       r.err == FETCH_OK ? "-" : fetch_error_tlsrpt(r.err),
	       r.http_status, r.body_len, r.detail);
	if (body && r.body != NULL)
		fwrite(r.body, 1, r.body_len, stdout);
	fetch_result_clear(&r);
	return 0;
}

int main(int argc, char **argv)
{
	struct dns_opts dopts;
	struct fetch_opts fopts;
	const char *what, *name;
	struct dns *d = NULL;
	long repeat = 1, failn = -1, i;
	int body = 0, dofork = 0, private_dns = 0, a, rc = 0;

	memset(&dopts, 0, sizeof(dopts));
	memset(&fopts, 0, sizeof(fopts));
	if (argc < 3) {
		usage();
		return 2;
	}
	what = argv[1];
	name = argv[2];
	for (a = 3; a < argc; a++) {
		const char *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (strcmp(argv[a], "--ca") == 0 && v) {
			fopts.ca_file = v;
			a++;
		} else if (strcmp(argv[a], "--timeout-ms") == 0 && v) {
			fopts.total_timeout_ms = num(v);
			a++;
		} else if (strcmp(argv[a], "--connect-timeout-ms") == 0 && v) {
			fopts.connect_timeout_ms = num(v);
			a++;
		} else if (strcmp(argv[a], "--proxy") == 0 && v) {
			fopts.proxy = v;
			a++;
		} else if (strcmp(argv[a], "--private-resolver") == 0) {
			private_dns = 1;
		} else if (strcmp(argv[a], "--resolv-conf") == 0 && v) {
			dopts.resolv_conf = v;
			a++;
		} else if (strcmp(argv[a], "--trust-anchor") == 0 && v) {
			dopts.trust_anchor = v;
			a++;
		} else if (strcmp(argv[a], "--dns-timeout-ms") == 0 && v) {
			dopts.timeout_ms = (int)num(v);
			a++;
		} else if (strcmp(argv[a], "--repeat") == 0 && v) {
			repeat = num(v);
			a++;
		} else if (strcmp(argv[a], "--fail-alloc") == 0 && v) {
			failn = num(v);
			a++;
		} else if (strcmp(argv[a], "--fork") == 0) {
			dofork = 1;
		} else if (strcmp(argv[a], "--body") == 0) {
			body = 1;
		} else if (strcmp(argv[a], "--verbose") == 0) {
			log_set_sink(log_sink_stderr, NULL);
			log_set_level(LOG_LVL_DEBUG);
		} else {
			usage();
			return 2;
		}
	}
	if (strcmp(what, "fetch") == 0) {
		if (fetch_global_init() != MT_OK) {
			printf("rc=init\n");
			return 1;
		}
		if (!private_dns) {
			rc = dns_create(&d, &dopts);
			if (rc != MT_OK) {
				printf("rc=%s\n", mt_strerror(rc));
				return 1;
			}
			fopts.dns = d;
		}
		mem_fail_after(failn);
		for (i = 0; i < repeat && rc == 0; i++)
			rc = do_fetch(name, &fopts, body);
		mem_fail_after(-1);
		dns_destroy(d);
	} else if (strcmp(what, "txt") == 0 || strcmp(what, "mx") == 0 ||
		   strcmp(what, "tlsa") == 0) {
		mem_fail_after(failn);
		rc = do_dns(what, name, &dopts, repeat, dofork);
	} else {
		usage();
		return 2;
	}
	return rc;
}
