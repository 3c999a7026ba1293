/*
 * cmd_lint.c - `mtasts lint`: check a policy file (RFC 8461 §3.2), an
 * _mta-sts TXT RRset (§3.1) or an _smtp._tls TXT RRset (RFC 8460 §3)
 * before it is published, with the very parsers the sender uses.
 *
 *   mtasts lint [--json] [--mx HOST]... FILE|-
 *   mtasts lint [--json] --txt RECORD...
 *   mtasts lint [--json] --tlsrpt RECORD...
 *
 * "valid" means: mtasts, as a sender, would apply it; a valid policy can
 * still come with errors for its publisher (an mx pattern no MX host can
 * match, which senders leave out: policy_lint()).  Human output is one
 * compiler-like line per finding ("FILE:LINE: error: message [code]") and
 * a summary line; --json prints exactly one object (design.md).  Exit 0
 * valid, 1 invalid, 2 usage or I/O error.
 *
 * Trusts nothing it reads: the file is read with a cap of 64 KiB + 1 (one
 * byte more tells "too big"), and every finding's text is escaped for JSON
 * and stripped of control characters for the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "diag.h"
#include "domain.h"
#include "json.h"
#include "mem.h"
#include "policy.h"
#include "status.h"
#include "txt.h"

#define LINT_MX_MAX 64		/* --mx hosts per run */
#define LINT_OUT_MAX (4u << 20) /* JSON output cap */

enum lint_kind { LINT_POLICY, LINT_TXT, LINT_TLSRPT };

struct lint_opts {
	enum lint_kind kind;
	int json;
	const char *mx[LINT_MX_MAX];
	int n_mx;
	char **args; /* FILE, or the records */
	int n_args;
};

/* Is hosts[i] the same string as an earlier one? */
static int seen_before(const char *const *hosts, int i)
{
	for (int k = 0; k < i; k++)
		if (strcmp(hosts[k], hosts[i]) == 0)
			return 1;
	return 0;
}

/* Returns 0, or 2 after printing a usage error. */
static int parse_args(int argc, char **argv, struct lint_opts *o)
{
	int i = 1, have_kind = 0;

	memset(o, 0, sizeof(*o));
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--json") == 0) {
			o->json = 1;
		} else if (strcmp(a, "--mx") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr,
					"mtasts lint: --mx needs a host\n");
				goto usage;
			}
			if (o->n_mx >= LINT_MX_MAX) {
				fprintf(stderr,
					"mtasts lint: at most %d --mx\n",
					LINT_MX_MAX);
				goto usage;
			}
			o->mx[o->n_mx++] = argv[++i];
		} else if (strcmp(a, "--txt") == 0 ||
			   strcmp(a, "--tlsrpt") == 0) {
			enum lint_kind k = a[2] == 't' && a[3] == 'x' ?
						   LINT_TXT :
						   LINT_TLSRPT;

			if (have_kind && o->kind != k) {
				fprintf(stderr,
					"mtasts lint: --txt and --tlsrpt exclude each other\n");
				goto usage;
			}
			o->kind = k;
			have_kind = 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "mtasts lint: unknown option '%s'\n",
				a);
			goto usage;
		} else {
			break;
		}
	}
	o->args = argv + i;
	o->n_args = argc - i;
	if (o->kind == LINT_POLICY) {
		if (o->n_args != 1) {
			fprintf(stderr,
				"mtasts lint: one FILE (or - for standard input)\n");
			goto usage;
		}
	} else {
		if (o->n_mx > 0) {
			fprintf(stderr,
				"mtasts lint: --mx applies to policy files only\n");
			goto usage;
		}
		if (o->n_args < 1) {
			fprintf(stderr,
				"mtasts lint: give at least one RECORD\n");
			goto usage;
		}
	}
	return 0;
usage:
	cmd_usage(stderr, "lint");
	return 2;
}

/* Read at most POLICY_MAX_BYTES + 1 bytes of path ("-" = stdin) into b.
 * Returns MT_OK or MT_EIO (message printed). */
