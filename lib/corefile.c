/* Editing a CoreDNS Corefile as text (see corefile.h). The file is tokenised the way
 * CoreDNS's Caddyfile lexer does it (whitespace-separated tokens, "quoted" tokens, `#`
 * comments, and braces that are structural only as tokens of their own), so that what we
 * take for the main server block and its hosts directive is what CoreDNS takes for them;
 * the edit itself is a few byte ranges inserted or deleted, everything else is copied. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "corefile.h"
#include "config.h"
#include "util.h"

/* ---- a growable string ---------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t n, cap;
};

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static int sbuf_str(struct sbuf *b, const char *s) { return sbuf_add(b, s, strlen(s)); }

static int sbuf_fmt(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sbuf_fmt(struct sbuf *b, const char *fmt, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		s = NULL;
		return -1;
	}
	return sbuf_add(b, s, n);
}

/* ---- the specification: addresses and names ------------------------------------------ */

void hg_corefile_spec_free(struct hg_corefile_spec *s)
{
	strv_free(s->names);
	s->names = NULL;
	s->n_ips = 0;
}

int hg_corefile_spec_add_ip(struct hg_corefile_spec *s, const char *text, struct hg_error *err)
{
	struct hg_ip ip;
	if (hg_ip_parse(text, false, &ip) < 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "\"%s\" is not an IPv4 or IPv6 address", text);
	for (size_t i = 0; i < s->n_ips; i++)
		if (s->ips[i].family == ip.family)
			return hg_error_set(err, HG_CNI_INVALID_CONFIG,
					    "at most one IPv4 and one IPv6 address (\"%s\" is the second of its family)",
					    text);
	s->ips[s->n_ips++] = ip;
	return 0;
}

int hg_corefile_spec_add_name(struct hg_corefile_spec *s, const char *text, struct hg_error *err)
{
	if (hg_parse_name(text) < 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "\"%s\" is not a valid host name", text);
	if (s->names && strv_contains(s->names, text))
		return 0;
	if (strv_len(s->names) >= HG_MAX_NAMES)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "more than " STR(HG_MAX_NAMES) " names");
	if (strv_push(&s->names, text) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	return 0;
}

