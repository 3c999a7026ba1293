/*
 * report.c - TLS-RPT daily aggregation (RFC 8460): the results files that
 * report_rec.c writes, read back into one JSON report per policy domain.
 *
 * The results file of a day is report_dir/results-YYYY-MM-DD.tsv, one
 * record per line, tab-separated:
 *   when domain policy-type policy-id result sending-ip mx-host
 *   receiving-ip reason-code
 * Fields are sanitised before writing (no tab, newline or control byte can
 * reach the file), and every field is length-checked again when read: the
 * file is data the next run trusts no more than the network.  The same
 * holds for the counts text other hosts of a fleet push (fleet.c): it is
 * parsed with the same field rules and summed, never executed or trusted
 * for a path.
 *
 * A day's aggregate (struct report_day) is an open-addressing hash table
 * of policy domains; each domain holds its policies (type and id, at most
 * REPORT_GROUPS_MAX) and each policy its distinct failure details (at most
 * REPORT_DETAILS_MAX, failures beyond that still counted in the totals).
 *
 * Ownership: a report_day and everything in it is mem_alloc'ed and
 * released by report_day_destroy().  Not thread-safe; one day per caller.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "domain.h"
#include "json.h"
#include "log.h"
#include "mem.h"
#include "policy.h"
#include "report.h"
#include "status.h"

#define COUNTS_MAGIC "mtasts-counts 1 "
/* a counts or results value: no more sessions than this per line */
#define COUNT_MAX 1000000000000ULL

struct detail {
	enum report_result result;
	char sending_ip[REPORT_ADDR_MAX];
	char mx_host[DOMAIN_BUFSZ];
	char receiving_ip[REPORT_ADDR_MAX];
	char reason[64];
	uint64_t count;
};

struct group {
	char policy_type[16];
	char policy_id[33];
	uint64_t ok, failed;
	size_t n_details, cap;
	struct detail *details;
};

struct dom {
	char name[DOMAIN_BUFSZ];
	size_t n_groups, cap;
	struct group *groups;
};

struct report_day {
	int64_t day_start;
	size_t n, slots; /* domains, table size (a power of two) */
	struct dom **table;
	struct dom **order; /* the n domains, sorted when sorted */
	int sorted;
};

/* ---------------------------------------------------------------- */
/* the day's table                                                   */

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int report_day_create(struct report_day **out, int64_t day_start)
{
	struct report_day *d = mem_calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return MT_ENOMEM;
	d->day_start = day_start;
	d->slots = 64;
	d->table = mem_calloc(d->slots, sizeof(*d->table));
	d->order = mem_calloc(d->slots / 2, sizeof(*d->order));
	if (d->table == NULL || d->order == NULL) {
		report_day_destroy(d);
		return MT_ENOMEM;
	}
	*out = d;
	return MT_OK;
}

void report_day_destroy(struct report_day *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; d->order != NULL && i < d->n; i++) {
		struct dom *m = d->order[i];

		for (size_t g = 0; g < m->n_groups; g++)
			mem_free(m->groups[g].details);
		mem_free(m->groups);
		mem_free(m);
	}
	mem_free(d->table);
	mem_free(d->order);
	mem_free(d);
}

int64_t report_day_start(const struct report_day *d)
{
	return d->day_start;
}

static struct dom **slot_of(struct dom **table, size_t slots, const char *name)
{
	size_t i = name_hash(name) & (slots - 1);

	while (table[i] != NULL && strcmp(table[i]->name, name) != 0)
		i = (i + 1) & (slots - 1);
	return &table[i];
}

/* Double the table (load kept under one half). */
static int grow(struct report_day *d)
{
	size_t slots = d->slots * 2;
	struct dom **t = mem_calloc(slots, sizeof(*t));
	struct dom **o = mem_realloc(d->order, slots / 2 * sizeof(*o));

	if (o != NULL)
		d->order = o;
	if (t == NULL || o == NULL) {
		mem_free(t);
		return MT_ENOMEM;
	}
	for (size_t i = 0; i < d->n; i++)
		*slot_of(t, slots, d->order[i]->name) = d->order[i];
	mem_free(d->table);
	d->table = t;
	d->slots = slots;
	return MT_OK;
}

