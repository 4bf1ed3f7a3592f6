#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
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

void hg_log_emit(const struct hg_log *outer, const char *log_file, const char *line)
{
	if (outer && outer->fn)
		outer->fn(outer->ctx, line);
	if (!log_file)
		return;
	FILE *f = fopen(log_file, "ae");
	if (f) {
		fprintf(f, "host-gateway[%d]: %s\n", (int) getpid(), line);
		fclose(f);
	}
}
