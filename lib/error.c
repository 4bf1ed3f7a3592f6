#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include "error.h"

/* Messages end up in JSON (the CNI error on stdout, the hook's log line), and JSON must be
 * valid UTF-8: jansson refuses to build the error object otherwise, and the runtime would
 * get no error at all. A message quotes bytes nobody checked (CNI_CONTAINERID, CNI_IFNAME)
 * and vsnprintf may cut it inside a character, so every invalid byte becomes '?'. The rules
 * are jansson's: no overlong forms, no surrogates, nothing above U+10FFFF. */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *) s;
	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		size_t n = (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		uint32_t cp = *p & (0x7f >> n);
		size_t i = 1;
		for (; i < n && (p[i] & 0xc0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		if (n == 0 || i < n || cp < (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff)) {
			*p++ = '?'; /* the lead byte only: what follows it is looked at again */
			continue;
		}
		p += n;
	}
}

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
	utf8_sanitize(err->msg);
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
	utf8_sanitize(err->msg);
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
	utf8_sanitize(err->msg);
	return -1;
}

void hg_error_details(struct hg_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->details, sizeof(err->details), fmt, ap);
	va_end(ap);
	utf8_sanitize(err->details);
}