/* The domain's entry, made when new; NULL with *rc set when it cannot
 * be (MT_ENOMEM, or MT_ETOOBIG over REPORT_DOMAINS_MAX). */
static struct dom *dom_get(struct report_day *d, const char *name, int *rc)
{
	struct dom **s = slot_of(d->table, d->slots, name);
	struct dom *m;

	*rc = MT_OK;
	if (*s != NULL)
		return *s;
	if (d->n >= REPORT_DOMAINS_MAX) {
		*rc = MT_ETOOBIG;
		return NULL;
	}
	if (d->n + 1 > d->slots / 2) {
		*rc = grow(d);
		if (*rc != MT_OK)
			return NULL;
		s = slot_of(d->table, d->slots, name);
	}
	m = mem_calloc(1, sizeof(*m));
	if (m == NULL) {
		*rc = MT_ENOMEM;
		return NULL;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	*s = m;
	d->order[d->n++] = m;
	d->sorted = 0;
	return m;
}

static const struct dom *dom_find(const struct report_day *d, const char *name)
{
	return *slot_of(d->table, d->slots, name);
}

/* The policy's group in m; NULL with *rc MT_OK when the domain has
 * REPORT_GROUPS_MAX already (the record is dropped). */
static struct group *group_get(struct dom *m, const char *type, const char *id,
			       int *rc)
{
	struct group *g;

	*rc = MT_OK;
	for (size_t i = 0; i < m->n_groups; i++)
		if (strcmp(m->groups[i].policy_type, type) == 0 &&
		    strcmp(m->groups[i].policy_id, id) == 0)
			return &m->groups[i];
	if (m->n_groups >= REPORT_GROUPS_MAX)
		return NULL;
	if (m->n_groups == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 2;
		struct group *ng = mem_realloc(m->groups, cap * sizeof(*ng));

		if (ng == NULL) {
			*rc = MT_ENOMEM;
			return NULL;
		}
		m->groups = ng;
		m->cap = cap;
	}
	g = &m->groups[m->n_groups++];
	memset(g, 0, sizeof(*g));
	snprintf(g->policy_type, sizeof(g->policy_type), "%s", type);
	snprintf(g->policy_id, sizeof(g->policy_id), "%s", id);
	return g;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int detail_add(struct group *g, const struct detail *x)
{
	for (size_t i = 0; i < g->n_details; i++) {
		struct detail *y = &g->details[i];

		if (y->result == x->result &&
		    !strcmp(y->sending_ip, x->sending_ip) &&
		    !strcmp(y->mx_host, x->mx_host) &&
		    !strcmp(y->receiving_ip, x->receiving_ip) &&
		    !strcmp(y->reason, x->reason)) {
			y->count = add_sat(y->count, x->count);
			return MT_OK;
		}
	}
	if (g->n_details >= REPORT_DETAILS_MAX)
		return MT_OK;
	if (g->n_details == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4;
		struct detail *nd = mem_realloc(g->details, cap * sizeof(*nd));

		if (nd == NULL)
			return MT_ENOMEM;
		g->details = nd;
		g->cap = cap;
	}
	g->details[g->n_details++] = *x;
	return MT_OK;
}

/* ---------------------------------------------------------------- */
/* reading lines                                                     */

/* Split line (NUL-terminated, no newline) at tabs into exactly n fields;
 * 0 or -1. */
static int split(char *line, char **fld, int n)
{
	char *p = line;

	for (int i = 0; i < n; i++) {
		fld[i] = p;
		p = strchr(p, '\t');
		if (p == NULL)
			return i == n - 1 ? 0 : -1;
		if (i == n - 1)
			return -1; /* more fields than n */
		*p++ = '\0';
	}
	return -1;
}

static void copy_field(char *dst, size_t dstsz, const char *src)
{
	if (strcmp(src, "-") == 0)
		src = "";
	snprintf(dst, dstsz, "%s", src);
}

/* A count field: decimal, 1..COUNT_MAX (0 allowed when zero_ok). */
static int parse_count(const char *s, int zero_ok, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || strlen(s) > 13)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > COUNT_MAX || (v == 0 && !zero_ok))
		return -1;
	*out = v;
	return 0;
}

/* One policy's sessions: ok and failed added to (domain, type, id);
 * failure details with count (NULL: none).  A name "-" is no domain. */
