/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "base/error.h"
#include "base/util.h"

/* Messages end up in JSON (the CNI error on stdout, the hook's log line), and JSON must be
 * valid UTF-8: jansson refuses to build the error object otherwise, and the runtime would
 * get no error at all. A message quotes bytes nobody checked (CNI_CONTAINERID, CNI_IFNAME)
 * and vsnprintf may cut it inside a character: every message is sanitised (util.h). */
int hg_error_set(struct hg_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	err->code = code;
	err->errnum = 0;
	err->details[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	hg_utf8_sanitize(err->msg);
	return -1;
}

int hg_error_errno(struct hg_error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	err->code = code;
	err->errnum = errnum < 0 ? -errnum : errnum;
	err->details[0] = '\0';
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t) n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum < 0 ? -errnum : errnum));
	hg_utf8_sanitize(err->msg);
	return -1;
}

int hg_error_prefix(struct hg_error *err, const char *fmt, ...)
{
	char prefix[256], old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation keeps the start of the message, which carries the context. */
	int n = snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
	if (n > 0 && (size_t) n < sizeof(err->msg) - 1) {
		size_t room = sizeof(err->msg) - 1 - (size_t) n, len = strnlen(old, sizeof(old) - 1);
		if (len > room)
			len = room;
		memcpy(err->msg + n, old, len);
		err->msg[n + len] = '\0';
	}
	hg_utf8_sanitize(err->msg);
	return -1;
}

int hg_error_oom(struct hg_error *err)
{
	hg_error_set(err, HG_CNI_IO, "out of memory");
	if (err)
		err->errnum = ENOMEM;
	return -1;
}

void hg_error_details(struct hg_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	hg_utf8_sanitize(err->details);
}
