#include <string.h>
#include <strings.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "hosts.h"
#include "util.h"

/* A growable byte buffer, only for building the output text. */
struct buf {
	char *data;
	size_t len, cap;
	bool oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->oom = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static int buf_finish(struct buf *b, char **out, size_t *out_len)
{
	if (!b->oom && !b->data)
		buf_add(b, "", 0);
	if (b->oom) {
		free(b->data);
		return -ENOMEM;
	}
	*out = b->data;
	if (out_len)
		*out_len = b->len;
	return 0;
}

/* One line of the file: [start, start+len) without its terminator. */
struct line {
	const char *start;
	size_t len;      /* without "\n" and without a "\r" before it */
	size_t full_len; /* with the terminator, if any */
};

static bool next_line(const char **p, const char *end, struct line *l)
{
	if (*p >= end)
		return false;
	const char *nl = memchr(*p, '\n', end - *p);
	l->start = *p;
	l->full_len = nl ? (size_t) (nl - *p) + 1 : (size_t) (end - *p);
	l->len = nl ? (size_t) (nl - *p) : (size_t) (end - *p);
	/* A CR ends a line only before LF; a lone CR at the end of the file is content. */
	if (nl && l->len > 0 && l->start[l->len - 1] == '\r')
		l->len--;
	*p += l->full_len;
	return true;
}

static bool line_is(const struct line *l, const char *prefix, bool whole)
{
	size_t n = strlen(prefix);
	if (l->len < n || memcmp(l->start, prefix, n) != 0)
		return false;
	return !whole || l->len == n;
}

static bool is_begin(const struct line *l) { return line_is(l, HG_HOSTS_BEGIN_PREFIX, false); }
static bool is_end(const struct line *l) { return line_is(l, HG_HOSTS_END, true); }

/* Walks the lines outside our blocks. A BEGIN without END removes only the marker itself,
 * so that a damaged block can never swallow the user's lines after it. */
typedef void (*line_fn)(const struct line *l, bool in_block, void *ctx);

static void walk(const char *content, size_t len, line_fn fn, void *ctx)
{
	const char *p = content, *end = content + len;
	struct line l;
	while (next_line(&p, end, &l)) {
		if (is_begin(&l)) {
			/* Find the matching END before deciding. */
			const char *q = p;
			struct line m;
			bool closed = false;
			while (next_line(&q, end, &m)) {
				if (is_end(&m)) {
					closed = true;
					break;
				}
				if (is_begin(&m))
					break;
			}
			fn(&l, true, ctx);
			if (!closed)
				continue;
			while (next_line(&p, end, &l)) {
				fn(&l, true, ctx);
				if (is_end(&l))
					break;
			}
			continue;
		}
		if (is_end(&l)) { /* a stray END marker is ours too */
			fn(&l, true, ctx);
			continue;
		}
		fn(&l, false, ctx);
	}
}

struct strip_ctx {
	struct buf out;
	char **user_names;
	bool crlf, seen_eol, last_unterminated, oom;
};

static void collect_names(const struct line *l, char ***names, bool *oom)
{
	char text[4096];
	size_t n = l->len < sizeof(text) - 1 ? l->len : sizeof(text) - 1;
	memcpy(text, l->start, n);
	text[n] = '\0';
	char *hash = strchr(text, '#');
	if (hash)
		*hash = '\0';
	char *save = NULL, *tok = strtok_r(text, " \t", &save);
	if (!tok) /* blank or comment */
		return;
	while ((tok = strtok_r(NULL, " \t", &save)))
		if (strv_push(names, tok) < 0)
			*oom = true;
}

static void strip_line(const struct line *l, bool in_block, void *ctx)
{
	struct strip_ctx *c = ctx;
	/* The line-end style is the user's: our own lines must not decide it, or a second
	 * merge (after our lines are gone) could choose another one. */
	if (in_block)
		return;
	if (!c->seen_eol && l->full_len > l->len) {
		c->seen_eol = true;
		c->crlf = l->start[l->len] == '\r';
	}
	buf_add(&c->out, l->start, l->full_len);
	c->last_unterminated = l->start[l->full_len - 1] != '\n';
	if (c->user_names)
		collect_names(l, &c->user_names, &c->oom);
}

static bool user_maps(char *const *user_names, const char *name)
{
	for (size_t i = 0; user_names && user_names[i]; i++)
		if (strcasecmp(user_names[i], name) == 0)
			return true;
	return false;
}

int hg_hosts_strip(const char *content, size_t len, char **out, size_t *out_len)
{
	struct strip_ctx c = {0};
	walk(content, len, strip_line, &c);
	return buf_finish(&c.out, out, out_len);
}

int hg_hosts_merge(const char *content, size_t len, const struct hg_hosts_entry *entries, size_t n, char **out,
		   size_t *out_len, char **block_out)
{
	struct strip_ctx c = {0};
	struct buf block = {0};
	_cleanup_strv_ char **emitted = calloc(1, sizeof(char *)); /* "family/name" already written */

	c.user_names = calloc(1, sizeof(char *));
	if (!c.user_names || !emitted) {
		strv_free(c.user_names);
		return -ENOMEM;
	}
	walk(content, len, strip_line, &c);
	/* A file without any line end but a trailing CR: an LF appended after it would make a
	 * CRLF line, so the file is CRLF from then on. */
	if (!c.seen_eol && c.last_unterminated && content[len - 1] == '\r')
		c.crlf = true;
	const char *eol = c.crlf ? "\r\n" : "\n";

	for (size_t i = 0; i < n; i++) {
		char ipbuf[HG_IP_STRLEN];
		bool any = false;
		for (size_t j = 0; entries[i].names[j]; j++) {
			const char *name = entries[i].names[j];
			char key[300];
			snprintf(key, sizeof(key), "%d/%s", entries[i].ip.family, name);
			if (user_maps(c.user_names, name) || strv_contains(emitted, key))
				continue;
			if (strv_push(&emitted, key) < 0)
				c.oom = true;
			if (!any) {
				if (block.len)
					buf_str(&block, "\n");
				buf_str(&block, hg_ip_str(&entries[i].ip, ipbuf));
				buf_str(&block, "\t");
			} else {
				buf_str(&block, " ");
			}
			buf_str(&block, name);
			any = true;
		}
	}
	strv_free(c.user_names);
	if (block.len) {
		/* After a trailing CR, a bare LF would turn "text\r" into a line ending in CRLF,
		 * and "# END host-gateway\r" into our marker: the CR must stay content. */
		if (c.last_unterminated)
			buf_str(&c.out, content[len - 1] == '\r' ? "\r\n" : eol);
		buf_str(&c.out, HG_HOSTS_BEGIN);
		buf_str(&c.out, eol);
		const char *p = block.data;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t l = nl ? (size_t) (nl - p) : strlen(p);
			buf_add(&c.out, p, l);
			buf_str(&c.out, eol);
			p += l + (nl ? 1 : 0);
		}
		buf_str(&c.out, HG_HOSTS_END);
		buf_str(&c.out, eol);
	}
	if (c.oom || block.oom) {
		free(block.data);
		free(c.out.data);
		return -ENOMEM;
	}
	if (buf_finish(&block, block_out, NULL) < 0) {
		free(c.out.data);
		return -ENOMEM;
	}
	if (buf_finish(&c.out, out, out_len) < 0) {
		free(*block_out);
		return -ENOMEM;
	}
	return 0;
}