static int add_counts(struct report_day *d, char *const key[3], uint64_t ok,
		      uint64_t failed, const struct detail *x)
{
	char type[16], id[33];
	struct dom *m;
	struct group *g;
	int rc;

	if (strcmp(key[0], "-") == 0 || key[0][0] == '\0' ||
	    strlen(key[0]) > DOMAIN_MAX)
		return MT_OK;
	/* compare as stored: "-" (no policy id) is kept as "" */
	copy_field(type, sizeof(type), key[1]);
	copy_field(id, sizeof(id), key[2]);
	m = dom_get(d, key[0], &rc);
	if (m == NULL)
		return rc == MT_ETOOBIG ? MT_OK : rc;
	g = group_get(m, type, id, &rc);
	if (g == NULL)
		return rc;
	g->ok = add_sat(g->ok, ok);
	g->failed = add_sat(g->failed, failed);
	return x != NULL ? detail_add(g, x) : MT_OK;
}

static void detail_from(struct detail *x, int res, char *const f[4],
			uint64_t count)
{
	memset(x, 0, sizeof(*x));
	x->result = (enum report_result)res;
	copy_field(x->sending_ip, sizeof(x->sending_ip), f[0]);
	copy_field(x->mx_host, sizeof(x->mx_host), f[1]);
	copy_field(x->receiving_ip, sizeof(x->receiving_ip), f[2]);
	copy_field(x->reason, sizeof(x->reason), f[3]);
	x->count = count;
}

/* Printable ASCII and tabs only: the writers (report_rec.c, the counts
 * of report_day_counts) never write anything else, so a line with other
 * bytes is not ours. */
static int printable(const char *s)
{
	for (; *s; s++)
		if (*s != '\t' &&
		    ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e))
			return 0;
	return 1;
}

/* A results file line: when domain type id result sip mx rip reason. */
static int add_record_line(struct report_day *d, char *line)
{
	struct detail x;
	char *f[9];
	int res;

	/* the writer sanitises every field: anything else is not ours */
	if (!printable(line) || split(line, f, 9) != 0)
		return MT_OK;
	res = report_result_from_str(f[4]);
	if (res < 0)
		return MT_OK; /* unknown result: skip the line */
	if (res == RESULT_SUCCESS)
		return add_counts(d, &f[1], 1, 0, NULL);
	detail_from(&x, res, &f[5], 1);
	return add_counts(d, &f[1], 0, 1, &x);
}

/* Calls fn for each complete line of f (newline removed); over-long
 * lines are skipped whole. */
static int each_line(FILE *f, struct report_day *d,
		     int (*fn)(struct report_day *, char *))
{
	char line[REPORT_LINE_MAX + 2];
	int rc = MT_OK;

	while (rc == MT_OK && fgets(line, sizeof(line), f) != NULL) {
		char *nl = strchr(line, '\n');

		if (nl == NULL) {
			/* over-long (or unterminated last) line: skip the
			 * rest of it */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		*nl = '\0';
		rc = fn(d, line);
	}
	if (rc == MT_OK && ferror(f))
		rc = MT_EIO;
	return rc;
}

int report_day_load_file(struct report_day *d, const struct config *cfg)
{
	char path[CONFIG_PATH_MAX + 32];
	FILE *f;
	int fd, rc;

	rc = report_day_path(cfg, d->day_start, path, sizeof(path));
	if (rc != MT_OK)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? MT_ENOTFOUND : MT_EIO;
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return MT_EIO;
	}
	rc = each_line(f, d, add_record_line);
	fclose(f);
	return rc;
}

/* ---------------------------------------------------------------- */
/* counts text (the fleet's exchange format)                         */

static int dom_cmp(const void *a, const void *b)
{
	const struct dom *x = *(const struct dom *const *)a;
	const struct dom *y = *(const struct dom *const *)b;

	return strcmp(x->name, y->name);
}

static void sort_domains(struct report_day *d)
{
	if (!d->sorted && d->n > 1)
		qsort(d->order, d->n, sizeof(*d->order), dom_cmp);
	d->sorted = 1;
}

size_t report_day_n_domains(const struct report_day *d)
{
	return d->n;
}

