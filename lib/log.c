#include <stdarg.h>
#include <stdio.h>
#include "log.h"

void hg_logf(const struct hg_log *log, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!log || !log->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, msg);
}
