/*
 * test_policy.c - the policy parser against RFC 8461 §3.2 (every ABNF
 * production, every MUST), the decisions of docs/conformance.md, the
 * pitfalls with their codes, the traps (NUL, bare CR, BOM, invalid UTF-8,
 * long lines, 1,000 mx lines, the 64 KiB cap) and out-of-memory at every
 * allocation point.  Table-driven: {label, input, want}.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_main.h"
#include "mem.h"
#include "policy.h"
#include "status.h"
#include "str.h"
#include "testlib.h"

#define HDR "version: STSv1\n"
#define GOOD_TAIL "mode: enforce\nmx: mx.example.com\nmax_age: 604800\n"

struct pcase {
	const char *label;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int want_rc;
	enum policy_mode mode;	/* when MT_OK */
	unsigned max_age;	/* when MT_OK */
	const char *mx;		/* when MT_OK: patterns joined by ',' */
	const char *codes;	/* findings that must be reported, ',' separated;
				 * "E:" / "W:" prefix checks the severity */
};

static const struct pcase cases[] = {
	/* --- the grammar, valid forms --- */
	{ "minimal enforce", HDR GOOD_TAIL, 0, MT_OK, POLICY_MODE_ENFORCE,
	  604800, "mx.example.com", NULL },
	{ "testing", HDR "mode: testing\nmx: mx.example.com\nmax_age: 86400\n", 0,
	  MT_OK, POLICY_MODE_TESTING, 86400, "mx.example.com", NULL },
	{ "none without mx", HDR "mode: none\nmax_age: 86400\n", 0, MT_OK,
	  POLICY_MODE_NONE, 86400, "", NULL },
	{ "none with mx", HDR "mode: none\nmx: a.example\nmax_age: 86400\n", 0,
	  MT_OK, POLICY_MODE_NONE, 86400, "a.example", NULL },
	{ "CRLF terminators", "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 604800\r\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "mixed CRLF and LF", "version: STSv1\r\nmode: enforce\nmx: mx.example.com\r\nmax_age: 604800\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "no final terminator", HDR "mode: enforce\nmx: mx.example.com\nmax_age: 604800",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "no space after colon", "version:STSv1\nmode:enforce\nmx:mx.example.com\nmax_age:604800\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "tabs after colon", "version:\tSTSv1\nmode: \tenforce\nmx:\t\tmx.example.com\nmax_age:  604800\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "several mx, wildcard", HDR "mode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800,
	  "mail.example.com,*.example.net,backupmx.example.com", NULL },
	{ "fields in another order", "mode: enforce\nmax_age: 604800\nmx: mx.example.com\nversion: STSv1\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", "W:version-not-first" },
	{ "mx lower-cased, dot dropped", HDR "mode: enforce\nmx: MX.Example.COM.\nmax_age: 604800\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", "W:mx-trailing-dot" },
	{ "mx U-label", HDR "mode: enforce\nmx: *.b\xc3\xbc" "cher.de\nmax_age: 604800\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "*.xn--bcher-kva.de", "W:mx-ulabel" },
	{ "max_age 0", HDR "mode: none\nmax_age: 0\n", 0, MT_OK, POLICY_MODE_NONE,
	  0, "", "W:max-age-short" },
	{ "max_age maximum", HDR "mode: none\nmax_age: 31557600\n", 0, MT_OK,
	  POLICY_MODE_NONE, 31557600, "", NULL },
	{ "max_age 10 digits clamped", HDR "mode: none\nmax_age: 9999999999\n", 0,
	  MT_OK, POLICY_MODE_NONE, 31557600, "", "W:max-age-clamped" },
	{ "max_age just above clamped", HDR "mode: none\nmax_age: 31557601\n", 0,
	  MT_OK, POLICY_MODE_NONE, 31557600, "", "W:max-age-clamped" },
	{ "max_age over 2^32 clamped", HDR "mode: none\nmax_age: 4294967296\n", 0,
	  MT_OK, POLICY_MODE_NONE, 31557600, "", "W:max-age-clamped" },
	{ "max_age leading zero", HDR "mode: none\nmax_age: 0086400\n", 0, MT_OK,
	  POLICY_MODE_NONE, 86400, "", "W:max-age-leading-zero" },
	{ "max_age 010 is ten", HDR "mode: none\nmax_age: 010\n", 0, MT_OK,
	  POLICY_MODE_NONE, 10, "", "W:max-age-leading-zero,W:max-age-short" },
	{ "max_age short warns", HDR "mode: testing\nmx: a.example\nmax_age: 3600\n",
	  0, MT_OK, POLICY_MODE_TESTING, 3600, "a.example", "W:max-age-short" },
	{ "extension ignored", HDR GOOD_TAIL "foo_bar.1-x: some value with spaces\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", "W:key-extension" },
	{ "extension UTF-8 value", HDR GOOD_TAIL "note: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "extension name 32 chars", HDR GOOD_TAIL "a1234567890123456789012345678901: x\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "extension name starting with digit", HDR GOOD_TAIL "9x: y\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "extension value with ':' and '='", HDR GOOD_TAIL "x: a:b=c;d\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },
	{ "mx value with colon elsewhere", HDR GOOD_TAIL "url: https://x.example/a\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 604800, "mx.example.com", NULL },

	/* --- decisions (docs/conformance.md) --- */
	{ "duplicate mode: first wins", HDR "mode: enforce\nmode: none\nmx: a.example\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 86400, "a.example", "W:duplicate-key" },
	{ "duplicate max_age: first wins", HDR "mode: none\nmax_age: 86400\nmax_age: 5\n",
	  0, MT_OK, POLICY_MODE_NONE, 86400, "", "W:duplicate-key" },
	{ "duplicate version: first wins", HDR HDR "mode: none\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_NONE, 86400, "", "W:duplicate-key" },
	{ "duplicate max_age, short second: first wins", HDR "mode: none\nmax_age: 86400\nmax_age: 010\n",
	  0, MT_OK, POLICY_MODE_NONE, 86400, "", "W:duplicate-key" },
	/* every line must satisfy the grammar of its field, then the first
	 * occurrence wins (docs/conformance.md decision 1) */
	{ "repeated mode with a control byte", HDR "mode: enforce\nmode: \x01\nmx: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "repeated mode invalid", HDR "mode: none\nmode: bogus\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "repeated mode empty", HDR "mode: none\nmode:\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:value-empty" },
	{ "repeated mode only spaces", HDR "mode: none\nmode:  \nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:value-empty" },
	{ "repeated max_age empty", HDR "mode: none\nmax_age: 86400\nmax_age:\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:value-empty" },
	{ "repeated max_age with a unit", HDR "mode: none\nmax_age: 86400\nmax_age: 5s\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:max-age-invalid" },
	{ "repeated max_age 11 digits", HDR "mode: none\nmax_age: 86400\nmax_age: 10000000000\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:max-age-too-long" },
	{ "repeated version STSv2", HDR "version: STSv2\nmode: none\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:version-invalid" },
	{ "repeated version with a control byte", HDR "version: STSv1\x7f\nmode: none\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:version-invalid" },
	{ "duplicate mx pattern", HDR "mode: enforce\nmx: a.example\nmx: A.example.\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 86400, "a.example,a.example", "W:mx-duplicate" },
	{ "blank line tolerated", HDR "\nmode: none\nmax_age: 86400\n", 0, MT_OK,
	  POLICY_MODE_NONE, 86400, "", "W:blank-line" },
	{ "whitespace-only line tolerated", HDR " \t\nmode: none\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_NONE, 86400, "", "W:whitespace-line" },
	{ "trailing blank lines", HDR "mode: none\nmax_age: 86400\n\n\n", 0, MT_OK,
	  POLICY_MODE_NONE, 86400, "", "W:blank-line" },
	{ "trailing whitespace tolerated", "version: STSv1 \nmode: none\t\nmax_age: 86400  \r\n",
	  0, MT_OK, POLICY_MODE_NONE, 86400, "", "W:trailing-whitespace" },

	/* --- MUSTs and grammar violations: invalid --- */
	{ "empty", "", 0, MT_EPARSE, 0, 0, NULL, "E:empty" },
	{ "version missing", "mode: none\nmax_age: 86400\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:version-missing" },
	{ "version STSv2", "version: STSv2\nmode: none\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:version-invalid" },
	{ "version lower case", "version: stsv1\nmode: none\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:version-invalid" },
	{ "mode missing", HDR "mx: a.example\nmax_age: 86400\n", 0, MT_EPARSE, 0,
	  0, NULL, "E:mode-missing" },
	{ "max_age missing", HDR "mode: none\n", 0, MT_EPARSE, 0, 0, NULL,
	  "E:max-age-missing" },
	{ "mode upper case", HDR "mode: Enforce\nmx: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "mode typo", HDR "mode: enforced\nmx: a.example\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "mode unknown", HDR "mode: strict\nmx: a.example\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "mode with trailing text", HDR "mode: enforce now\nmx: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "enforce without mx", HDR "mode: enforce\nmax_age: 86400\n", 0, MT_EPARSE,
	  0, 0, NULL, "E:mx-missing" },
	{ "testing without mx", HDR "mode: testing\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:mx-missing" },
	{ "enforce with only bad mx", HDR "mode: enforce\nmx: 192.0.2.1\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "W:mx-ip-literal,E:mx-missing" },
	{ "max_age negative", HDR "mode: none\nmax_age: -1\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:max-age-invalid" },
	{ "max_age plus sign", HDR "mode: none\nmax_age: +86400\n", 0, MT_EPARSE,
	  0, 0, NULL, "E:max-age-invalid" },
	{ "max_age 11 digits", HDR "mode: none\nmax_age: 10000000000\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:max-age-too-long" },
	{ "max_age 11 digits leading zero", HDR "mode: none\nmax_age: 00000086400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:max-age-too-long" },
	{ "max_age 20 digits", HDR "mode: none\nmax_age: 18446744073709551617\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:max-age-too-long" },
	{ "max_age unit", HDR "mode: none\nmax_age: 86400s\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:max-age-invalid" },
	{ "max_age decimal point", HDR "mode: none\nmax_age: 8640.0\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:max-age-invalid" },
	{ "max_age hex", HDR "mode: none\nmax_age: 0x10\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:max-age-invalid" },
	{ "max_age inner space", HDR "mode: none\nmax_age: 86 400\n", 0, MT_EPARSE,
	  0, 0, NULL, "E:max-age-invalid" },
	{ "value empty", HDR "mode:\nmax_age: 86400\n", 0, MT_EPARSE, 0, 0, NULL,
	  "E:value-empty" },
	{ "no colon", HDR "mode none\nmax_age: 86400\n", 0, MT_EPARSE, 0, 0, NULL,
	  "E:no-colon" },
	{ "key with space before colon", HDR "mode : none\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:key-invalid" },
	{ "leading whitespace", HDR " mode: none\nmax_age: 86400\n", 0, MT_EPARSE,
	  0, 0, NULL, "E:leading-whitespace" },
	{ "key starting with '_'", HDR GOOD_TAIL "_x: y\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:key-invalid" },
	{ "key 33 chars", HDR GOOD_TAIL "a12345678901234567890123456789012: x\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:key-invalid" },
	{ "empty key", HDR GOOD_TAIL ": x\n", 0, MT_EPARSE, 0, 0, NULL,
	  "E:key-invalid" },
	{ "extension value with tab", HDR GOOD_TAIL "x: a\tb\n", 0, MT_EPARSE, 0,
	  0, NULL, "E:ext-value-invalid" },
	{ "extension value control char", HDR GOOD_TAIL "x: a\x01" "b\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:ext-value-invalid" },
	{ "extension value DEL", HDR GOOD_TAIL "x: a\x7f\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:ext-value-invalid" },
	{ "extension value invalid UTF-8", HDR GOOD_TAIL "x: \xc0\xaf\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:ext-value-invalid" },
	{ "extension value lone continuation", HDR GOOD_TAIL "x: a\x80\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:ext-value-invalid" },
	{ "extension value surrogate", HDR GOOD_TAIL "x: \xed\xa0\x80\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:ext-value-invalid" },
	{ "extension value truncated UTF-8", HDR GOOD_TAIL "x: \xe2\x82\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:ext-value-invalid" },

	/* --- pitfalls with their own codes --- */
	{ "key max-age", HDR "mode: none\nmax-age: 86400\n", 0, MT_EPARSE, 0, 0,
	  NULL, "W:key-unknown,E:max-age-missing" },
	{ "key maxage", HDR "mode: none\nmaxage: 86400\n", 0, MT_EPARSE, 0, 0,
	  NULL, "W:key-unknown,E:max-age-missing" },
	{ "key MX is case-sensitive", HDR "mode: enforce\nMX: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "W:key-unknown,E:mx-missing" },
	{ "key Mode is case-sensitive", HDR "Mode: none\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "W:key-unknown,E:mode-missing" },
	{ "key Version", "Version: STSv1\nmode: none\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "W:key-unknown,E:version-missing" },
	/* a Domain that can never name an MX host: left out, the rest
	 * applies (docs/conformance.md decision 11) */
	{ "mx IPv4 beside a name", HDR "mode: enforce\nmx: mail.example.com\nmx: 192.0.2.1\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 86400, "mail.example.com", "W:mx-ip-literal" },
	{ "mx IPv4", HDR "mode: enforce\nmx: 192.0.2.25\nmx: a.example\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 86400, "a.example", "W:mx-ip-literal" },
	{ "mx IPv4 with trailing dot", HDR "mode: enforce\nmx: 192.0.2.25.\nmx: a.example\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 86400, "a.example", "W:mx-ip-literal" },
	{ "mx numeric last label", HDR "mode: enforce\nmx: mx.123\nmx: a.example\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_ENFORCE, 86400, "a.example", "W:mx-numeric-tld" },
	{ "mx wildcard over a numeric label", HDR "mode: testing\nmx: *.10\nmx: a.example\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_TESTING, 86400, "a.example", "W:mx-numeric-tld" },
	{ "mx IPv4 under mode none", HDR "mode: none\nmx: 10.0.0.1\nmax_age: 86400\n",
	  0, MT_OK, POLICY_MODE_NONE, 86400, "", "W:mx-ip-literal" },
	{ "mx IPv4 with a bad line too", HDR "mode: enforce\nmx: a.example\nmx: 192.0.2.1\nmx: a.example:25\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "W:mx-ip-literal,E:mx-port" },
	{ "mx IPv6 literal", HDR "mode: enforce\nmx: [2001:db8::25]\nmx: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-ip-literal" },
	{ "mx IPv6 bare", HDR "mode: enforce\nmx: 2001:db8::25\nmx: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-ip-literal" },
	{ "mx port", HDR "mode: enforce\nmx: mx.example.com:25\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-port" },
	{ "mx URL", HDR "mode: enforce\nmx: smtp://mx.example.com\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-url" },
	{ "mx star alone", HDR "mode: enforce\nmx: *\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:mx-wildcard-alone" },
	{ "mx star mid-label", HDR "mode: enforce\nmx: mx.*.example.com\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-wildcard-position" },
	{ "mx partial wildcard", HDR "mode: enforce\nmx: mx*.example.com\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-wildcard-position" },
	{ "mx empty label", HDR "mode: enforce\nmx: a..example.com\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "mx two values on a line", HDR "mode: enforce\nmx: a.example b.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "mx comma list", HDR "mode: enforce\nmx: a.example,b.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "mx underscore", HDR "mode: enforce\nmx: mx_1.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	/* IDN: strict IDNA2008, length after conversion */
	{ "mx fullwidth letters", HDR "mode: enforce\nmx: \xef\xbd\x8d\xef\xbd\x98.example.com\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "mx zero-width space", HDR "mode: enforce\nmx: m\xe2\x80\x8bx.example.com\nmx: a.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "mx ideographic full stop", HDR "mode: enforce\nmx: *.example\xe3\x80\x82" "com\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "mx too long", HDR "mode: enforce\nmx: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },

	/* --- traps --- */
	{ "BOM", "\xef\xbb\xbfversion: STSv1\nmode: none\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:bom" },
	{ "bare CR line ends", "version: STSv1\rmode: none\rmax_age: 86400\r", 0,
	  MT_EPARSE, 0, 0, NULL, "E:bare-cr" },
	{ "bare CR inside a value", HDR "mode: no\rne\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:bare-cr" },
	{ "CR CR LF", HDR "mode: none\r\r\nmax_age: 86400\n", 0, MT_EPARSE, 0, 0,
	  NULL, "E:bare-cr" },
	{ "NUL inside a value", HDR "mode: en\0force\nmx: a.example\nmax_age: 86400\n",
	  sizeof(HDR "mode: en\0force\nmx: a.example\nmax_age: 86400\n") - 1,
	  MT_EPARSE, 0, 0, NULL, "E:nul" },
	{ "NUL after a valid mx", HDR "mode: enforce\nmx: a.example\0\nmax_age: 86400\n",
	  sizeof(HDR "mode: enforce\nmx: a.example\0\nmax_age: 86400\n") - 1,
	  MT_EPARSE, 0, 0, NULL, "E:nul" },
	{ "invalid UTF-8 in mx", HDR "mode: enforce\nmx: b\xfc" "cher.de\nmax_age: 86400\n",
	  0, MT_EPARSE, 0, 0, NULL, "E:mx-invalid" },
	{ "invalid UTF-8 in mode", HDR "mode: \xff\nmax_age: 86400\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:mode-invalid" },
	{ "invalid UTF-8 in key", HDR GOOD_TAIL "\xc3\xa9t\xc3\xa9: x\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:key-invalid" },
	{ "HTML instead of a policy", "<html><body>Not Found</body></html>\n", 0,
	  MT_EPARSE, 0, 0, NULL, "E:no-colon,E:version-missing" },
	{ NULL, NULL, 0, 0, 0, 0, NULL, NULL },
};

/* Is code reported (with the severity when codes carry "E:"/"W:")? */
static void join_mx(const struct policy *p, char *out, size_t cap)
{
	uint32_t it = 0;
	const char *pat;
	size_t n = 0;

	out[0] = '\0';
	while ((pat = policy_mx_next(p->mx, p->mx_len, &it)) != NULL) {
		int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", pat);

		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
}

static void test_table(void)
{
	for (const struct pcase *t = cases; t->label; t++) {
		struct diag_list d;
		struct policy p;
		size_t len = t->len ? t->len : strlen(t->in);
		int rc;

		diag_init(&d);
		rc = policy_parse(t->in, len, &p, &d);
		if (rc != t->want_rc) {
			fprintf(stderr, "\n  case '%s': rc %d, want %d;", t->label, rc,
				t->want_rc);
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, " [%s %s]", d.v[i].code, d.v[i].msg);
			fprintf(stderr, "\n");
		}
		CU_ASSERT_EQUAL(rc, t->want_rc);
		if (rc == MT_OK && t->want_rc == MT_OK) {
			char mx[1024];

			CU_ASSERT_EQUAL(p.mode, t->mode);
			CU_ASSERT_EQUAL(p.max_age, t->max_age);
			CU_ASSERT_EQUAL(d.n_err, 0);
			join_mx(&p, mx, sizeof(mx));
			if (strcmp(mx, t->mx) != 0)
				fprintf(stderr, "\n  case '%s': mx '%s', want '%s'\n",
					t->label, mx, t->mx);
			CU_ASSERT_STRING_EQUAL(mx, t->mx);
			CU_ASSERT_EQUAL(p.n_mx == 0, p.mx == NULL);
		}
		if (rc != MT_OK) {
			CU_ASSERT_PTR_NULL(p.mx);
			CU_ASSERT_EQUAL(p.n_mx, 0);
			CU_ASSERT(d.n_err > 0);
		}
		test_check_codes(t->label, &d, t->codes);
		/* the verdict never depends on whether diagnostics are kept */
		{
			struct policy q;

			CU_ASSERT_EQUAL(policy_parse(t->in, len, &q, NULL), rc);
			policy_clear(&q);
		}
		policy_clear(&p);
		diag_free(&d);
	}
}

/* Line numbers point at the offending line, CRLF or LF. */
static void test_line_numbers(void)
{
	const char *in = "version: STSv1\r\nmode: enforce\r\n\r\nmx: 10.0.0.1\r\nmax-age: 5\r\n";
	struct diag_list d;
	struct policy p;
	int seen = 0;

	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(in, strlen(in), &p, &d), MT_EPARSE);
	for (size_t i = 0; i < d.n; i++) {
		if (strcmp(d.v[i].code, "blank-line") == 0) {
			CU_ASSERT_EQUAL(d.v[i].line, 3);
			seen |= 1;
		}
		if (strcmp(d.v[i].code, "mx-ip-literal") == 0) {
			CU_ASSERT_EQUAL(d.v[i].line, 4);
			seen |= 2;
		}
		if (strcmp(d.v[i].code, "key-unknown") == 0) {
			CU_ASSERT_EQUAL(d.v[i].line, 5);
			CU_ASSERT_PTR_NOT_NULL(strstr(d.v[i].msg, "max_age"));
			seen |= 4;
		}
		if (strcmp(d.v[i].code, "max-age-missing") == 0) {
			CU_ASSERT_EQUAL(d.v[i].line, 0);
			seen |= 8;
		}
	}
	CU_ASSERT_EQUAL(seen, 15);
	diag_free(&d);
}

/* "did you mean" names the intended word. */
static void test_did_you_mean(void)
{
	const char *in = HDR "mode: enforcd\nmx: a.example\nmax_age: 86400\n";
	struct diag_list d;
	struct policy p;

	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(in, strlen(in), &p, &d), MT_EPARSE);
	CU_ASSERT_TRUE(d.n >= 1);
	for (size_t i = 0; i < d.n; i++)
		if (strcmp(d.v[i].code, "mode-invalid") == 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(d.v[i].msg, "'enforce'"));
	diag_free(&d);
}

static char *make_policy(size_t n_mx, size_t *len)
{
	size_t cap = 64 + n_mx * 40, n;
	char *s = malloc(cap);

	n = (size_t)snprintf(s, cap, "version: STSv1\nmode: enforce\nmax_age: 604800\n");
	for (size_t i = 0; i < n_mx; i++)
		n += (size_t)snprintf(s + n, cap - n, "mx: mx%zu.example.com\n", i);
	*len = n;
	return s;
}

/* 1,000 mx lines (~22 KB) parse; so does a body of exactly 65536 bytes. */
static void test_many_mx(void)
{
	size_t len;
	char *s = make_policy(1000, &len);
	struct policy p;
	uint32_t it = 0, n = 0;
	const char *pat, *last = NULL;

	CU_ASSERT_EQUAL(policy_parse(s, len, &p, NULL), MT_OK);
	CU_ASSERT_EQUAL(p.n_mx, 1000);
	while ((pat = policy_mx_next(p.mx, p.mx_len, &it)) != NULL) {
		last = pat;
		n++;
	}
	CU_ASSERT_EQUAL(n, 1000);
	CU_ASSERT_STRING_EQUAL(last, "mx999.example.com");
	CU_ASSERT_TRUE(policy_mx_matches(p.mx, p.mx_len, "mx500.example.com"));
	CU_ASSERT_FALSE(policy_mx_matches(p.mx, p.mx_len, "mx1000.example.com"));
	policy_clear(&p);
	free(s);
}

static void test_size_cap(void)
{
	size_t len, cap = POLICY_MAX_BYTES + 2;
	char *s = make_policy(0, &len), *big = malloc(cap);
	struct diag_list d;
	struct policy p;

	/* pad with an extension field to exactly 65536, then 65537 */
	memcpy(big, s, len);
	memcpy(big + len, "mx: a.example\npad: ", 19);
	len += 19;
	memset(big + len, 'x', POLICY_MAX_BYTES - len - 1);
	big[POLICY_MAX_BYTES - 1] = '\n';
	CU_ASSERT_EQUAL(policy_parse(big, POLICY_MAX_BYTES, &p, NULL), MT_OK);
	policy_clear(&p);
	big[POLICY_MAX_BYTES - 1] = 'x';
	big[POLICY_MAX_BYTES] = '\n';
	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(big, POLICY_MAX_BYTES + 1, &p, &d),
			MT_ETOOBIG);
	CU_ASSERT_PTR_NULL(p.mx);
	CU_ASSERT_EQUAL(d.n_err, 1);
	CU_ASSERT_STRING_EQUAL(d.v[0].code, "too-big");
	diag_free(&d);
	free(big);
	free(s);
}

/* A 10,000-character line: as an extension it is fine, as an mx it is an
 * error that quotes a bounded part of it. */
static void test_long_line(void)
{
	size_t cap = 20000, n;
	char *s = malloc(cap);
	struct diag_list d;
	struct policy p;

	n = (size_t)snprintf(s, cap, HDR GOOD_TAIL "x: ");
	memset(s + n, 'y', 10000);
	n += 10000;
	s[n++] = '\n';
	CU_ASSERT_EQUAL(policy_parse(s, n, &p, NULL), MT_OK);
	policy_clear(&p);

	n = (size_t)snprintf(s, cap, HDR "mode: enforce\nmax_age: 86400\nmx: ");
	memset(s + n, 'a', 10000);
	n += 10000;
	s[n++] = '\n';
	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(s, n, &p, &d), MT_EPARSE);
	CU_ASSERT_TRUE(d.n_err >= 1);
	for (size_t i = 0; i < d.n; i++)
		CU_ASSERT_TRUE(strlen(d.v[i].msg) < DIAG_MSG_MAX);
	diag_free(&d);

	/* a 10,000-character key */
	n = 0;
	memset(s, 'k', 10000);
	n = 10000;
	n += (size_t)snprintf(s + n, cap - n, ": v\n" HDR GOOD_TAIL);
	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(s, n, &p, &d), MT_EPARSE);
	CU_ASSERT_TRUE(test_has_code(&d, "E:key-invalid", 13));
	diag_free(&d);
	free(s);
}

/* Control characters in a reported value never reach the message. */
static void test_message_sanitised(void)
{
	static const char in[] = HDR "mode: enforce\nmx: a\x1b[31m\0b:25\nk\x1b[2J: v\nmax_age: 86400\n";
	struct diag_list d;
	struct policy p;

	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(in, sizeof(in) - 1, &p, &d), MT_EPARSE);
	for (size_t i = 0; i < d.n; i++)
		for (const char *c = d.v[i].msg; *c; c++)
			CU_ASSERT((unsigned char)*c >= 0x20);
	diag_free(&d);
}

/* More findings than the list holds: counted, verdict unchanged. */
static void test_many_findings(void)
{
	size_t cap = 3000 * 12 + 100, n;
	char *s = malloc(cap);
	struct diag_list d;
	struct policy p;

	n = (size_t)snprintf(s, cap, HDR GOOD_TAIL);
	for (int i = 0; i < 3000; i++)
		n += (size_t)snprintf(s + n, cap - n, "bad line\n");
	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(s, n, &p, &d), MT_EPARSE);
	CU_ASSERT_EQUAL(d.n, DIAG_LIST_MAX);
	CU_ASSERT_EQUAL(d.n_err, 3000);
	diag_free(&d);
	free(s);
}

/* Every allocation point fails in turn: MT_ENOMEM, *out empty, no leak
 * (the ASan and valgrind runs check the last part). */
static void test_oom(void)
{
	size_t len;
	char *s = make_policy(300, &len);
	int n_oom = 0, done = 0;

	for (long k = 0; k < 10000 && !done; k++) {
		struct diag_list d;
		struct policy p;
		int rc;

		diag_init(&d);
		mem_fail_after(k);
		rc = policy_parse(s, len, &p, k % 2 ? &d : NULL);
		mem_fail_after(-1);
		if (rc == MT_ENOMEM) {
			n_oom++;
			CU_ASSERT_PTR_NULL(p.mx);
			CU_ASSERT_EQUAL(p.n_mx, 0);
		} else {
			CU_ASSERT_EQUAL(rc, MT_OK);
			CU_ASSERT_EQUAL(p.n_mx, 300);
			done = 1;
		}
		policy_clear(&p);
		diag_free(&d);
	}
	CU_ASSERT_TRUE(done);
	CU_ASSERT_TRUE(n_oom >= 3);	/* the mx blob grows several times */
	free(s);
}

/* Diagnostics that cannot be stored (OOM) are counted: never a crash, and
 * the verdict is the same. */
static void test_oom_diags(void)
{
	const char *in = "mode: bogus\nmx: 1.2.3.4\n";
	struct diag_list d;
	struct policy p;

	diag_init(&d);
	mem_fail_after(0);
	CU_ASSERT_EQUAL(policy_parse(in, strlen(in), &p, &d), MT_EPARSE);
	mem_fail_after(-1);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_TRUE(d.n_err >= 3);
	diag_free(&d);
}

static void test_helpers(void)
{
	static const char blob[] = "a.example\0*.b.example\0";
	uint32_t it = 0;

	CU_ASSERT_STRING_EQUAL(policy_mode_str(POLICY_MODE_NONE), "none");
	CU_ASSERT_STRING_EQUAL(policy_mode_str(POLICY_MODE_TESTING), "testing");
	CU_ASSERT_STRING_EQUAL(policy_mode_str(POLICY_MODE_ENFORCE), "enforce");
	CU_ASSERT_STRING_EQUAL(policy_mode_str((enum policy_mode)7), "unknown");
	CU_ASSERT_EQUAL(policy_mode_from_str("enforce", 7), POLICY_MODE_ENFORCE);
	CU_ASSERT_EQUAL(policy_mode_from_str("testing", 7), POLICY_MODE_TESTING);
	CU_ASSERT_EQUAL(policy_mode_from_str("none", 4), POLICY_MODE_NONE);
	CU_ASSERT_EQUAL(policy_mode_from_str("NONE", 4), -1);
	CU_ASSERT_EQUAL(policy_mode_from_str("enforc", 6), -1);
	CU_ASSERT_TRUE(policy_mx_matches(blob, sizeof(blob) - 1, "a.example"));
	CU_ASSERT_TRUE(policy_mx_matches(blob, sizeof(blob) - 1, "x.b.example"));
	CU_ASSERT_FALSE(policy_mx_matches(blob, sizeof(blob) - 1, "b.example"));
	CU_ASSERT_FALSE(policy_mx_matches(NULL, 0, "a.example"));
	/* an unterminated blob (e.g. a corrupt cache copy) ends the walk */
	CU_ASSERT_PTR_NOT_NULL(policy_mx_next(blob, 12, &it));
	CU_ASSERT_PTR_NULL(policy_mx_next(blob, 12, &it));
	policy_clear(NULL);
}

/* A U-label pattern longer than 253 octets whose A-label form fits is
 * valid: the limit applies after conversion. */
static void test_long_ulabel(void)
{
	char in[1200];
	size_t n;
	struct diag_list d;
	struct policy p;

	n = (size_t)snprintf(in, sizeof(in), HDR "mode: enforce\nmax_age: 86400\nmx: ");
	n += test_ulabel_name(in + n, 3);
	in[n++] = '\n';
	diag_init(&d);
	CU_ASSERT_EQUAL(policy_parse(in, n, &p, &d), MT_OK);
	CU_ASSERT_EQUAL(p.n_mx, 1);
	CU_ASSERT(p.mx && strlen(p.mx) == 184);
	CU_ASSERT_TRUE(test_has_code(&d, "W:mx-ulabel", 11));
	policy_clear(&p);
	diag_free(&d);
}

/* Patterns that grow into more A-label bytes than a cache entry holds
 * (POLICY_MX_BLOB_MAX) make the policy invalid, never a truncated list. */
static void test_mx_blob_cap(void)
{
	size_t cap = POLICY_MAX_BYTES, n;
	char *s = malloc(cap);
	struct policy p;

	n = (size_t)snprintf(s, cap, HDR "mode: enforce\nmax_age: 86400\n");
	while (n + 6 <= cap) {
		memcpy(s + n, "mx:\xc3\xbc\n", 6);	/* xn--tda: 8 bytes */
		n += 6;
	}
	CU_ASSERT_EQUAL(policy_parse(s, n, &p, NULL), MT_EPARSE);
	CU_ASSERT_PTR_NULL(p.mx);
	CU_ASSERT_EQUAL(p.n_mx, 0);
	free(s);
}

/* policy_lint: the sender's verdict, the publisher's findings.  A pattern
 * no MX host can have is an error for the publisher, a warning for the
 * sender; everything else is the same. */
static void test_lint(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *codes;
	} lc[] = {
		{ HDR "mode: enforce\nmx: mail.example.com\nmx: 192.0.2.1\nmax_age: 86400\n",
		  MT_OK, "E:mx-ip-literal" },
		{ HDR "mode: enforce\nmx: mail.example.com\nmx: mx.123\nmax_age: 86400\n",
		  MT_OK, "E:mx-numeric-tld" },
		{ HDR "mode: enforce\nmx: 192.0.2.1\nmax_age: 86400\n",
		  MT_EPARSE, "E:mx-ip-literal,E:mx-missing" },
		{ HDR "mode: enforce\nmx: a.example\nmax_age: 3600\n", MT_OK,
		  "W:max-age-short" },
		{ "mode: enforce\nmx: a.example\nmax_age: 86400\n" HDR, MT_OK,
		  "W:version-not-first" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(lc); i++) {
		struct diag_list d, e;
		struct policy p, q;
		int rc;

		diag_init(&d);
		diag_init(&e);
		rc = policy_lint(lc[i].in, strlen(lc[i].in), &p, &d);
		CU_ASSERT_EQUAL(rc, lc[i].rc);
		/* the same verdict and patterns as the sender's parse */
		CU_ASSERT_EQUAL(policy_parse(lc[i].in, strlen(lc[i].in), &q, &e), rc);
		CU_ASSERT_EQUAL(p.n_mx, q.n_mx);
		CU_ASSERT_EQUAL(p.mx_len, q.mx_len);
		CU_ASSERT_EQUAL(d.n_err + d.n_warn, e.n_err + e.n_warn);
		test_check_codes(lc[i].in, &d, lc[i].codes);
		policy_clear(&p);
		policy_clear(&q);
		diag_free(&d);
		diag_free(&e);
	}
}

static CU_TestInfo tests[] = {
	{ "RFC 8461 3.2 table", test_table },
	{ "line numbers", test_line_numbers },
	{ "did you mean", test_did_you_mean },
	{ "1000 mx lines", test_many_mx },
	{ "64 KiB cap", test_size_cap },
	{ "10000-character lines", test_long_line },
	{ "messages sanitised", test_message_sanitised },
	{ "more findings than stored", test_many_findings },
	{ "OOM at every allocation", test_oom },
	{ "OOM in diagnostics", test_oom_diags },
	{ "helpers", test_helpers },
	{ "long U-label pattern", test_long_ulabel },
	{ "mx blob cap", test_mx_blob_cap },
	{ "lint: findings for the publisher", test_lint },
	CU_TEST_INFO_NULL,
};

int register_tests(void)
{
	CUNIT_SUITE("policy", tests);
	return 0;
}