const char *report_day_domain(const struct report_day *d, size_t i)
{
	/* sorting reorders the list only, never an entry: logically const */
	sort_domains((struct report_day *)(uintptr_t)d);
	return i < d->n ? d->order[i]->name : NULL;
}

/* "-" for an empty field, as in the results file. */
static const char *dash(const char *s)
{
	return s[0] != '\0' ? s : "-";
}

int report_day_counts(const struct report_day *d, struct buf *out)
{
	char day[11];
	int rc;

	report_day_str(d->day_start, day);
	rc = buf_printf(out, COUNTS_MAGIC "%s\n", day);
	for (size_t i = 0; rc == MT_OK && i < d->n; i++) {
		const struct dom *m = d->order[i];

		for (size_t k = 0; rc == MT_OK && k < m->n_groups; k++) {
			const struct group *g = &m->groups[k];

			rc = buf_printf(out,
					"G\t%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64
					"\n",
					m->name, dash(g->policy_type),
					dash(g->policy_id), g->ok, g->failed);
			for (size_t j = 0; rc == MT_OK && j < g->n_details;
			     j++) {
				const struct detail *x = &g->details[j];

				rc = buf_printf(out,
						"D\t%s\t%s\t%s\t%s\t%s\t"
						"%s\t%s\t%s\t%" PRIu64 "\n",
						m->name, dash(g->policy_type),
						dash(g->policy_id),
						report_result_str(x->result),
						dash(x->sending_ip),
						dash(x->mx_host),
						dash(x->receiving_ip),
						dash(x->reason), x->count);
			}
		}
	}
	return rc;
}

/* One counts line; -1 when it does not parse. */
static int counts_line(struct report_day *d, char *line, int *rc)
{
	struct detail x;
	uint64_t ok, failed, count;
	char *f[10];
	int res;

	*rc = MT_OK;
	if (!printable(line))
		return -1;
	if (line[0] == 'G' && line[1] == '\t') {
		if (split(line + 2, f, 5) != 0 ||
		    parse_count(f[3], 1, &ok) != 0 ||
		    parse_count(f[4], 1, &failed) != 0)
			return -1;
		*rc = add_counts(d, f, ok, failed, NULL);
		return 0;
	}
	if (line[0] == 'D' && line[1] == '\t') {
		if (split(line + 2, f, 9) != 0 ||
		    parse_count(f[8], 0, &count) != 0)
			return -1;
		res = report_result_from_str(f[3]);
		if (res <= RESULT_SUCCESS)
			return -1;
		detail_from(&x, res, &f[4], count);
		*rc = add_counts(d, f, 0, 0, &x);
		return 0;
	}
	return -1;
}

int report_day_merge_counts(struct report_day *d, const char *text, size_t len,
			    size_t *skipped)
{
	char head[sizeof(COUNTS_MAGIC) + 16], day[11];
	char line[REPORT_LINE_MAX + 1];
	size_t off, bad = 0;
	int rc = MT_OK;

	report_day_str(d->day_start, day);
	snprintf(head, sizeof(head), COUNTS_MAGIC "%s\n", day);
	if (len < strlen(head) || memcmp(text, head, strlen(head)) != 0)
		return MT_EPARSE;
	off = strlen(head);
	while (rc == MT_OK && off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;

		if (nl == NULL || n >= sizeof(line) ||
		    memchr(text + off, '\0', n) != NULL) {
			bad++; /* unterminated, over-long or binary */
		} else {
			memcpy(line, text + off, n);
			line[n] = '\0';
			if (counts_line(d, line, &rc) != 0)
				bad++;
		}
		off += n + 1;
	}
	if (skipped != NULL)
		*skipped = bad;
	return rc;
}

void report_day_totals(const struct report_day *d, const char *domain,
		       uint64_t *ok, uint64_t *failed)
{
	*ok = *failed = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct dom *m = d->order[i];

		if (domain != NULL && strcmp(m->name, domain) != 0)
			continue;
		for (size_t k = 0; k < m->n_groups; k++) {
			*ok = add_sat(*ok, m->groups[k].ok);
			*failed = add_sat(*failed, m->groups[k].failed);
		}
	}
}

/* ---------------------------------------------------------------- */
/* identity, report-id, JSON                                         */