static int read_capped(const char *path, struct buf *b)
{
	char chunk[8192];
	int fd, rc = MT_OK;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "mtasts lint: %s: %s\n", path,
				strerror(errno));
			return MT_EIO;
		}
	}
	while (b->len <= POLICY_MAX_BYTES) {
		size_t want = POLICY_MAX_BYTES + 1 - b->len;
		ssize_t n;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "mtasts lint: %s: %s\n", path,
				strerror(errno));
			rc = MT_EIO;
			break;
		}
		if (n == 0)
			break;
		if (buf_add(b, chunk, (size_t)n) != MT_OK) {
			fprintf(stderr, "mtasts lint: %s: out of memory\n",
				path);
			rc = MT_EIO;
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

/* Terminal output: no control characters from the input reach it. */
static void print_clean(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void print_findings(const char *label, const struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];

		if (x->line)
			printf("%s:%u: ", label, x->line);
		else
			printf("%s: ", label);
		printf("%s: ", x->sev == DIAG_ERROR ? "error" : "warning");
		print_clean(stdout, x->msg);
		printf(" [%s]\n", x->code);
	}
	if (d->n_err + d->n_warn > d->n)
		printf("%s: (%zu further findings not shown)\n", label,
		       d->n_err + d->n_warn - d->n);
}

static void json_findings(struct json *j, const struct diag_list *d,
			  enum diag_severity sev)
{
	json_key(j, sev == DIAG_ERROR ? "errors" : "warnings");
	json_array_begin(j);
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].sev != sev)
			continue;
		json_object_begin(j);
		json_key_string(j, "code", d->v[i].code);
		json_key_int(j, "line", d->v[i].line);
		json_key_string(j, "message", d->v[i].msg);
		json_object_end(j);
	}
	json_array_end(j);
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* Is host covered by the (valid) policy's patterns? */
static int mx_covered(const struct policy *p, int valid, const char *host)
{
	char norm[DOMAIN_BUFSZ];

	if (!valid || domain_normalise(host, strlen(host), norm) != MT_OK)
		return 0;
	return policy_mx_matches(p->mx, p->mx_len, norm);
}

/* Close the object and print it as one line; -1 after saying why not. */
static int json_end(struct json *j, struct buf *out)
{
	json_object_end(j);
	if (json_finish(j) != MT_OK ||
	    fwrite(out->data, 1, out->len, stdout) != out->len ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "mtasts lint: cannot write the JSON output\n");
		return -1;
	}
	return 0;
}

static int lint_policy(const struct lint_opts *o)
{
	const char *path = o->args[0];
	const char *label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	struct diag_list d;
	struct policy p;
	struct buf in, out;
	struct json j;
	int rc, valid, ret = 2;

	diag_init(&d);
	memset(&p, 0, sizeof(p));
	buf_init(&in, POLICY_MAX_BYTES + 1);
	buf_init(&out, LINT_OUT_MAX);
	if (read_capped(path, &in) != MT_OK)
		goto out;
	if (in.len > POLICY_MAX_BYTES) {
		/* RFC 8461 §3.3 lets senders cap the body; mtasts reads
		 * 64 KiB and treats anything longer as no policy. */
		diag_add(
			&d, DIAG_ERROR, "too-big", 0,
			"the policy is over 65536 bytes; senders refuse it (RFC 8461 §3.3)");
		rc = MT_ETOOBIG;
	} else {
		rc = policy_lint(in.data ? in.data : "", in.len, &p, &d);
	}
	if (rc == MT_ENOMEM) {
		fprintf(stderr, "mtasts lint: out of memory\n");
		goto out;
	}
	valid = rc == MT_OK;

	if (o->json) {
		json_init(&j, &out);
		json_object_begin(&j);
		json_key_bool(&j, "valid", valid);
		if (valid) {
			uint32_t it = 0;
			const char *pat;

			json_key_string(&j, "mode", policy_mode_str(p.mode));
			json_key_int(&j, "max_age", p.max_age);
			json_key(&j, "mx");
			json_array_begin(&j);
			while ((pat = policy_mx_next(p.mx, p.mx_len, &it)) !=
			       NULL)
				json_string(&j, pat);
			json_array_end(&j);
		}
		json_findings(&j, &d, DIAG_ERROR);
		json_findings(&j, &d, DIAG_WARNING);
		if (o->n_mx > 0) {
			json_key(&j, "mx_check");
			json_object_begin(&j);
			for (int i = 0; i < o->n_mx; i++)
				if (!seen_before(o->mx, i)) /* one key each */
					json_key_bool(&j, o->mx[i],
						      mx_covered(&p, valid,
								 o->mx[i]));
			json_object_end(&j);
		}
		if (json_end(&j, &out) != 0)
			goto out;
	} else {
		print_findings(label, &d);
		for (int i = 0; i < o->n_mx; i++) {
			printf("%s: mx ", label);
			print_clean(stdout, o->mx[i]);
			printf(mx_covered(&p, valid, o->mx[i]) ?
				       ": covered\n" :
				       ": NOT covered\n");
		}
		if (valid && d.n_err > 0)
			/* errors a sender skips over (policy_lint()) */
			printf("%s: valid: mode %s, max_age %u, %u mx pattern%s; %zu error%s (senders leave out what %s), %zu warning%s\n",
			       label, policy_mode_str(p.mode),
			       (unsigned)p.max_age, (unsigned)p.n_mx,
			       plural(p.n_mx), d.n_err, plural(d.n_err),
			       d.n_err == 1 ? "it names" : "they name",
			       d.n_warn, plural(d.n_warn));
		else if (valid)
			printf("%s: valid: mode %s, max_age %u, %u mx pattern%s; %zu warning%s\n",
			       label, policy_mode_str(p.mode),
			       (unsigned)p.max_age, (unsigned)p.n_mx,
			       plural(p.n_mx), d.n_warn, plural(d.n_warn));
		else
			printf("%s: invalid: %zu error%s, %zu warning%s\n",
			       label, d.n_err, plural(d.n_err), d.n_warn,
			       plural(d.n_warn));
	}
	ret = valid ? 0 : 1;
out:
	policy_clear(&p);
	diag_free(&d);
	buf_free(&in);
	buf_free(&out);
	return ret;
}