int hg_corefile_spec_finish(struct hg_corefile_spec *s, struct hg_error *err)
{
	if (s->n_ips == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address given (--ip)");
	if (strv_len(s->names) > 0)
		return 0;
	/* The defaults are the configuration's, so that the CNI plugin, the hook and CoreDNS
	 * agree on what "the names of the host" are. */
	struct hg_config c;
	int r = hg_config_init(&c);
	if (r == 0) {
		strv_free(s->names);
		s->names = TAKE_PTR(c.names);
	}
	hg_config_free(&c);
	if (r < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	return 0;
}

/* ---- the lexer --------------------------------------------------------------------------- */

struct tok {
	size_t start, end;   /* [start, end) of the input, quotes included */
	unsigned line, last; /* lines of its first and last byte (a quoted token may span lines) */
	bool quoted;
};

struct comment {
	size_t start, end; /* from '#' to the end of its line, without "\r\n" */
};

struct lexed {
	const char *in;
	size_t len;
	struct tok *toks;
	size_t n_toks;
	struct comment *comments;
	size_t n_comments;
};

static void lexed_free(struct lexed *lx)
{
	free(lx->toks);
	free(lx->comments);
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static int push(void **arr, size_t *n, size_t *cap, size_t size)
{
	if (*n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, ncap * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* CoreDNS's lexer (coredns/caddy caddyfile/lexer.go): a `#` outside quotes starts a comment
 * that a whitespace ends when it interrupts a token and the newline ends otherwise; a quote
 * opens a quoted token only at the start of a token, and inside one only `\"` is an escape.
 * Only standalone comments are recorded: ours are. */
static int lex(const char *in, size_t len, struct lexed *lx, struct hg_error *err)
{
	size_t cap_t = 0, cap_c = 0, i = 0;
	unsigned line = 1;

	lx->in = in;
	lx->len = len;
	while (i < len) {
		char c = in[i];
		if (c == '\0')
			return hg_error_set(err, HG_CNI_DECODE, "line %u: a NUL byte", line);
		if (c == '\n') {
			line++;
			i++;
			continue;
		}
		if (is_space(c)) {
			i++;
			continue;
		}
		if (c == '#') {
			size_t s = i;
			while (i < len && in[i] != '\n')
				i++;
			size_t e = i;
			if (e > s && in[e - 1] == '\r')
				e--;
			if (push((void **) &lx->comments, &lx->n_comments, &cap_c, sizeof(*lx->comments)) < 0)
				return hg_error_set(err, HG_CNI_IO, "out of memory");
			lx->comments[lx->n_comments++] = (struct comment){s, e};
			continue;
		}
		if (push((void **) &lx->toks, &lx->n_toks, &cap_t, sizeof(*lx->toks)) < 0)
			return hg_error_set(err, HG_CNI_IO, "out of memory");
		struct tok t = {.start = i, .line = line};
		if (c == '"') {
			bool escaped = false, closed = false;
			t.quoted = true;
			for (i++; i < len; i++) {
				if (in[i] == '\0')
					return hg_error_set(err, HG_CNI_DECODE, "line %u: a NUL byte", line);
				if (!escaped && in[i] == '\\') {
					escaped = true;
					continue;
				}
				if (!escaped && in[i] == '"') {
					closed = true;
					i++;
					break;
				}
				if (in[i] == '\n')
					line++;
				escaped = false;
			}
			if (!closed)
				return hg_error_set(err, HG_CNI_DECODE, "line %u: a quoted string is never closed", t.line);
		} else {
			while (i < len && !is_space(in[i]) && in[i] != '#' && in[i] != '\0')
				i++;
			/* A `#` inside a token comments out the rest of that word only. */
			while (i < len && !is_space(in[i]) && in[i] != '\0')
				i++;
		}
		t.end = i;
		t.last = line;
		lx->toks[lx->n_toks++] = t;
	}
	return 0;
}

/* The token's text as CoreDNS sees it, for the few words we compare (no escapes in them). */
static bool tok_is(const struct lexed *lx, size_t i, const char *word)
{
	const struct tok *t = &lx->toks[i];
	size_t s = t->start, e = t->end, n = strlen(word);
	if (t->quoted) {
		s++;
		e--;
	} else {
		const char *hash = memchr(lx->in + s, '#', e - s);
		if (hash)
			e = hash - lx->in;
	}
	return e - s == n && memcmp(lx->in + s, word, n) == 0;
}

/* Does token i start a line (CoreDNS's isNewLine)? */
static bool starts_line(const struct lexed *lx, size_t i)
{
	return i == 0 || lx->toks[i - 1].last < lx->toks[i].line;
}

static size_t line_start(const char *in, size_t off)
{
	while (off > 0 && in[off - 1] != '\n')
		off--;
	return off;
}

/* Just after the newline that ends the line holding off (len at the end of the input). */
static size_t next_line(const char *in, size_t len, size_t off)
{
	const char *nl = memchr(in + off, '\n', len - off);
	return nl ? (size_t) (nl - in) + 1 : len;
}

/* Only whitespace between the start of its line and token i? Then that is its indentation. */
static bool indent_of(const struct lexed *lx, size_t i, size_t *from)
{
	size_t s = line_start(lx->in, lx->toks[i].start);
	for (size_t p = s; p < lx->toks[i].start; p++)
		if (!is_space(lx->in[p]))
			return false;
	*from = s;
	return true;
}

/* ---- structure: server blocks and directives ---------------------------------------- */

struct directive {
	size_t name;       /* token index */
	size_t end;        /* one past its last token */
	size_t open, close; /* its block's braces, or SIZE_MAX */
};

/* ".:53", "." or ":53", optionally with the dns:// scheme: the block that serves every name
 * on the standard port. */
static bool is_main_key(const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == ',')
		n--;
	if (n >= 6 && strncasecmp(s, "dns://", 6) == 0) {
		s += 6;
		n -= 6;
	}
	return (n == 1 && s[0] == '.') || (n == 4 && memcmp(s, ".:53", 4) == 0) || (n == 3 && memcmp(s, ":53", 3) == 0);
}

/* The first server block whose keys include a main key: the token indices of its braces. */
static int find_main_block(const struct lexed *lx, size_t *open, size_t *close, struct hg_error *err)
{
	size_t n = lx->n_toks, i = 0;
	bool found = false;

	while (i < n) {
		if (tok_is(lx, i, "import") && starts_line(lx, i)) {
			for (i++; i < n && !starts_line(lx, i); i++)
				;
			continue;
		}
		if (tok_is(lx, i, "}"))
			return hg_error_set(err, HG_CNI_DECODE, "line %u: '}' without a matching '{' (unbalanced braces)",
					    lx->toks[i].line);
		/* The keys: words up to the end of the line, or further after a trailing comma. */
		size_t first = i;
		bool main = false;
		for (;;) {
			if (tok_is(lx, i, "{"))
				break;
			const struct tok *t = &lx->toks[i];
			bool more = lx->in[t->end - 1] == ',' && !t->quoted;
			main = main || is_main_key(lx->in + t->start, t->end - t->start);
			i++;
			if (i == n || (!more && starts_line(lx, i)))
				break;
		}
		if (i == n || !tok_is(lx, i, "{"))
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: the server block \"%.*s\" has no '{' (a Corefile without braces is "
					    "not supported)",
					    lx->toks[first].line, (int) (lx->toks[first].end - lx->toks[first].start),
					    lx->in + lx->toks[first].start);
		size_t o = i, depth = 0, inner = i;
		for (; i < n; i++) {
			if (tok_is(lx, i, "{")) {
				depth++;
				inner = i;
			} else if (tok_is(lx, i, "}") && --depth == 0) {
				break;
			}
		}
		/* The last '{' opened is usually the one that lacks its '}': name it too. */
		if (i == n && inner != o)
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: this '{' is never closed (unbalanced braces; the last '{' opened is on "
					    "line %u)",
					    lx->toks[o].line, lx->toks[inner].line);
		if (i == n)
			return hg_error_set(err, HG_CNI_DECODE, "line %u: this '{' is never closed (unbalanced braces)",
					    lx->toks[o].line);
		if (main && !found) {
			found = true;
			*open = o;
			*close = i;
		}
		i++;
	}
	if (!found)
		return hg_error_set(err, HG_CNI_DECODE,
				    "no main server block (\".:53\", \".\" or \":53\") in the Corefile");
	return 0;
}

/* The directives between the braces open and close, as CoreDNS's parser splits them: a
 * directive goes on to the end of its line, and across lines inside its own braces. */
static int directives(const struct lexed *lx, size_t open, size_t close, struct directive **out, size_t *n_out)
{
	struct directive *d = NULL;
	size_t n = 0, cap = 0, j = open + 1;

	while (j < close) {
		if (push((void **) &d, &n, &cap, sizeof(*d)) < 0) {
			free(d);
			return -1;
		}
		struct directive x = {.name = j, .open = SIZE_MAX, .close = SIZE_MAX};
		size_t nesting = 0, k = j + 1;
		for (; k < close; k++) {
			if (tok_is(lx, k, "{")) {
				if (nesting++ == 0 && x.open == SIZE_MAX)
					x.open = k;
			} else if (nesting == 0 && starts_line(lx, k)) {
				break;
			} else if (tok_is(lx, k, "}") && nesting > 0) {
				if (--nesting == 0 && x.close == SIZE_MAX)
					x.close = k;
			}
		}
		x.end = k;
		d[n++] = x;
		j = k;
	}
	*out = d;
	*n_out = n;
	return 0;
}

/* ---- the edit ------------------------------------------------------------------------------ */

struct edit {
	size_t at, del;   /* delete [at, at + del) ... */
	const char *ins;  /* ... and put this there */
	size_t ins_len;
};

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	/* An insertion goes before a deletion that starts at the same place. */
	return (x->del > 0) - (y->del > 0);
}

/* Is comment c our marker "# host-gateway"? */
static bool is_marker(const struct lexed *lx, const struct comment *c)
{
	const char *s = lx->in + c->start + 1, *e = lx->in + c->end;
	size_t n = strlen(HG_COREFILE_MARKER);
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (size_t) (e - s) == n && memcmp(s, HG_COREFILE_MARKER, n) == 0;
}

static bool name_in_zone(const char *name, const char *zone, size_t zn)
{
	size_t nn = strlen(name);
	if (zn > 0 && zone[zn - 1] == '.')
		zn--;
	if (zn == 0)
		return true;
	if (nn == zn)
		return strncasecmp(name, zone, zn) == 0;
	return nn > zn && name[nn - zn - 1] == '.' && strncasecmp(name + nn - zn, zone, zn) == 0;
}

/* The hosts plugin takes its first argument as the file and the others as its zones: a name
 * outside those zones would be ignored without a word, so it is refused here. */
static int check_zones(const struct lexed *lx, const struct directive *h, size_t args_end,
		       const struct hg_corefile_spec *s, struct hg_error *err)
{
	if (args_end <= h->name + 2)
		return 0;
	for (char **name = s->names; *name; name++) {
		bool in = false;
		for (size_t a = h->name + 2; a < args_end && !in; a++) {
			const struct tok *t = &lx->toks[a];
			size_t zs = t->start + t->quoted, ze = t->end - t->quoted;
			in = name_in_zone(*name, lx->in + zs, ze - zs);
		}
		if (!in)
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: the hosts block serves only the zones listed after its file, and "
					    "\"%s\" is outside them",
					    lx->toks[h->name].line, *name);
	}
	return 0;
}

/* The whitespace before token i when it starts its line (heap), else NULL with *ok false. */
static char *indent_dup(const struct lexed *lx, size_t i, bool *ok)
{
	size_t from;
	*ok = indent_of(lx, i, &from);
	return *ok ? strndup(lx->in + from, lx->toks[i].start - from) : NULL;
}

/* One step of indentation, as the main block's nested blocks use it (kubeadm: 3 spaces,
 * k3s: 2, a tab-indented file: a tab); without any, the directives' own indentation
 * (a tab when they are tab-indented), else 4 spaces. */
static char *indent_step(const struct lexed *lx, const struct directive *d, size_t n, const char *dir_indent)
{
	for (size_t i = 0; i < n; i++) {
		size_t outer, inner;
		if (d[i].open == SIZE_MAX || d[i].open + 1 >= d[i].close || !indent_of(lx, d[i].name, &outer) ||
		    !starts_line(lx, d[i].open + 1) || !indent_of(lx, d[i].open + 1, &inner))
			continue;
		size_t ol = lx->toks[d[i].name].start - outer, il = lx->toks[d[i].open + 1].start - inner;
		if (il > ol && memcmp(lx->in + outer, lx->in + inner, ol) == 0)
			return strndup(lx->in + inner + ol, il - ol);
	}
	if (dir_indent[0] == '\t')
		return strdup("\t");
	return strdup(dir_indent[0] ? dir_indent : "    ");
}

/* "VIP name... # host-gateway" for each address, each line indent + text + eol. */
static int entry_lines(struct sbuf *b, const struct hg_corefile_spec *s, const char *indent, const char *eol)
{
	for (size_t i = 0; i < s->n_ips; i++) {
		char ip[HG_IP_STRLEN];
		if (sbuf_fmt(b, "%s%s", indent, hg_ip_str(&s->ips[i], ip)) < 0)
			return -1;
		for (char **name = s->names; *name; name++)
			if (sbuf_fmt(b, " %s", *name) < 0)
				return -1;
		if (sbuf_fmt(b, " # %s%s", HG_COREFILE_MARKER, eol) < 0)
			return -1;
	}
	return 0;
}

static int add_edit(struct edit **edits, size_t *n, size_t *cap, struct edit e)
{
	if (push((void **) edits, n, cap, sizeof(**edits)) < 0)
		return -1;
	(*edits)[(*n)++] = e;
	return 0;
}

/* Our lines into the main block's hosts directive h: first in its block (the hosts plugin
 * takes inline entries only before `fallthrough`), in place of those of an earlier run. */
static int merge_into_hosts(const struct lexed *lx, const struct directive *h, const struct directive *d,
			    size_t n_d, const struct hg_corefile_spec *s, const char *eol, struct sbuf *ins1,
			    struct sbuf *ins2, struct edit **edits, size_t *n_edits, size_t *cap_edits,
			    struct hg_error *err)
{
	const char *in = lx->in;
	size_t len = lx->len;
	bool ok;
	_cleanup_free_ char *dir_indent = indent_dup(lx, h->name, &ok);
	if (!ok)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: put the hosts directive on a line of its own",
				    lx->toks[h->name].line);
	if (!dir_indent)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	_cleanup_free_ char *step = indent_step(lx, d, n_d, dir_indent);
	_cleanup_free_ char *ind = NULL;
	if (!step)
		return hg_error_set(err, HG_CNI_IO, "out of memory");

	if (h->open == SIZE_MAX) {
		/* `hosts [FILE [ZONES]]` without a block: it gets one, holding our lines. */
		const struct tok *last = &lx->toks[h->end - 1];
		if (last->last != lx->toks[h->name].line)
			return hg_error_set(err, HG_CNI_DECODE, "line %u: a hosts directive spread over lines",
					    lx->toks[h->name].line);
		if (asprintf(&ind, "%s%s", dir_indent, step) < 0) {
			ind = NULL;
			return hg_error_set(err, HG_CNI_IO, "out of memory");
		}
		if (sbuf_str(ins1, " {") < 0 || entry_lines(ins2, s, ind, eol) < 0 ||
		    sbuf_fmt(ins2, "%s}%s", dir_indent, eol) < 0 ||
		    add_edit(edits, n_edits, cap_edits, (struct edit){.at = last->end}) < 0 ||
		    add_edit(edits, n_edits, cap_edits, (struct edit){.at = next_line(in, len, last->end)}) < 0)
			return hg_error_set(err, HG_CNI_IO, "out of memory");
		return 0;
	}

	const struct tok *o = &lx->toks[h->open];
	if (h->open + 1 < h->close && !starts_line(lx, h->open + 1))
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: the hosts block has options on the line of its '{' (not supported: put "
				    "them on lines of their own)",
				    o->line);
	/* The indentation of the block's first line (ours, after an earlier run). */
	if (h->open + 1 < h->close)
		ind = indent_dup(lx, h->open + 1, &ok);
	if (!ind && asprintf(&ind, "%s%s", dir_indent, step) < 0)
		ind = NULL;
	if (!ind || entry_lines(ins1, s, ind, eol) < 0 ||
	    add_edit(edits, n_edits, cap_edits, (struct edit){.at = next_line(in, len, o->end)}) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	/* Our lines of an earlier run, wherever they are in the block: whole lines between the
	 * line of the '{' and the line of the '}'. */
	size_t block_end = lx->toks[h->close].start;
	for (size_t c = 0; c < lx->n_comments; c++) {
		const struct comment *cm = &lx->comments[c];
		if (cm->start <= o->end || cm->start >= block_end || !is_marker(lx, cm))
			continue;
		size_t from = line_start(in, cm->start), to = next_line(in, len, cm->start);
		if (from <= o->end || to > block_end)
			continue;
		if (add_edit(edits, n_edits, cap_edits, (struct edit){.at = from, .del = to - from}) < 0)
			return hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	return 0;
}

/* A new block `hosts { our lines; fallthrough }` right before the main block's `forward`
 * (CoreDNS orders plugins by its own list, not by the Corefile: this is for readers, who
 * find it next to the other name sources), else before the block's '}'. */
static int add_hosts_block(const struct lexed *lx, size_t close, const struct directive *fwd,
			   const struct directive *d, size_t n_d, const struct hg_corefile_spec *s, const char *eol,
			   struct sbuf *ins1, struct edit **edits, size_t *n_edits, size_t *cap_edits,
			   struct hg_error *err)
{
	size_t anchor, from, at;
	_cleanup_free_ char *dir_indent = NULL, *step = NULL, *ind = NULL;

	if (fwd && indent_of(lx, fwd->name, &from)) {
		anchor = fwd->name;
		/* Comment lines right above `forward` are about it: stay above them. */
		for (at = from; at > 0;) {
			size_t prev = line_start(lx->in, at - 1), p = prev;
			while (p < at && (lx->in[p] == ' ' || lx->in[p] == '\t'))
				p++;
			if (p == at || lx->in[p] != '#')
				break;
			at = prev;
		}
	} else if (indent_of(lx, close, &from)) {
		anchor = close;
		at = from;
	} else {
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: no place for a hosts block: put the server block's '}' on a line of its own",
				    lx->toks[close].line);
	}
	bool ok = false;
	if (anchor != close) {
		dir_indent = strndup(lx->in + from, lx->toks[anchor].start - from);
		ok = true;
	} else if (n_d > 0) {
		dir_indent = indent_dup(lx, d[0].name, &ok);
	}
	if (ok && !dir_indent)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	if (!ok) {
		/* An empty block, or a first directive that shares a line: one step deeper than
		 * the closing brace. */
		_cleanup_free_ char *brace = strndup(lx->in + from, lx->toks[close].start - from);
		_cleanup_free_ char *bstep = brace ? indent_step(lx, d, n_d, brace) : NULL;
		if (!bstep || asprintf(&dir_indent, "%s%s", brace, bstep) < 0)
			dir_indent = NULL;
	}
	if (dir_indent)
		step = indent_step(lx, d, n_d, dir_indent);
	if (!step || asprintf(&ind, "%s%s", dir_indent, step) < 0) {
		ind = NULL;
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	}
	if (sbuf_fmt(ins1, "%shosts {%s", dir_indent, eol) < 0 || entry_lines(ins1, s, ind, eol) < 0 ||
	    sbuf_fmt(ins1, "%sfallthrough%s%s}%s", ind, eol, dir_indent, eol) < 0 ||
	    add_edit(edits, n_edits, cap_edits, (struct edit){.at = at}) < 0)
		return hg_error_set(err, HG_CNI_IO, "out of memory");
	return 0;
}