int hg_hosts_block(const char *content, size_t len, char **block)
{
	const char *p = content, *end = content + len;
	struct line l;
	struct buf b = {0};
	*block = NULL;
	while (next_line(&p, end, &l)) {
		if (!is_begin(&l))
			continue;
		bool closed = false;
		while (next_line(&p, end, &l)) {
			if (is_end(&l)) {
				closed = true;
				break;
			}
			if (is_begin(&l)) {
				/* The previous BEGIN has no END: a stray marker, as walk() treats it, and
				 * the lines after it are the user's, not the block's. */
				b.len = 0;
				if (b.data)
					b.data[0] = '\0';
				continue;
			}
			if (b.len)
				buf_str(&b, "\n");
			buf_add(&b, l.start, l.len);
		}
		if (!closed) {
			free(b.data);
			return 0;
		}
		return buf_finish(&b, block, NULL) < 0 ? -ENOMEM : 1;
	}
	return 0;
}

static int read_all(int fd, const char *what, char **out, size_t *out_len, struct hg_error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "stat %s", what);
	if (!S_ISREG(st.st_mode))
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is not a regular file, refusing to write it", what);
	if (st.st_size > HG_HOSTS_MAX_SIZE)
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is larger than %d bytes, refusing to write it", what,
				    HG_HOSTS_MAX_SIZE);
	_cleanup_free_ char *data = malloc(HG_HOSTS_MAX_SIZE + 1);
	if (!data)
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "out of memory");
	size_t len = 0;
	for (;;) {
		ssize_t r = pread(fd, data + len, HG_HOSTS_MAX_SIZE + 1 - len, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "read %s", what);
		if (r == 0)
			break;
		len += r;
		if (len > HG_HOSTS_MAX_SIZE)
			return hg_error_set(err, HG_CNI_HOSTS_FILE, "%s is larger than %d bytes, refusing to write it",
					    what, HG_HOSTS_MAX_SIZE);
	}
	data[len] = '\0';
	*out = TAKE_PTR(data);
	*out_len = len;
	return 0;
}

