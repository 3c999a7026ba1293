/*
 * report_rec.c - TLS-RPT result recording (RFC 8460): the cheap half that a
 * delivery process runs, with no library beyond libc (report.c reads the
 * files back and aggregates them).
 *
 * The results file of a day is report_dir/results-YYYY-MM-DD.tsv, one
 * record per line, tab-separated:
 *   when domain policy-type policy-id result sending-ip mx-host
 *   receiving-ip reason-code
 * Fields are sanitised before writing (no tab, newline or control byte can
 * reach the file).  One write(2) per line, lines shorter than PIPE_BUF, so
 * concurrent writers never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "domain.h"
#include "log.h"
#include "report.h"
#include "shm.h"
#include "status.h"

static const char *const result_names[RESULT_COUNT_] = {
	[RESULT_SUCCESS] = "success",
	[RESULT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
	[RESULT_CERTIFICATE_HOST_MISMATCH] = "certificate-host-mismatch",
	[RESULT_CERTIFICATE_EXPIRED] = "certificate-expired",
	[RESULT_CERTIFICATE_NOT_TRUSTED] = "certificate-not-trusted",
	[RESULT_VALIDATION_FAILURE] = "validation-failure",
	[RESULT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
	[RESULT_STS_POLICY_INVALID] = "sts-policy-invalid",
	[RESULT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
	[RESULT_TLSA_INVALID] = "tlsa-invalid",
	[RESULT_DNSSEC_INVALID] = "dnssec-invalid",
	[RESULT_DANE_REQUIRED] = "dane-required",
};

const char *report_result_str(enum report_result r)
{
	if ((unsigned)r >= RESULT_COUNT_)
		return "validation-failure";
	return result_names[r];
}

int report_result_from_str(const char *s)
{
	for (int i = 0; i < RESULT_COUNT_; i++)
		if (strcmp(result_names[i], s) == 0)
			return i;
	return -1;
}

int report_day_path(const struct config *cfg, int64_t t, char *out,
		    size_t outsz)
{
	struct tm tm;
	time_t tt = (time_t)t;
	int n;

	if (gmtime_r(&tt, &tm) == NULL)
		return MT_EINVAL;
	n = snprintf(out, outsz, "%s/results-%04d-%02d-%02d.tsv",
		     cfg->report_dir, tm.tm_year + 1900, tm.tm_mon + 1,
		     tm.tm_mday);
	if (n < 0 || (size_t)n >= outsz)
		return MT_ETOOBIG;
	return MT_OK;
}

/* Copy s for the file: printable ASCII except tab; "-" when empty. */
static void field(char *dst, size_t dstsz, const char *s)
{
	if (s == NULL || s[0] == '\0') {
		snprintf(dst, dstsz, "-");
		return;
	}
	log_sanitise(dst, dstsz, s, strlen(s));
}

/* The report directory was just made: made by root inside the MTA user's
 * directory, it is that user's (opened without following a name the user
 * could have swapped). */
static void made_dir(const char *dir)
{
	uid_t uid;
	gid_t gid;
	int fd;

	if (shm_owner_for(dir, &uid, &gid) != MT_OK || uid == geteuid())
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fchown(fd, uid, gid) != 0)
		log_msg(LOG_LVL_ERR, "event=report-dir-chown-failed path=%s",
			dir);
	close(fd);
}

int report_record(const struct config *cfg, const struct report_rec *r)
{
	char path[CONFIG_PATH_MAX + 32], line[REPORT_LINE_MAX];
	char f[8][DOMAIN_BUFSZ];
	struct stat st;
	uid_t uid;
	gid_t gid;
	ssize_t w;
	int fd, n, rc;

	rc = report_day_path(cfg, r->when, path, sizeof(path));
	if (rc != MT_OK)
		return rc;
	field(f[0], sizeof(f[0]), r->domain);
	field(f[1], 16, r->policy_type);
	field(f[2], 33, r->policy_id);
	field(f[3], REPORT_ADDR_MAX, r->sending_ip);
	field(f[4], sizeof(f[4]), r->mx_host);
	field(f[5], REPORT_ADDR_MAX, r->receiving_ip);
	field(f[6], 64, r->reason_code);
	n = snprintf(line, sizeof(line),
		     "%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r->when,
		     f[0], f[1], f[2], report_result_str(r->result), f[3], f[4],
		     f[5], f[6]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return MT_ETOOBIG;
	if (mkdir(cfg->report_dir, 0700) == 0)
		made_dir(cfg->report_dir);
	else if (errno != EEXIST)
		return MT_EIO;
	if (shm_owner_for(path, &uid, &gid) != MT_OK)
		return MT_EINVAL;
	fd = open(path,
		  O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC |
			  O_NOFOLLOW,
		  0600);
	if (fd >= 0) {
		/* new: made by root in the MTA user's directory, it is
		 * that user's */
		if (uid != geteuid() && fchown(fd, uid, gid) != 0) {
			close(fd);
			return MT_EIO;
		}
	} else if (errno == EEXIST) {
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return MT_EIO;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != uid) {
			/* not the file its directory's owner would have */
			log_msg(LOG_LVL_ERR,
				"event=report-file-refused path=%s "
				"security=1",
				path);
			close(fd);
			return MT_EPERM;
		}
	} else {
		return MT_EIO;
	}
	/* one write: lines < PIPE_BUF, so appends never interleave */
	w = write(fd, line, (size_t)n);
	close(fd);
	return w == n ? MT_OK : MT_EIO;
}
