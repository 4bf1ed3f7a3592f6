/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <ctype.h>
#include "base/util.h"
#include "base/error.h"

bool hg_valid_id(const char *s, size_t max)
{
	if (!s || !isalnum((unsigned char) s[0]))
		return false;
	for (size_t i = 0; s[i]; i++)
		if (i >= max || (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-'))
			return false;
	return true;
}

const char *hg_parse_decimal(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (*s < '1' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned) (*s - '0');
		if (v > (max - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*out = v;
	return s;
}

void strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

size_t strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

int strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char *copy = strdup(s);
	if (!copy)
		return -1;
	char **grown = realloc(*v, (n + 2) * sizeof(char *));
	if (!grown) {
		free(copy);
		return -1;
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*v = grown;
	return 0;
}

int strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

char **strv_copy(char *const *v)
{
	char **out = calloc(1, sizeof(char *));
	if (!out)
		return NULL;
	for (size_t i = 0; v && v[i]; i++)
		if (strv_push(&out, v[i]) < 0) {
			strv_free(out);
			return NULL;
		}
	return out;
}

void hg_utf8_sanitize(char *s)
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