static int lint_txt(const struct lint_opts *o)
{
	const char *label = o->kind == LINT_TXT ? "_mta-sts" : "_smtp._tls";
	const char **recs;
	size_t *lens, n = (size_t)o->n_args;
	struct diag_list d;
	struct sts_txt sts;
	struct tlsrpt_txt *rpt = NULL;
	struct buf out;
	struct json j;
	int rc, valid, ret = 2;

	diag_init(&d);
	buf_init(&out, LINT_OUT_MAX);
	recs = mem_calloc(n, sizeof(*recs));
	lens = mem_calloc(n, sizeof(*lens));
	if (o->kind == LINT_TLSRPT)
		rpt = mem_calloc(1, sizeof(*rpt));
	if (recs == NULL || lens == NULL || (o->kind == LINT_TLSRPT && !rpt)) {
		fprintf(stderr, "mtasts lint: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		recs[i] = o->args[i];
		lens[i] = strlen(o->args[i]);
	}
	if (o->kind == LINT_TXT)
		rc = txt_sts_select(recs, lens, n, &sts, &d);
	else
		rc = txt_tlsrpt_select(recs, lens, n, rpt, &d);
	valid = rc == MT_OK;

	if (o->json) {
		json_init(&j, &out);
		json_object_begin(&j);
		json_key_bool(&j, "valid", valid);
		if (valid && o->kind == LINT_TXT) {
			json_key_string(&j, "id", sts.id);
		} else if (valid) {
			json_key(&j, "rua");
			json_array_begin(&j);
			for (size_t i = 0; i < rpt->n_rua; i++)
				json_string(&j, rpt->rua[i].uri);
			json_array_end(&j);
		}
		json_findings(&j, &d, DIAG_ERROR);
		json_findings(&j, &d, DIAG_WARNING);
		if (json_end(&j, &out) != 0)
			goto out;
	} else {
		print_findings(label, &d);
		if (valid && o->kind == LINT_TXT) {
			printf("%s: valid: id %s; %zu warning%s\n", label,
			       sts.id, d.n_warn, plural(d.n_warn));
		} else if (valid) {
			printf("%s: valid: %zu rua URI%s", label, rpt->n_rua,
			       plural(rpt->n_rua));
			for (size_t i = 0; i < rpt->n_rua; i++) {
				printf(i ? ", " : " (");
				print_clean(stdout, rpt->rua[i].uri);
			}
			printf("); %zu warning%s\n", d.n_warn,
			       plural(d.n_warn));
		} else {
			printf("%s: invalid: %zu error%s, %zu warning%s\n",
			       label, d.n_err, plural(d.n_err), d.n_warn,
			       plural(d.n_warn));
		}
	}
	ret = valid ? 0 : 1;
out:
	mem_free(recs);
	mem_free(lens);
	mem_free(rpt);
	diag_free(&d);
	buf_free(&out);
	return ret;
}

int cmd_lint(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct lint_opts o;

	(void)ctx; /* lint needs no configuration */
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (o.kind == LINT_POLICY)
		return lint_policy(&o);
	return lint_txt(&o);
}