int hg_corefile_edit(const char *in, size_t len, const struct hg_corefile_spec *s, char **out,
		     struct hg_error *err)
{
	struct lexed lx = {0};
	_cleanup_free_ struct directive *d = NULL;
	_cleanup_free_ struct edit *edits = NULL;
	struct sbuf ins1 = {0}, ins2 = {0}, res = {0};
	size_t n_d = 0, n_edits = 0, cap_edits = 0, open = 0, close = 0;
	int ret = -1;

	if (s->n_ips == 0 || strv_len(s->names) == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address or no name to add");
	if (len > HG_COREFILE_MAX_SIZE)
		return hg_error_set(err, HG_CNI_DECODE, "the Corefile is larger than %d bytes", HG_COREFILE_MAX_SIZE);
	if (lex(in, len, &lx, err) < 0 || find_main_block(&lx, &open, &close, err) < 0)
		goto out;
	if (directives(&lx, open, close, &d, &n_d) < 0) {
		hg_error_set(err, HG_CNI_IO, "out of memory");
		goto out;
	}
	/* The line ends of the file: a CRLF file gets CRLF lines. */
	const char *nl = memchr(in, '\n', len);
	const char *eol = nl && nl > in && nl[-1] == '\r' ? "\r\n" : "\n";

	const struct directive *hosts = NULL, *forward = NULL;
	for (size_t i = 0; i < n_d; i++) {
		if (tok_is(&lx, d[i].name, "hosts")) {
			if (hosts) {
				hg_error_set(err, HG_CNI_DECODE,
					     "line %u: a second hosts directive in the main server block (CoreDNS allows one)",
					     lx.toks[d[i].name].line);
				goto out;
			}
			hosts = &d[i];
		} else if (!forward && tok_is(&lx, d[i].name, "forward")) {
			forward = &d[i];
		}
	}

	/* The first edit inserts ins1; a hosts directive without a block needs a second one,
	 * ins2, after its line; the others delete our lines of an earlier run. */
	if (hosts) {
		size_t args_end = hosts->open != SIZE_MAX ? hosts->open : hosts->end;
		if (check_zones(&lx, hosts, args_end, s, err) < 0 ||
		    merge_into_hosts(&lx, hosts, d, n_d, s, eol, &ins1, &ins2, &edits, &n_edits, &cap_edits, err) < 0)
			goto out;
	} else if (add_hosts_block(&lx, close, forward, d, n_d, s, eol, &ins1, &edits, &n_edits, &cap_edits, err) <
		   0) {
		goto out;
	}
	edits[0].ins = ins1.p;
	edits[0].ins_len = ins1.n;
	if (ins2.n > 0) {
		edits[1].ins = ins2.p;
		edits[1].ins_len = ins2.n;
	}
	qsort(edits, n_edits, sizeof(*edits), cmp_edit);

	size_t cur = 0;
	if (sbuf_add(&res, "", 0) < 0)
		goto oom;
	for (size_t i = 0; i < n_edits; i++) {
		if (edits[i].at < cur) /* cannot happen (the edits do not overlap): never copy twice */
			continue;
		if (sbuf_add(&res, in + cur, edits[i].at - cur) < 0 ||
		    (edits[i].ins_len && sbuf_add(&res, edits[i].ins, edits[i].ins_len) < 0))
			goto oom;
		cur = edits[i].at + edits[i].del;
	}
	if (sbuf_add(&res, in + cur, len - cur) < 0)
		goto oom;
	*out = TAKE_PTR(res.p);
	ret = 0;
	goto out;
oom:
	hg_error_set(err, HG_CNI_IO, "out of memory");
out:
	free(ins1.p);
	free(ins2.p);
	free(res.p);
	lexed_free(&lx);
	return ret;
}

/* ---- k3s: the coredns-custom override -------------------------------------------------- */

int hg_corefile_k3s_override(const struct hg_corefile_spec *s, char **out, struct hg_error *err)
{
	struct sbuf b = {0};

	if (s->n_ips == 0 || strv_len(s->names) == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address or no name to add");
	/* k3s imports *.override into its main server block, which already has a hosts plugin
	 * (NodeHosts) and may have only one: the template plugin answers instead. Per name, one
	 * template per address family answers the address; the last one answers every other
	 * type with an empty NOERROR, as the hosts plugin does, because an NXDOMAIN for AAAA
	 * makes some resolvers (musl) drop the A answer too. `match` keeps subdomains out
	 * (a template's zone covers them), and `fallthrough` hands them on: without it a
	 * template that does not match answers SERVFAIL. Query names reach the regex in lower
	 * case, so the names are written in lower case. */
	if (sbuf_fmt(&b, "# host-gateway: the host's names resolve to its virtual IP in every pod.\n"
			 "# Content of the key host-gateway.override of the ConfigMap kube-system/coredns-custom,\n"
			 "# imported by k3s into its main server block. Generated: regenerate, do not edit.\n") < 0)
		goto oom;
	for (char **name = s->names; *name; name++) {
		_cleanup_free_ char *lower = strdup(*name);
		struct sbuf re = {0};
		if (!lower)
			goto oom;
		for (char *p = lower; *p; p++)
			*p = tolower((unsigned char) *p);
		/* Names hold only [A-Za-z0-9_.-]: a dot is the one character to escape. */
		if (sbuf_str(&re, "^") < 0)
			goto oom;
		for (const char *p = lower; *p; p++)
			if ((*p == '.' ? sbuf_str(&re, "\\.") : sbuf_add(&re, p, 1)) < 0) {
				free(re.p);
				goto oom;
			}
		if (sbuf_str(&re, "\\.$") < 0)
			goto oom;
		int r = 0;
		for (size_t i = 0; i < s->n_ips && r == 0; i++) {
			char ip[HG_IP_STRLEN];
			const char *type = s->ips[i].family == AF_INET ? "A" : "AAAA";
			r = sbuf_fmt(&b,
				     "template IN %s %s {\n"
				     "    match \"%s\"\n"
				     "    answer \"{{ .Name }} 60 IN %s %s\"\n"
				     "    fallthrough\n"
				     "}\n",
				     type, lower, re.p, type, hg_ip_str(&s->ips[i], ip));
		}
		if (r == 0)
			r = sbuf_fmt(&b,
				     "template IN ANY %s {\n"
				     "    match \"%s\"\n"
				     "    rcode NOERROR\n"
				     "    fallthrough\n"
				     "}\n",
				     lower, re.p);
		free(re.p);
		if (r < 0)
			goto oom;
	}
	*out = TAKE_PTR(b.p);
	return 0;
oom:
	free(b.p);
	return hg_error_set(err, HG_CNI_IO, "out of memory");
}
