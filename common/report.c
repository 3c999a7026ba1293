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
 * file is data the next run trusts no more than the network.
 */
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

#define DETAILS_MAX 1000	/* distinct failure-detail groups per policy */
#define GROUPS_MAX 16		/* distinct policies per domain and day */

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
	size_t n_details;
	struct detail *details;
};

/* Split a line into exactly 9 tab-separated fields; 0 or -1. */
static int split_line(char *line, char *fld[9])
{
	char *p = line;

	for (int i = 0; i < 9; i++) {
		fld[i] = p;
		p = strchr(p, i < 8 ? '\t' : '\n');
		if (p == NULL) {
			if (i == 8)
				return 0;
			return -1;
		}
		*p++ = '\0';
	}
	return 0;
}

static void copy_field(char *dst, size_t dstsz, const char *src)
{
	if (strcmp(src, "-") == 0)
		src = "";
	snprintf(dst, dstsz, "%s", src);
}

static int add_record(struct group *groups, size_t *n_groups, char *fld[9])
{
	struct group *g = NULL;
	struct detail d;
	char type[sizeof(g->policy_type)], id[sizeof(g->policy_id)];
	int res = report_result_from_str(fld[4]);

	if (res < 0)
		return 0;	/* unknown result: skip the line */
	/* compare as stored: "-" (no policy id) is kept as "" */
	copy_field(type, sizeof(type), fld[2]);
	copy_field(id, sizeof(id), fld[3]);
	for (size_t i = 0; i < *n_groups; i++)
		if (strcmp(groups[i].policy_type, type) == 0 &&
		    strcmp(groups[i].policy_id, id) == 0)
			g = &groups[i];
	if (g == NULL) {
		if (*n_groups >= GROUPS_MAX)
			return 0;
		g = &groups[(*n_groups)++];
		memset(g, 0, sizeof(*g));
		memcpy(g->policy_type, type, sizeof(type));
		memcpy(g->policy_id, id, sizeof(id));
	}
	if (res == RESULT_SUCCESS) {
		g->ok++;
		return 0;
	}
	g->failed++;
	memset(&d, 0, sizeof(d));
	d.result = (enum report_result)res;
	copy_field(d.sending_ip, sizeof(d.sending_ip), fld[5]);
	copy_field(d.mx_host, sizeof(d.mx_host), fld[6]);
	copy_field(d.receiving_ip, sizeof(d.receiving_ip), fld[7]);
	copy_field(d.reason, sizeof(d.reason), fld[8]);
	for (size_t i = 0; i < g->n_details; i++) {
		struct detail *x = &g->details[i];

		if (x->result == d.result && !strcmp(x->sending_ip, d.sending_ip) &&
		    !strcmp(x->mx_host, d.mx_host) &&
		    !strcmp(x->receiving_ip, d.receiving_ip) &&
		    !strcmp(x->reason, d.reason)) {
			x->count++;
			return 0;
		}
	}
	if (g->n_details >= DETAILS_MAX)
		return 0;
	if (g->n_details % 32 == 0) {
		struct detail *nd = mem_realloc(g->details,
						(g->n_details + 32) * sizeof(*nd));

		if (nd == NULL)
			return MT_ENOMEM;
		g->details = nd;
	}
	d.count = 1;
	g->details[g->n_details++] = d;
	return 0;
}

/* Read the day's records for domain (or, with domain NULL, collect the
 * domain names into names). */
static int scan_day(const struct config *cfg, int64_t day_start,
		    const char *domain, struct group *groups, size_t *n_groups,
		    struct buf *names, size_t *n_names)
{
	char path[CONFIG_PATH_MAX + 32], line[REPORT_LINE_MAX + 2];
	FILE *f;
	int fd, rc = MT_OK;

