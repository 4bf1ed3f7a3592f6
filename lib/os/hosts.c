/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>
#include <strings.h>
#include <stdbool.h>
#include <sys/stat.h>
#include "os/hosts.h"
#include "base/util.h"
#include "base/buf.h"
#include "os/fs.h"

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

/* Markers: "# BEGIN host-gateway (managed block: ...)" and "# END host-gateway" for the
 * block (owner ""); "# BEGIN host-gateway OWNER (managed block: ...)" and
 * "# END host-gateway OWNER" for an old per-owner block. */
struct owner {
	const char *s;
	size_t len;
};

static bool is_begin(const struct line *l) { return line_is(l, HG_HOSTS_BEGIN_PREFIX, false); }

static struct owner begin_owner(const struct line *l)
{
	size_t n = strlen(HG_HOSTS_BEGIN_PREFIX);
	const char *p = l->start + n, *end = l->start + l->len;
	if (p >= end || *p != ' ' || p + 1 >= end || p[1] == '(' || p[1] == ' ')
		return (struct owner){"", 0};
	const char *o = ++p;
	while (p < end && *p != ' ')
		p++;
	return (struct owner){o, (size_t) (p - o)};
}

/* An END marker, with its owner in *o. */
static bool is_end(const struct line *l, struct owner *o)
{
	size_t n = strlen(HG_HOSTS_END);
	if (l->len < n || memcmp(l->start, HG_HOSTS_END, n) != 0)
		return false;
	if (l->len == n) {
		*o = (struct owner){"", 0};
		return true;
	}
	if (l->start[n] != ' ' || l->len == n + 1)
		return false;
	if (memchr(l->start + n + 1, ' ', l->len - n - 1))
		return false;
	*o = (struct owner){l->start + n + 1, l->len - n - 1};
	return true;
}

static bool same_owner(struct owner a, struct owner b) { return a.len == b.len && memcmp(a.s, b.s, a.len) == 0; }

static struct owner owner_of(const char *s) { return s ? (struct owner){s, strlen(s)} : (struct owner){"", 0}; }

enum line_kind {
	LINE_USER,
	LINE_BLOCK, /* inside a closed block of owner, markers included */
	LINE_STRAY, /* a BEGIN without its END, or an END without its BEGIN: ours, removed */
};

/* Walks the lines, telling the user's from our blocks'. A BEGIN closes at the first END
 * of the same owner, unless another marker comes first: a BEGIN without END removes only
 * the marker itself, so that a damaged block can never swallow the user's lines after it. */
typedef void (*line_fn)(const struct line *l, enum line_kind kind, struct owner owner, void *ctx);

static void walk(const char *content, size_t len, line_fn fn, void *ctx)
{
	const char *p = content, *end = content + len;
	struct line l;
	struct owner o, e;
	while (next_line(&p, end, &l)) {
		if (is_begin(&l)) {
			/* Find the matching END before deciding. */
			const char *q = p;
			struct line m;
			bool closed = false;
			o = begin_owner(&l);
			while (next_line(&q, end, &m)) {
				if (is_end(&m, &e)) {
					closed = same_owner(e, o);
					break;
				}
				if (is_begin(&m))
					break;
			}
			if (!closed) {
				fn(&l, LINE_STRAY, o, ctx);
				continue;
			}
			fn(&l, LINE_BLOCK, o, ctx);
			while (next_line(&p, end, &l)) {
				fn(&l, LINE_BLOCK, o, ctx);
				if (is_end(&l, &e))
					break;
			}
			continue;
		}
		if (is_end(&l, &e)) { /* a stray END marker is ours too */
			fn(&l, LINE_STRAY, e, ctx);
			continue;
		}
		fn(&l, LINE_USER, (struct owner){"", 0}, ctx);
	}
}

/* The names of the entries, in a small open-addressing table, so that the user's lines are
 * matched against them in one pass over the file: a merge costs time linear in the file
 * (up to HG_HOSTS_MAX_SIZE), however many names its lines hold. */
