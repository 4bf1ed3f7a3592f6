#include <stdio.h>
#include <string.h>
#include "error.h"

int hg_error_set(struct hg_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	err->code = code;
	err->details[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int hg_error_errno(struct hg_error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return -1;
	err->code = code;
	err->details[0] = '\0';
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t) n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum < 0 ? -errnum : errnum));
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
	if (n > 0 && (size_t) n < sizeof(err->msg))
		strncat(err->msg, old, sizeof(err->msg) - n - 1);
	return -1;
}

void hg_error_details(struct hg_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
}