	rc = report_day_path(cfg, day_start, path, sizeof(path));
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
	while (rc == MT_OK && fgets(line, sizeof(line), f) != NULL) {
		char *fld[9];

		if (strchr(line, '\n') == NULL) {
			/* over-long line: skip the rest of it */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (split_line(line, fld) != 0)
			continue;
		if (domain == NULL) {
			const char *p;
			size_t off = 0, seen = 0;

			while (off < names->len) {
				p = names->data + off;
				if (strcmp(p, fld[1]) == 0) {
					seen = 1;
					break;
				}
				off += strlen(p) + 1;
			}
			if (!seen && strcmp(fld[1], "-") != 0) {
				rc = buf_add(names, fld[1], strlen(fld[1]) + 1);
				(*n_names)++;
			}
		} else if (strcmp(fld[1], domain) == 0) {
			rc = add_record(groups, n_groups, fld);
		}
	}
	fclose(f);
	return rc;
}

int report_domains(const struct config *cfg, int64_t day_start,
		   struct buf *out, size_t *n)
{
	*n = 0;
	return scan_day(cfg, day_start, NULL, NULL, NULL, out, n);
}

static void fmt_time(char *dst, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *report_submitter(const struct config *cfg)
{
	const char *at = strrchr(cfg->report_contact, '@');
	char d[DOMAIN_BUFSZ];

	if (at != NULL && at[1] != '\0')
		return at + 1;
	if (cfg->report_org[0] != '\0' &&
	    domain_normalise(cfg->report_org, strlen(cfg->report_org), d) == MT_OK)
		return cfg->report_org;
	return "localhost";
}

int report_id(const struct config *cfg, const char *domain, int64_t day_start,
	      char *out, size_t n)
{
	struct tm tm;
	time_t t = (time_t)day_start;
	int len;

	if (gmtime_r(&t, &tm) == NULL)
		return MT_EINVAL;
	len = snprintf(out, n, "%04d-%02d-%02d_%s@%s", tm.tm_year + 1900,
		       tm.tm_mon + 1, tm.tm_mday, domain, report_submitter(cfg));
	return len > 0 && (size_t)len < n ? MT_OK : MT_ETOOBIG;
}

int report_build_json(const struct config *cfg, const char *domain,
		      int64_t day_start, const struct report_policy_info *info,
		      struct buf *out)
{
	struct group groups[GROUPS_MAX];
	size_t n_groups = 0;
	struct json j;
	char t0[32], t1[32], rid[2 * DOMAIN_BUFSZ + 300];
	int rc;

	rc = scan_day(cfg, day_start, domain, groups, &n_groups, NULL, NULL);
	if (rc == MT_OK && n_groups == 0)
		rc = MT_ENOTFOUND;
	if (rc != MT_OK)
		goto out;
	fmt_time(t0, sizeof(t0), day_start);
	fmt_time(t1, sizeof(t1), day_start + 86399);
	rc = report_id(cfg, domain, day_start, rid, sizeof(rid));
	if (rc != MT_OK)
		goto out;

	json_init(&j, out);
	json_object_begin(&j);
	json_key_string(&j, "organization-name",
			cfg->report_org[0] ? cfg->report_org : "mtasts");
	json_key(&j, "date-range");
	json_object_begin(&j);
	json_key_string(&j, "start-datetime", t0);
	json_key_string(&j, "end-datetime", t1);
	json_object_end(&j);
	json_key_string(&j, "contact-info", cfg->report_contact[0] ?
			cfg->report_contact : "postmaster");
	json_key_string(&j, "report-id", rid);
	json_key(&j, "policies");
	json_array_begin(&j);
	for (size_t g = 0; g < n_groups; g++) {
		struct group *gr = &groups[g];
		bool sts = strcmp(gr->policy_type, "sts") == 0;
		bool tlsa = strcmp(gr->policy_type, "tlsa") == 0;

		json_object_begin(&j);
		json_key(&j, "policy");
		json_object_begin(&j);
		/* RFC 8460 §4.4: "tlsa", "sts" or "no-policy-found" (a DANE
		 * result's policy domain is its TLSA base domain, §3) */
		json_key_string(&j, "policy-type", sts ? "sts" :
				tlsa ? "tlsa" : "no-policy-found");
		if (sts && info && info->have &&
		    (info->id == NULL || strcmp(info->id, gr->policy_id) == 0)) {
			char l[64];
			uint32_t it = 0;
			const char *pat;

			json_key(&j, "policy-string");
			json_array_begin(&j);
			json_string(&j, "version: STSv1");
			snprintf(l, sizeof(l), "mode: %s",
				 policy_mode_str((enum policy_mode)info->mode));
			json_string(&j, l);
			while ((pat = policy_mx_next(info->mx, info->mx_len, &it))) {
				char m[DOMAIN_BUFSZ + 8];

				snprintf(m, sizeof(m), "mx: %s", pat);
				json_string(&j, m);
			}
			snprintf(l, sizeof(l), "max_age: %u", info->max_age);
			json_string(&j, l);
			json_array_end(&j);
			json_key(&j, "mx-host");
			json_array_begin(&j);
			it = 0;
			while ((pat = policy_mx_next(info->mx, info->mx_len, &it)))
				json_string(&j, pat);
			json_array_end(&j);
		}
		json_key_string(&j, "policy-domain", domain);
		json_object_end(&j);
		json_key(&j, "summary");
		json_object_begin(&j);
		json_key_int(&j, "total-successful-session-count", (int64_t)gr->ok);
		json_key_int(&j, "total-failure-session-count", (int64_t)gr->failed);
		json_object_end(&j);
		json_key(&j, "failure-details");
		json_array_begin(&j);
		for (size_t i = 0; i < gr->n_details; i++) {
			struct detail *d = &gr->details[i];

			json_object_begin(&j);
			json_key_string(&j, "result-type", report_result_str(d->result));
			if (d->sending_ip[0])
				json_key_string(&j, "sending-mta-ip", d->sending_ip);
			if (d->mx_host[0])
				json_key_string(&j, "receiving-mx-hostname", d->mx_host);
			if (d->receiving_ip[0])
				json_key_string(&j, "receiving-ip", d->receiving_ip);
			json_key_int(&j, "failed-session-count", (int64_t)d->count);
			if (d->reason[0])
				json_key_string(&j, "failure-reason-code", d->reason);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	rc = json_finish(&j);
out:
	for (size_t g = 0; g < n_groups; g++)
		mem_free(groups[g].details);
	return rc;
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
