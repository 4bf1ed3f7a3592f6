#include <string.h>
#include <sys/stat.h>
#include <ctype.h>
#include "util.h"

bool hg_valid_id(const char *s, size_t max)
{
	if (!s || !isalnum((unsigned char) s[0]))
		return false;
	for (size_t i = 0; s[i]; i++)
		if (i >= max || (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-'))
			return false;
	return true;
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
		return -ENOMEM;
	char **grown = realloc(*v, (n + 2) * sizeof(char *));
	if (!grown) {
		free(copy);
		return -ENOMEM;
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

ssize_t hg_read_full(int fd, void *buf, size_t size)
{
	size_t n = 0;
	while (n < size) {
		ssize_t r = read(fd, (char *) buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += r;
	}
	return (ssize_t) n;
}

int hg_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	/* Usually the directory exists: one system call instead of one per component. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

const char *hg_opt_value(int argc, char **argv, int *i, const char *opt, bool *missing)
{
	size_t n = strlen(opt);
	if (strncmp(argv[*i], opt, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}