/* The first line of path as a normalised domain, or "". */
static void read_mailname(const char *path, char *out)
{
	char line[DOMAIN_BUFSZ + 2];
	FILE *f;
	size_t n;

	out[0] = '\0';
	if (path == NULL || (f = fopen(path, "re")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) != NULL) {
		n = strcspn(line, "\r\n");
		line[n] = '\0';
		if (domain_normalise(line, n, out) != MT_OK)
			out[0] = '\0';
	}
	fclose(f);
}

void report_ident_init(struct report_ident *id, const struct config *cfg,
		       const char *mailname_path)
{
	const char *at = strrchr(cfg->report_contact, '@');
	char name[DOMAIN_BUFSZ], host[DOMAIN_BUFSZ + 1];

	memset(id, 0, sizeof(*id));
	/* the host's mail name: Debian's /etc/mailname, else the host
	 * name, else "localhost" */
	read_mailname(mailname_path, name);
	if (name[0] == '\0') {
		host[0] = '\0';
		if (gethostname(host, sizeof(host) - 1) != 0 ||
		    domain_normalise(host, strnlen(host, sizeof(host) - 1),
				     name) != MT_OK)
			snprintf(name, sizeof(name), "localhost");
	}
	/* RFC 8460 §5.1: the submitter is the domain of the reporting
	 * organisation: report_contact's, else report_org when it is one */
	if (at == NULL ||
	    domain_normalise(at + 1, strlen(at + 1), id->submitter) != MT_OK) {
		if (cfg->report_org[0] == '\0' ||
		    domain_normalise(cfg->report_org, strlen(cfg->report_org),
				     id->submitter) != MT_OK)
			snprintf(id->submitter, sizeof(id->submitter), "%s",
				 name);
	}
	snprintf(id->org, sizeof(id->org), "%s",
		 cfg->report_org[0] ? cfg->report_org : name);
	if (cfg->report_contact[0] != '\0')
		snprintf(id->contact, sizeof(id->contact), "%s",
			 cfg->report_contact);
	else
		snprintf(id->contact, sizeof(id->contact), "postmaster@%s",
			 id->submitter);
}

int report_id(const struct report_ident *id, const char *domain,
	      int64_t day_start, char *out, size_t n)
{
	char day[11];
	int len;

	report_day_str(day_start, day);
	len = snprintf(out, n, "%s_%s@%s", day, domain, id->submitter);
	return len > 0 && (size_t)len < n ? MT_OK : MT_ETOOBIG;
}