struct wanted_name {
	const char *name; /* NULL: an empty slot */
	size_t len;
	bool mapped;	 /* a user line maps it, in any case */
	bool emitted[2]; /* already written in the block: IPv4, IPv6 */
};

struct wanted {
	struct wanted_name *slots;
	size_t mask;	/* the number of slots (a power of two) less one */
	size_t max_len; /* a longer token cannot be one of the names */
};

/* Names match ignoring ASCII case, as strcasecmp does in the C locale the plugin runs in;
 * folding by hand keeps the hash and the comparison in agreement whatever the locale. */
static unsigned char fold(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : (unsigned char) c; }

static bool same_name(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (fold(a[i]) != fold(b[i]))
			return false;
	return true;
}

/* FNV-1a over the folded bytes: every spelling of a name has the same home slot. */
static size_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ fold(s[i])) * 16777619u;
	return h;
}

/* The slot of exactly this spelling, taken when new. Slots are never freed, so with linear
 * probing every spelling of a name sits between its home slot and the next empty one. */
static struct wanted_name *wanted_slot(struct wanted *w, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = name_hash(name, len) & w->mask;; i = (i + 1) & w->mask) {
		struct wanted_name *s = &w->slots[i];
		if (!s->name) {
			*s = (struct wanted_name){.name = name, .len = len};
			if (len > w->max_len)
				w->max_len = len;
			return s;
		}
		if (s->len == len && memcmp(s->name, name, len) == 0)
			return s;
	}
}

static int wanted_init(struct wanted *w, const struct hg_hosts_entry *entries, size_t n)
{
	size_t total = 0, size = 8;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; entries[i].names[j]; j++)
			total++;
	/* At most half full: probes stay short and always reach an empty slot. */
	while (size < 2 * total)
		size *= 2;
	*w = (struct wanted){.slots = calloc(size, sizeof(*w->slots)), .mask = size - 1};
	if (!w->slots)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; entries[i].names[j]; j++)
			wanted_slot(w, entries[i].names[j]);
	return 0;
}

/* A user's token maps every spelling of it among our names. */
static void wanted_mark(struct wanted *w, const char *tok, size_t len)
{
	if (len > w->max_len)
		return;
	for (size_t i = name_hash(tok, len) & w->mask; w->slots[i].name; i = (i + 1) & w->mask) {
		struct wanted_name *s = &w->slots[i];
		if (s->len == len && same_name(s->name, tok, len))
			s->mapped = true;
	}
}

/* A hosts line is an address, then names, separated by blanks or tabs, up to a '#'. A NUL
 * ends the text too, as it always has here (lines used to be parsed as C strings). */
static void mark_user_names(struct wanted *w, const struct line *l)
{
	const char *p = l->start, *end = l->start + l->len;
	bool address = true;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *tok = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '#' && *p != '\0')
			p++;
		if (p == tok)
			return;
		if (!address)
			wanted_mark(w, tok, p - tok);
		address = false;
	}
}

struct strip_ctx {
	struct buf out;
	char *const *drop;     /* whose old blocks go, besides the block; the others' stay as they are */
	struct wanted *wanted; /* merge only: the names the user's lines map get marked */
	bool crlf, seen_eol, last_unterminated;
};

/* The block (no owner) always goes, and an old per-owner block when its owner is in drop. */
static bool dropped(struct owner owner, char *const *drop)
{
	if (owner.len == 0)
		return true;
	for (size_t i = 0; drop && drop[i]; i++)
		if (same_owner(owner, owner_of(drop[i])))
			return true;
	return false;
}