static int write_in_place(int fd, const char *what, const char *text, size_t len, struct hg_error *err)
{
	size_t done = 0;
	while (done < len) {
		ssize_t w = pwrite(fd, text + done, len - done, done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "write %s", what);
		done += w;
	}
	if (ftruncate(fd, len) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "truncate %s", what);
	return 0;
}

/* flock is released when the fd closes; the helpers below hold it for one read-modify-write. */
static int lock(int fd, const char *what, struct hg_error *err)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "lock %s", what);
	return 0;
}

int hg_hosts_apply_fd(int fd, const char *what, const struct hg_hosts_entry *entries, size_t n, char **block,
		      struct hg_error *err)
{
	_cleanup_free_ char *old = NULL, *new = NULL;
	size_t old_len, new_len;
	int r = lock(fd, what, err);
	if (r == 0)
		r = read_all(fd, what, &old, &old_len, err);
	if (r == 0 && hg_hosts_merge(old, old_len, entries, n, &new, &new_len, block) < 0)
		r = hg_error_set(err, HG_CNI_HOSTS_FILE, "out of memory");
	if (r == 0 && (new_len != old_len || memcmp(old, new, new_len) != 0))
		r = write_in_place(fd, what, new, new_len, err);
	flock(fd, LOCK_UN);
	return r;
}

int hg_hosts_remove_fd(int fd, const char *what, struct hg_error *err)
{
	_cleanup_free_ char *old = NULL, *new = NULL;
	size_t old_len, new_len;
	int r = lock(fd, what, err);
	if (r == 0)
		r = read_all(fd, what, &old, &old_len, err);
	if (r == 0 && hg_hosts_strip(old, old_len, &new, &new_len) < 0)
		r = hg_error_set(err, HG_CNI_HOSTS_FILE, "out of memory");
	if (r == 0 && new_len != old_len)
		r = write_in_place(fd, what, new, new_len, err);
	flock(fd, LOCK_UN);
	return r;
}

int hg_hosts_read_block_fd(int fd, const char *what, char **block, struct hg_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (read_all(fd, what, &text, &len, err) < 0)
		return -1;
	int r = hg_hosts_block(text, len, block);
	if (r < 0)
		return hg_error_set(err, HG_CNI_HOSTS_FILE, "out of memory");
	return r;
}