static void fmt_time(char *dst, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* RFC 8460 §4.4 "policy": type, the policy-string and mx-host from the
 * cache when they belong to the policy the results were judged by. */
static void json_policy(struct json *j, const char *domain,
			const struct group *gr,
			const struct report_policy_info *info)
{
	bool sts = strcmp(gr->policy_type, "sts") == 0;
	bool tlsa = strcmp(gr->policy_type, "tlsa") == 0;

	json_key(j, "policy");
	json_object_begin(j);
	/* RFC 8460 §4.4: "tlsa", "sts" or "no-policy-found" (a DANE result's
	 * policy domain is its TLSA base domain, §3) */
	json_key_string(j, "policy-type",
			sts  ? "sts" :
			tlsa ? "tlsa" :
			       "no-policy-found");
	if (sts && info && info->have &&
	    (info->id == NULL || strcmp(info->id, gr->policy_id) == 0)) {
		char l[64];
		uint32_t it = 0;
		const char *pat;

		json_key(j, "policy-string");
		json_array_begin(j);
		json_string(j, "version: STSv1");
		snprintf(l, sizeof(l), "mode: %s",
			 policy_mode_str((enum policy_mode)info->mode));
		json_string(j, l);
		while ((pat = policy_mx_next(info->mx, info->mx_len, &it))) {
			char m[DOMAIN_BUFSZ + 8];

			snprintf(m, sizeof(m), "mx: %s", pat);
			json_string(j, m);
		}
		snprintf(l, sizeof(l), "max_age: %u", info->max_age);
		json_string(j, l);
		json_array_end(j);
		json_key(j, "mx-host");
		json_array_begin(j);
		it = 0;
		while ((pat = policy_mx_next(info->mx, info->mx_len, &it)))
			json_string(j, pat);
		json_array_end(j);
	}
	json_key_string(j, "policy-domain", domain);
	json_object_end(j);
}

static void json_details(struct json *j, const struct group *gr)
{
	json_key(j, "failure-details");
	json_array_begin(j);
	for (size_t i = 0; i < gr->n_details; i++) {
		const struct detail *x = &gr->details[i];

		json_object_begin(j);
		json_key_string(j, "result-type", report_result_str(x->result));
		if (x->sending_ip[0])
			json_key_string(j, "sending-mta-ip", x->sending_ip);
		if (x->mx_host[0])
			json_key_string(j, "receiving-mx-hostname", x->mx_host);
		if (x->receiving_ip[0])
			json_key_string(j, "receiving-ip", x->receiving_ip);
		json_key_int(j, "failed-session-count", (int64_t)x->count);
		if (x->reason[0])
			json_key_string(j, "failure-reason-code", x->reason);
		json_object_end(j);
	}
	json_array_end(j);
}

int report_day_json(const struct report_day *d, const struct report_ident *id,
		    const char *domain, const struct report_policy_info *info,
		    struct buf *out)
{
	const struct dom *m = dom_find(d, domain);
	struct json j;
	char t0[32], t1[32], rid[2 * DOMAIN_BUFSZ + 16];
	int rc;

	if (m == NULL || m->n_groups == 0)
		return MT_ENOTFOUND;
	fmt_time(t0, sizeof(t0), d->day_start);
	fmt_time(t1, sizeof(t1), d->day_start + 86399);
	rc = report_id(id, domain, d->day_start, rid, sizeof(rid));
	if (rc != MT_OK)
		return rc;

	json_init(&j, out);
	json_object_begin(&j);
	json_key_string(&j, "organization-name", id->org);
	json_key(&j, "date-range");
	json_object_begin(&j);
	json_key_string(&j, "start-datetime", t0);
	json_key_string(&j, "end-datetime", t1);
	json_object_end(&j);
	json_key_string(&j, "contact-info", id->contact);
	json_key_string(&j, "report-id", rid);
	json_key(&j, "policies");
	json_array_begin(&j);
	for (size_t g = 0; g < m->n_groups; g++) {
		const struct group *gr = &m->groups[g];

		json_object_begin(&j);
		json_policy(&j, domain, gr, info);
		json_key(&j, "summary");
		json_object_begin(&j);
		json_key_int(&j, "total-successful-session-count",
			     (int64_t)gr->ok);
		json_key_int(&j, "total-failure-session-count",
			     (int64_t)gr->failed);
		json_object_end(&j);
		json_details(&j, gr);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	return json_finish(&j);
}

int report_gzip(const char *in, size_t n, struct buf *out)
{
	z_stream zs;
	unsigned char chunk[16384];
	int zrc, rc = MT_OK;

	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16: a gzip header and trailer (RFC 1952) */
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return MT_ENOMEM;
	zs.next_in = (unsigned char *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zrc = deflate(&zs, Z_FINISH);
		if (zrc == Z_STREAM_ERROR) {
			rc = MT_EINTERNAL;
			break;
		}
		rc = buf_add(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (rc == MT_OK && zrc != Z_STREAM_END);
	deflateEnd(&zs);
	return rc;
}

/* ---------------------------------------------------------------- */
/* days, retention                                                   */

int report_parse_day(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;
	char back[11];

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 10)
		return MT_EPARSE;
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return MT_EPARSE;
	*out = (int64_t)timegm(&tm);
	/* strptime takes day 31 of a 30-day month: not a date */
	report_day_str(*out, back);
	return strcmp(back, s) == 0 ? MT_OK : MT_EPARSE;
}

void report_day_str(int64_t t, char out[11])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    snprintf(out, 11, "%04d-%02d-%02d", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday) != 10)
		snprintf(out, 11, "0000-00-00");
}

int report_pushed_path(const struct config *cfg, int64_t day_start, char *out,
		       size_t n)
{
	char day[11];
	int len;

	report_day_str(day_start, day);
	len = snprintf(out, n, "%s/results-%s.pushed", cfg->report_dir, day);
	return len > 0 && (size_t)len < n ? MT_OK : MT_ETOOBIG;
}

long long report_results_size(const struct config *cfg, int64_t day_start)
{
	char path[CONFIG_PATH_MAX + 32];
	struct stat st;

	if (report_day_path(cfg, day_start, path, sizeof(path)) != MT_OK)
		return -1;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return (long long)st.st_size;
}

bool report_pushed_ok(const struct config *cfg, int64_t day_start)
{
	char path[CONFIG_PATH_MAX + 32], text[32];
	long long size = report_results_size(cfg, day_start), got;
	ssize_t r;
	int fd;

	if (size < 0 ||
	    report_pushed_path(cfg, day_start, path, sizeof(path)) != MT_OK)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return size == 0 && errno == ENOENT;
	r = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (r <= 0)
		return false;
	text[r] = '\0';
	return sscanf(text, "%lld", &got) == 1 && got == size;
}

int report_pushed_mark(const struct config *cfg, int64_t day_start,
		       long long size)
{
	char path[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 40];
	char text[32];
	int fd, n, rc = MT_EIO;

	if (size < 0 ||
	    report_pushed_path(cfg, day_start, path, sizeof(path)) != MT_OK)
		return MT_EIO;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(text, sizeof(text), "%lld\n", size);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return MT_EIO;
	if (write(fd, text, (size_t)n) == n && fsync(fd) == 0)
		rc = MT_OK;
	close(fd);
	if (rc == MT_OK && rename(tmp, path) != 0)
		rc = MT_EIO;
	if (rc != MT_OK)
		unlink(tmp);
	return rc;
}

/* The day of a report_dir file name "results-YYYY-MM-DD.*"; -1 when the
 * name is not one of ours. */
static int name_day(const char *name, int64_t *day)
{
	char ds[11];

	if (strncmp(name, "results-", 8) != 0 || strlen(name) < 8 + 10 + 2 ||
	    name[18] != '.')
		return -1;
	memcpy(ds, name + 8, 10);
	ds[10] = '\0';
	return report_parse_day(ds, day) == MT_OK ? 0 : -1;
}

/* Should the files of day go?  Decided once per day, before any of its
 * files is removed (the push marker is one of them). */
struct prune_day {
	int64_t day;
	bool remove;
};

static int prune_decide(const struct config *cfg, int64_t day,
			bool keep_unpushed, struct prune_day **days, size_t *n,
			bool *remove)
{
	struct prune_day *nd;

	for (size_t i = 0; i < *n; i++)
		if ((*days)[i].day == day) {
			*remove = (*days)[i].remove;
			return MT_OK;
		}
	*remove = !keep_unpushed || report_pushed_ok(cfg, day);
	if (*n % 16 == 0) {
		nd = mem_realloc(*days, (*n + 16) * sizeof(*nd));
		if (nd == NULL)
			return MT_ENOMEM;
		*days = nd;
	}
	(*days)[*n].day = day;
	(*days)[*n].remove = *remove;
	(*n)++;
	return MT_OK;
}

int report_prune(const struct config *cfg, int64_t now, bool keep_unpushed,
		 size_t *removed, size_t *kept)
{
	struct prune_day *days = NULL;
	size_t n_days = 0;
	DIR *dir;
	struct dirent *e;
	int64_t day;
	bool remove;
	int rc = MT_OK;

	*removed = *kept = 0;
	dir = opendir(cfg->report_dir);
	if (dir == NULL)
		return errno == ENOENT ? MT_OK : MT_EIO;
	/* first decide every day, then remove */
	for (int pass = 0; pass < 2 && rc == MT_OK; pass++) {
		rewinddir(dir);
		while (rc == MT_OK && (e = readdir(dir)) != NULL) {
			if (name_day(e->d_name, &day) != 0)
				continue;
			/* the whole day, then the retention period */
			if (day + 86400 + cfg->report_retention > now)
				continue;
			rc = prune_decide(cfg, day, keep_unpushed, &days,
					  &n_days, &remove);
			if (rc != MT_OK || pass == 0)
				continue;
			if (!remove) {
				*kept += strcmp(e->d_name + 18, ".tsv") == 0;
				continue;
			}
			if (unlinkat(dirfd(dir), e->d_name, 0) == 0)
				(*removed)++;
			else if (errno != ENOENT)
				rc = MT_EIO;
		}
	}
	closedir(dir);
	mem_free(days);
	return rc;
}