static void strip_line(const struct line *l, enum line_kind kind, struct owner owner, void *ctx)
{
	struct strip_ctx *c = ctx;
	if (kind == LINE_STRAY || (kind == LINE_BLOCK && dropped(owner, c->drop)))
		return;
	/* The line-end style is the user's: our own lines (an old block kept) must not
	 * decide it, or a second merge (after those lines are gone) could choose another one. */
	if (kind == LINE_USER && !c->seen_eol && l->full_len > l->len) {
		c->seen_eol = true;
		c->crlf = l->start[l->len] == '\r';
	}
	buf_add(&c->out, l->start, l->full_len);
	c->last_unterminated = l->start[l->full_len - 1] != '\n';
	if (c->wanted && kind == LINE_USER)
		mark_user_names(c->wanted, l);
}

int hg_hosts_strip(const char *content, size_t len, char *const *drop, char **out, size_t *out_len)
{
	struct strip_ctx c = {.drop = drop};
	walk(content, len, strip_line, &c);
	return buf_finish(&c.out, out, out_len);
}

/* The lines of our block, "\n"-joined: per entry, its names the user does not map and that
 * no earlier entry of the same family wrote (the entries of several owners come in their
 * order, so the first owner of a name wins). */
static void block_lines(struct buf *block, struct wanted *w, const struct hg_hosts_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ipbuf[HG_IP_STRLEN];
		bool any = false;
		int family = entries[i].ip.family == AF_INET6;
		for (size_t j = 0; entries[i].names[j]; j++) {
			const char *name = entries[i].names[j];
			struct wanted_name *s = wanted_slot(w, name);
			if (s->mapped || s->emitted[family])
				continue;
			s->emitted[family] = true;
			if (!any) {
				if (block->len)
					buf_str(block, "\n");
				buf_str(block, hg_ip_str(&entries[i].ip, ipbuf));
				buf_str(block, "\t");
			} else {
				buf_str(block, " ");
			}
			buf_str(block, name);
			any = true;
		}
	}
}

int hg_hosts_merge(const char *content, size_t len, char *const *drop, const struct hg_hosts_entry *entries,
		   size_t n, char **out, size_t *out_len, char **block_out)
{
	struct strip_ctx c = {.drop = drop};
	struct buf block = {0};
	struct wanted w;

	if (wanted_init(&w, entries, n) < 0)
		return -1;
	c.wanted = &w;
	walk(content, len, strip_line, &c);
	/* A file without any line end but a trailing CR: an LF appended after it would make a
	 * CRLF line, so the file is CRLF from then on. */
	if (!c.seen_eol && c.last_unterminated && content[len - 1] == '\r')
		c.crlf = true;
	const char *eol = c.crlf ? "\r\n" : "\n";

	block_lines(&block, &w, entries, n);
	free(w.slots);
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
	if (c.out.oom || block.oom) {
		free(block.data);
		free(c.out.data);
		return -1;
	}
	if (buf_finish(&block, block_out, NULL) < 0) {
		free(c.out.data);
		return -1;
	}
	if (buf_finish(&c.out, out, out_len) < 0) {
		free(TAKE_PTR(*block_out)); /* the caller's cleanup must not free it again */
		return -1;
	}
	return 0;
}

struct block_ctx {
	struct owner owner;
	struct buf b;
	bool found, done;
};

static void block_line(const struct line *l, enum line_kind kind, struct owner owner, void *ctx)
{
	struct block_ctx *c = ctx;
	struct owner e;
	if (c->done || kind != LINE_BLOCK || !same_owner(owner, c->owner))
		return;
	if (!c->found) { /* the BEGIN marker */
		c->found = true;
		return;
	}
	if (is_end(l, &e)) {
		c->done = true;
		return;
	}
	if (c->b.len)
		buf_str(&c->b, "\n");
	buf_add(&c->b, l->start, l->len);
}

int hg_hosts_block(const char *content, size_t len, const char *owner, char **block)
{
	struct block_ctx c = {.owner = owner_of(owner)};
	*block = NULL;
	walk(content, len, block_line, &c);
	if (!c.done) {
		free(c.b.data);
		return 0;
	}
	return buf_finish(&c.b, block, NULL) < 0 ? -1 : 1;
}

static int read_all(int fd, const char *what, char **out, size_t *out_len, struct hg_error *err)
{
	if (hg_read_fd(fd, what, HG_HOSTS_MAX_SIZE, 0, NULL, out, out_len, err) == 0)
		return 0;
	/* A file refused (not regular, too large) is one we will not write either. */
	if (err->code == HG_CNI_INVALID_CONFIG) {
		size_t n = strnlen(err->msg, sizeof(err->msg));
		snprintf(err->msg + n, sizeof(err->msg) - n, ", refusing to write it");
	}
	err->code = HG_CNI_HOSTS_FILE;
	return -1;
}

/* TEXT over the file's OLD_LEN bytes, in place (a bind mount's inode is kept). Shorter than
 * what it replaces, TEXT is written followed by a padding line at least as long as the rest
 * of the old content, then cut to its length: a writer killed between the write and the
 * truncation (a runtime's timeout, the OOM killer) leaves that line at the end, never the
 * tail of the previous content, whose lines (the end of the block: another owner's names,
 * an END marker) the next write would keep as the user's. The padding is a stray END marker
 * ("# END host-gateway ---..."): a comment to resolvers, removed by the next write. */
static int write_in_place(int fd, const char *what, const char *text, size_t len, size_t old_len,
			  struct hg_error *err)
{
	static const char pad_head[] = HG_HOSTS_END " -";
	_cleanup_free_ char *padded = NULL;
	size_t total = len;
	if (old_len > len) {
		bool eol = len == 0 || text[len - 1] == '\n';
		size_t min = (eol ? 0 : 1) + sizeof(pad_head); /* the head and its "\n" */
		size_t pad = old_len - len < min ? min : old_len - len;
		padded = malloc(len + pad);
		if (!padded)
			return hg_error_oom(err);
		char *p = mempcpy(padded, text, len);
		if (!eol)
			*p++ = '\n';
		p = mempcpy(p, pad_head, sizeof(pad_head) - 1);
		memset(p, '-', padded + len + pad - 1 - p);
		padded[len + pad - 1] = '\n';
		text = padded;
		total = len + pad;
	}
	size_t done = 0;
	while (done < total) {
		ssize_t w = pwrite(fd, text + done, total - done, done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && done >= len)
			break; /* only the padding refused (a full disk): the cut below is what counts */
		if (w < 0)
			return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "write %s", what);
		done += w;
	}
	if (ftruncate(fd, len) < 0)
		return hg_error_errno(err, HG_CNI_HOSTS_FILE, errno, "truncate %s", what);
	return 0;
}

int hg_hosts_apply_fd(int fd, const char *what, char *const *drop, const struct hg_hosts_entry *entries, size_t n,
		      char **block, struct hg_error *err)
{
	_cleanup_free_ char *old = NULL, *new = NULL;
	size_t old_len, new_len;
	int r = read_all(fd, what, &old, &old_len, err);
	if (r == 0 && hg_hosts_merge(old, old_len, drop, entries, n, &new, &new_len, block) < 0)
		r = hg_error_oom(err);
	if (r == 0 && (new_len != old_len || memcmp(old, new, new_len) != 0))
		r = write_in_place(fd, what, new, new_len, old_len, err);
	return r;
}

int hg_hosts_remove_fd(int fd, const char *what, char *const *drop, struct hg_error *err)
{
	_cleanup_free_ char *old = NULL, *new = NULL;
	size_t old_len, new_len;
	int r = read_all(fd, what, &old, &old_len, err);
	if (r == 0 && hg_hosts_strip(old, old_len, drop, &new, &new_len) < 0)
		r = hg_error_oom(err);
	if (r == 0 && new_len != old_len)
		r = write_in_place(fd, what, new, new_len, old_len, err);
	return r;
}

int hg_hosts_read_block_fd(int fd, const char *what, const char *owner, char **block, struct hg_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (read_all(fd, what, &text, &len, err) < 0)
		return -1;
	int r = hg_hosts_block(text, len, owner, block);
	if (r < 0)
		return hg_error_oom(err);
	return r;
}
