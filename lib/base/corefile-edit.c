/* SPDX-License-Identifier: Apache-2.0 */
/* Our entries into the hosts plugin of a Corefile's main server block (see corefile.h), as
 * a few byte ranges inserted or deleted; everything else is copied. Where the hosts
 * directive is, and whether a hidden one may exist, is decided on the block as CoreDNS's
 * parser reads it (corefile-parse.c), imports of this file's snippets expanded. The result
 * is read back the same way before it is handed out (hg_corefile_check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "base/corefile.h"
#include "base/corefile-int.h"
#include "base/util.h"

struct edit {
	size_t at, del; /* delete [at, at + del) ... */
	int ins;        /* ... and put ctx.ins[ins] there (-1: nothing) */
};

struct ctx {
	const struct cf_lexed *lx;
	const struct cf_main *m;
	const struct hg_corefile_spec *s;
	const char *eol;
	struct buf ins[2];
	struct edit *edits;
	size_t n_edits, cap_edits;
};

static int add_edit(struct ctx *c, size_t at, size_t del, int ins)
{
	if (cf_grow((void **) &c->edits, &c->cap_edits, c->n_edits, sizeof(*c->edits)) < 0)
		return -1;
	c->edits[c->n_edits++] = (struct edit){at, del, ins};
	return 0;
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

/* The spaces and tabs that start the line holding off: *from is the line's start. */
static size_t line_indent(const char *in, size_t off, size_t *from)
{
	size_t s = line_start(in, off), p = s;
	while (p < off && (in[p] == ' ' || in[p] == '\t'))
		p++;
	*from = s;
	return p - s;
}

/* Only spaces and tabs before token i on its line? Then they are its indentation. */
static bool indent_of(const struct cf_lexed *lx, size_t i, size_t *from)
{
	return line_indent(lx->in, lx->toks[i].start, from) == lx->toks[i].start - *from;
}

static char *indent_dup(const struct cf_lexed *lx, size_t off)
{
	size_t from, n = line_indent(lx->in, off, &from);
	return strndup(lx->in + from, n);
}

/* One step of indentation, as the nested blocks of the directives of that text (frame) use
 * it (kubeadm: 3 spaces, k3s: 2, a tab-indented file: a tab); without any, the
 * directives' own indentation (a tab when they are tab-indented), else 4 spaces. */
static char *indent_step(const struct ctx *c, unsigned frame, const char *dir_indent)
{
	const struct cf_lexed *lx = c->lx;
	const struct cf_main *m = c->m;
	for (size_t i = 0; i < m->n_d; i++) {
		const struct cf_directive *d = &m->d[i];
		size_t outer, inner, name = m->s[d->name].tok, o;
		if (m->s[d->name].frame != frame || d->open == CF_NONE || d->close == CF_NONE)
			continue;
		o = m->s[d->open].tok;
		if (o + 1 >= m->s[d->close].tok || lx->toks[o + 1].line <= lx->toks[o].last || !indent_of(lx, name, &outer) ||
		    !indent_of(lx, o + 1, &inner))
			continue;
		size_t ol = lx->toks[name].start - outer, il = lx->toks[o + 1].start - inner;
		if (il > ol && memcmp(lx->in + outer, lx->in + inner, ol) == 0)
			return strndup(lx->in + inner + ol, il - ol);
	}
	if (dir_indent[0] == '\t')
		return strdup("\t");
	return strdup(dir_indent[0] ? dir_indent : "    ");
}

static char *concat(const char *a, const char *b)
{
	char *s;
	return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

/* "VIP name... # host-gateway" for each address, each line indent + text + eol. */
static int entry_lines(struct buf *b, const struct hg_corefile_spec *s, const char *indent, const char *eol)
{
	for (size_t i = 0; i < s->n_ips; i++) {
		char ip[HG_IP_STRLEN];
		if (buf_fmt(b, "%s%s", indent, hg_ip_str(&s->ips[i], ip)) < 0)
			return -1;
		for (char **name = s->names; *name; name++)
			if (buf_fmt(b, " %s", *name) < 0)
				return -1;
		if (buf_fmt(b, " # %s%s", HG_COREFILE_MARKER, eol) < 0)
			return -1;
	}
	return 0;
}

/* Words of ours from an earlier run: from token k (an address) to the comment cm, which is
 * "# host-gateway", and no brace between (deleting them must not change the blocks). */
static bool ours(const struct cf_lexed *lx, size_t k, const struct cf_comment *cm)
{
	const char *s = lx->in + cm->start + 1, *e = lx->in + cm->end;
	size_t n = strlen(HG_COREFILE_MARKER), tn;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t) (e - s) != n || memcmp(s, HG_COREFILE_MARKER, n) != 0)
		return false;
	if (k == lx->n_toks || lx->toks[k].start >= cm->start)
		return false;
	for (size_t j = k; j < lx->n_toks && lx->toks[j].start < cm->start; j++)
		if (cf_tok_is(lx, j, "{") || cf_tok_is(lx, j, "}"))
			return false;
	const char *t = cf_text(lx, k, &tn);
	char word[HG_IP_STRLEN];
	struct hg_ip ip;
	if (tn >= sizeof(word))
		return false;
	memcpy(word, t, tn);
	word[tn] = '\0';
	return hg_ip_parse(word, false, &ip) == 0;
}

/* A line of ours: its first word starts it, and it is ours() to cm. [*from, *to) is the
 * whole line. */
static bool marker_line(const struct cf_lexed *lx, const struct cf_comment *cm, size_t *from, size_t *to)
{
	*from = line_start(lx->in, cm->start);
	*to = next_line(lx->in, lx->len, cm->start);
	size_t k = cf_tok_at(lx, *from);
	if (k < lx->n_toks && k > 0 && lx->toks[k - 1].last >= lx->toks[k].line)
		return false;
	return ours(lx, k, cm);
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
static int check_zones(const struct ctx *c, const struct cf_directive *h, struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	const struct cf_main *m = c->m;
	size_t args_end = h->open != CF_NONE ? h->open : h->end;
	unsigned line = lx->toks[m->s[h->name].tok].line;

	if (args_end <= h->name + 2)
		return 0;
	for (size_t a = h->name + 2; a < args_end; a++)
		if (cf_tok_has_env(lx, m->s[a].tok))
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: the hosts block's zones come from an environment variable: "
					    "whether they hold the names cannot be told",
					    line);
	for (char **name = c->s->names; *name; name++) {
		bool in = false;
		for (size_t a = h->name + 2; a < args_end && !in; a++) {
			size_t zn;
			const char *zone = cf_text(lx, m->s[a].tok, &zn);
			in = name_in_zone(*name, zone, zn);
		}
		if (!in)
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: the hosts block serves only the zones listed after its file, and "
					    "\"%s\" is outside them",
					    line, *name);
	}
	return 0;
}

/* CoreDNS answers a name from the server block of its longest zone on the port: another
 * block on port 53 whose zone holds one of the names (`internal`, `docker.internal`) gets
 * its queries, and our entries in the main block would never be read. Keys on another
 * port or transport, reverse zones and keys made of environment variables serve other
 * queries, or cannot be told: they are let be. */
static int check_other_blocks(const struct ctx *c, struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	const struct cf_main *m = c->m;

	for (size_t b = 0; b < m->n_others; b++)
		for (size_t k = m->others[b].first; k < m->others[b].open; k++) {
			size_t n;
			const char *key = cf_text(lx, k, &n), *zone = key;
			if (cf_tok_has_env(lx, k))
				continue;
			if (n > 0 && key[n - 1] == ',')
				n--;
			if (n >= 6 && strncasecmp(key, "dns://", 6) == 0)
				zone += 6;
			size_t zn = (size_t) (key + n - zone);
			const char *colon = memchr(zone, ':', zn);
			if (colon) {
				if ((size_t) (zone + zn - colon) != 3 || memcmp(colon, ":53", 3) != 0)
					continue;
				zn = (size_t) (colon - zone);
			}
			/* The root zone again: another main block (CoreDNS refuses it, unless the two
			 * bind other addresses), not one that takes the names from the main block. */
			if (zn == 0 || (zn == 1 && zone[0] == '.') || memchr(zone, '/', zn))
				continue;
			for (char **name = c->s->names; *name; name++)
				if (name_in_zone(*name, zone, zn))
					return hg_error_set(err, HG_CNI_DECODE,
							    "line %u: the server block \"%.*s\" serves \"%s\": CoreDNS answers "
							    "it from there (the block of its longest zone), never from the main "
							    "block's hosts entries",
							    lx->toks[k].line, (int) n, key, *name);
		}
	return 0;
}

/* `hosts [FILE [ZONES]]` without a block gets one, holding our lines. */
static int hosts_add_block(struct ctx *c, const struct cf_directive *h, const char *dir_indent, const char *ind,
			   struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	size_t name = c->m->s[h->name].tok, last = c->m->s[h->end - 1].tok;
	const struct cf_tok *l = &lx->toks[last];
	size_t after = next_line(lx->in, lx->len, l->end);

	if (l->last != lx->toks[name].line)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: a hosts directive spread over lines",
				    lx->toks[name].line);
	/* A word after it on its line (the '}' of a one-line snippet): our block ends before
	 * it, on its line, so that the word stays where it was. Else the block's '{' goes on
	 * the line of hosts (its comment stays after it) and the rest on lines of their own. */
	bool tail = last + 1 < lx->n_toks && lx->toks[last + 1].line == l->last;
	/* What follows must stay a word of its own: `{#` would be one word, `}"a"` too. */
	const char *sep = l->end < lx->len && cf_space_len(lx->in, lx->len, l->end) == 0 ? " " : "";
	if (tail || after == lx->len) {
		if (buf_fmt(&c->ins[0], " {%s", c->eol) < 0 || entry_lines(&c->ins[0], c->s, ind, c->eol) < 0 ||
		    buf_fmt(&c->ins[0], "%s}%s", dir_indent, sep) < 0 || add_edit(c, l->end, 0, 0) < 0)
			return hg_error_oom(err);
		return 0;
	}
	if (buf_fmt(&c->ins[0], " {%s", sep) < 0 || entry_lines(&c->ins[1], c->s, ind, c->eol) < 0 ||
	    buf_fmt(&c->ins[1], "%s}%s", dir_indent, c->eol) < 0 || add_edit(c, l->end, 0, 0) < 0 ||
	    add_edit(c, after, 0, 1) < 0)
		return hg_error_oom(err);
	return 0;
}

/* The hosts block h as the plugin reads it: refused where CoreDNS refuses or misreads it. */
static int check_block(const struct ctx *c, const struct cf_directive *h, struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	const struct cf_main *m = c->m;
	size_t o = m->s[h->open].tok, cl = m->s[h->close].tok;

	/* The hosts plugin looks for its block on the line of its last argument: a '{' on a
	 * later line is read as a second hosts directive, which CoreDNS refuses. */
	if (!cf_same_line(lx, m, h->open))
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: the hosts block's '{' is not on the line of hosts (CoreDNS refuses it): "
				    "join the lines",
				    lx->toks[o].line);
	/* A '}' on the line of an option is read as one more argument of that line, not as the
	 * end of the block (`fallthrough }`: a zone named "}", so that no other name falls
	 * through, as the real CoreDNS shows). */
	if (h->close > h->open + 1 && cf_same_line(lx, m, h->close)) {
		size_t pn;
		const char *prev = cf_text(lx, m->s[h->close - 1].tok, &pn);
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: the '}' of the hosts block is on the line of \"%.*s\", and CoreDNS reads "
				    "it as one more argument of that line instead of the block's end (after "
				    "fallthrough: a zone named '}', so that no other name falls through): put it on "
				    "a line of its own",
				    lx->toks[cl].line, (int) (pn > 64 ? 64 : pn), prev);
	}
	/* Words after the block's '}' on its line belong to the directive, and the plugin reads
	 * them as a second hosts directive. */
	if (h->end > h->close + 1)
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: words after the '}' of the hosts block, which CoreDNS reads as a second "
				    "hosts directive",
				    lx->toks[cl].line);
	/* The hosts plugin reads its block line by line up to the first '}': a block inside
	 * ends it early, and CoreDNS takes the rest for a second hosts directive. */
	for (size_t k = h->open + 1; k < h->close; k++)
		if (cf_tok_is(lx, m->s[k].tok, "{"))
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: a '{' inside the hosts block, which has no nested blocks (CoreDNS "
					    "refuses it)",
					    lx->toks[m->s[k].tok].line);
	return 0;
}

/* Our lines into the main block's hosts directive h: first in its block (the hosts plugin
 * takes inline entries only before `fallthrough`), in place of those of an earlier run. */
static int merge_into_hosts(struct ctx *c, const struct cf_directive *h, struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	const struct cf_main *m = c->m;
	size_t name = m->s[h->name].tok;
	unsigned frame = m->s[h->name].frame, line = lx->toks[name].line;

	/* The edit is made where the directive is written: all of it in one text. */
	if (m->s[h->end - 1].frame != frame ||
	    (h->open != CF_NONE && (h->close == CF_NONE || m->s[h->open].frame != frame || m->s[h->close].frame != frame)))
		return hg_error_set(err, HG_CNI_DECODE, "line %u: a hosts directive that an import cuts in two", line);
	_cleanup_free_ char *dir_indent = indent_dup(lx, lx->toks[name].start);
	_cleanup_free_ char *step = dir_indent ? indent_step(c, frame, dir_indent) : NULL;
	_cleanup_free_ char *ind = step ? concat(dir_indent, step) : NULL;
	if (!ind)
		return hg_error_oom(err);
	if (h->open == CF_NONE)
		return hosts_add_block(c, h, dir_indent, ind, err);

	size_t o = m->s[h->open].tok, cl = m->s[h->close].tok, from;
	if (check_block(c, h, err) < 0)
		return -1;
	if (lx->toks[o + 1].line == lx->toks[o].last) {
		/* Words after the '{' on its line (`{ }`, `{ ttl 60`): the line is broken after
		 * the '{', our lines go there, and what followed goes on the next line, unless
		 * it is a line of ours (the next run would take it for one). */
		if (cf_tok_is(lx, o + 1, "import"))
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: \"import\" after the '{' of the hosts block on its line (at the "
					    "start of a line it would import): put it on a line of its own",
					    lx->toks[o].line);
		size_t rest = next_line(lx->in, lx->len, lx->toks[o].end);
		const struct cf_comment *cm = cf_comment_after(lx, lx->toks[o].end);
		size_t del = cm && cm->start < rest && ours(lx, o + 1, cm) ? rest : lx->toks[o + 1].start;
		if (buf_str(&c->ins[0], c->eol) < 0 || entry_lines(&c->ins[0], c->s, ind, c->eol) < 0 ||
		    (del != rest && buf_str(&c->ins[0], o + 1 == cl ? dir_indent : ind) < 0) ||
		    add_edit(c, lx->toks[o].end, del - lx->toks[o].end, 0) < 0)
			return hg_error_oom(err);
	} else {
		/* The indentation of the block's first line (ours, after an earlier run). */
		_cleanup_free_ char *first = o + 1 < cl && indent_of(lx, o + 1, &from)
						     ? strndup(lx->in + from, lx->toks[o + 1].start - from)
						     : strdup(ind);
		if (!first || entry_lines(&c->ins[0], c->s, first, c->eol) < 0 ||
		    add_edit(c, next_line(lx->in, lx->len, lx->toks[o].end), 0, 0) < 0)
			return hg_error_oom(err);
	}
	/* Our lines of an earlier run, wherever they are in the block: whole lines between the
	 * line of the '{' and the line of the '}'. */
	size_t block_end = lx->toks[cl].start;
	for (size_t i = 0; i < lx->n_comments; i++) {
		const struct cf_comment *cm = &lx->comments[i];
		size_t to;
		if (cm->start <= lx->toks[o].end || cm->start >= block_end || !marker_line(lx, cm, &from, &to) ||
		    from <= lx->toks[o].end || to > block_end)
			continue;
		if (add_edit(c, from, to - from, -1) < 0)
			return hg_error_oom(err);
	}
	return 0;
}

/* Why no hosts block can be added: something in the main block may hold one we cannot see. */
static int unseen_error(const struct ctx *c, struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	size_t u = c->m->unseen, n;
	const char *t = cf_text(lx, u, &n);
	if (cf_tok_is(lx, u, "import")) {
		size_t an;
		const char *arg = cf_text(lx, u + 1, &an);
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: the main server block imports \"%.*s\", which is not a snippet of this "
				    "Corefile: a hosts directive in it would be a second one, which CoreDNS refuses. "
				    "Add an empty `hosts {` `}` block to the main server block, and run this again",
				    lx->toks[u].line, (int) (an > 128 ? 128 : an), arg);
	}
	return hg_error_set(err, HG_CNI_DECODE,
			    "line %u: the directive \"%.*s\" of the main server block is named by an environment "
			    "variable, and may be hosts. Add an empty `hosts {` `}` block to the main server block, "
			    "and run this again",
			    lx->toks[u].line, (int) (n > 128 ? 128 : n), t);
}

/* Is token off the start of a comment line (only blanks before its '#')? */
static bool comment_line(const struct cf_lexed *lx, size_t start, size_t end)
{
	size_t p = start;
	while (p < end && (lx->in[p] == ' ' || lx->in[p] == '\t'))
		p++;
	const struct cf_comment *cm = cf_comment_after(lx, p);
	return p < end && cm && cm->start == p;
}

/* A new block `hosts { our lines; fallthrough }` right before the main block's `forward`
 * (CoreDNS orders plugins by its own list, not by the Corefile: this is for readers, who
 * find it next to the other name sources), else before the block's '}'. */
static int add_hosts_block(struct ctx *c, struct hg_error *err)
{
	const struct cf_lexed *lx = c->lx;
	const struct cf_main *m = c->m;
	const struct cf_directive *fwd = NULL, *first = NULL;
	size_t from, at, close = m->close;
	_cleanup_free_ char *dir_indent = NULL, *step = NULL, *ind = NULL;

	if (m->unseen != CF_NONE)
		return unseen_error(c, err);
	for (size_t i = 0; i < m->n_d; i++) {
		if (m->s[m->d[i].name].frame != 0)
			continue;
		first = first ? first : &m->d[i];
		if (!fwd && cf_tok_is(lx, m->s[m->d[i].name].tok, "forward"))
			fwd = &m->d[i];
	}
	if (fwd && indent_of(lx, m->s[fwd->name].tok, &from)) {
		/* Comment lines right above `forward` are about it: stay above them. */
		for (at = from; at > 0;) {
			size_t prev = line_start(lx->in, at - 1);
			if (!comment_line(lx, prev, at))
				break;
			at = prev;
		}
		dir_indent = strndup(lx->in + from, lx->toks[m->s[fwd->name].tok].start - from);
	} else if (indent_of(lx, close, &from)) {
		at = from;
		if (first && indent_of(lx, m->s[first->name].tok, &from))
			dir_indent = indent_dup(lx, lx->toks[m->s[first->name].tok].start);
		else {
			/* An empty block, or a first directive that shares a line: one step deeper
			 * than the closing brace. */
			_cleanup_free_ char *brace = indent_dup(lx, lx->toks[close].start);
			_cleanup_free_ char *bstep = brace ? indent_step(c, 0, brace) : NULL;
			dir_indent = bstep ? concat(brace, bstep) : NULL;
		}
	} else {
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: no place for a hosts block: put the server block's '}' on a line of its own",
				    lx->toks[close].line);
	}
	step = dir_indent ? indent_step(c, 0, dir_indent) : NULL;
	ind = step ? concat(dir_indent, step) : NULL;
	if (!ind || buf_fmt(&c->ins[0], "%shosts {%s", dir_indent, c->eol) < 0 ||
	    entry_lines(&c->ins[0], c->s, ind, c->eol) < 0 ||
	    buf_fmt(&c->ins[0], "%sfallthrough%s%s}%s", ind, c->eol, dir_indent, c->eol) < 0 ||
	    add_edit(c, at, 0, 0) < 0)
		return hg_error_oom(err);
	return 0;
}

/* The main block's hosts directive (NULL if none); a second one is refused. */
static int find_hosts(const struct cf_lexed *lx, const struct cf_main *m, const struct cf_directive **out,
		      struct hg_error *err)
{
	*out = NULL;
	for (size_t i = 0; i < m->n_d; i++) {
		size_t t = m->s[m->d[i].name].tok;
		if (!cf_tok_is(lx, t, "hosts"))
			continue;
		if (*out) {
			unsigned f = m->s[m->d[i].name].frame;
			if (f == 0)
				return hg_error_set(err, HG_CNI_DECODE,
						    "line %u: a second hosts directive in the main server block (CoreDNS "
						    "allows one)",
						    lx->toks[t].line);
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: a second hosts directive in the main server block, imported on "
					    "line %u (CoreDNS allows one)",
					    lx->toks[t].line, lx->toks[m->frames[f].import].line);
		}
		*out = &m->d[i];
	}
	return 0;
}

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	/* An insertion goes before a deletion that starts at the same place. */
	return (x->del > 0) - (y->del > 0);
}

static int apply(struct ctx *c, char **out, size_t *out_len, struct hg_error *err)
{
	const char *in = c->lx->in;
	size_t cur = 0;
	_cleanup_buf_ struct buf res = {0};

	qsort(c->edits, c->n_edits, sizeof(*c->edits), cmp_edit);
	buf_add(&res, "", 0);
	for (size_t i = 0; i < c->n_edits; i++) {
		const struct edit *e = &c->edits[i];
		if (e->at < cur) /* cannot happen (the edits do not overlap): never copy twice */
			continue;
		buf_add(&res, in + cur, e->at - cur);
		if (e->ins >= 0)
			buf_add(&res, c->ins[e->ins].data, c->ins[e->ins].len);
		cur = e->at + e->del;
	}
	buf_add(&res, in + cur, c->lx->len - cur);
	/* A failed append makes every later one fail (buf.h): one check. */
	if (buf_finish(&res, out, out_len) < 0)
		return hg_error_oom(err);
	return 0;
}

static void ctx_free(struct ctx *c)
{
	buf_free(&c->ins[0]);
	buf_free(&c->ins[1]);
	free(c->edits);
}

int hg_corefile_edit(const char *in, size_t len, const struct hg_corefile_spec *s, char **out, size_t *out_len,
		     struct hg_error *err)
{
	_cleanup_lexed_ struct cf_lexed lx = {0};
	_cleanup_main_ struct cf_main m = {0};
	__attribute__((cleanup(ctx_free))) struct ctx c = {.lx = &lx, .m = &m, .s = s};
	const struct cf_directive *hosts;
	_cleanup_free_ char *res = NULL;
	size_t res_len = 0;

	if (s->n_ips == 0 || strv_len(s->names) == 0)
		return hg_error_set(err, HG_CNI_INVALID_CONFIG, "no address or no name to add");
	if (len > HG_COREFILE_MAX_SIZE)
		return hg_error_set(err, HG_CNI_DECODE, "the Corefile is larger than %d bytes", HG_COREFILE_MAX_SIZE);
	if (cf_lex(in, len, &lx, err) < 0 || cf_parse_main(&lx, &m, err) < 0 || check_other_blocks(&c, err) < 0 ||
	    find_hosts(&lx, &m, &hosts, err) < 0)
		return -1;
	/* The line ends of the file: a CRLF file gets CRLF lines. */
	const char *nl = memchr(in, '\n', len);
	c.eol = nl && nl > in && nl[-1] == '\r' ? "\r\n" : "\n";
	/* A hosts directive we see is the only one: with another in an import, CoreDNS would
	 * refuse the Corefile as it is. Without one, an import we cannot see may hold it. */
	if (hosts ? check_zones(&c, hosts, err) < 0 || merge_into_hosts(&c, hosts, err) < 0
		  : add_hosts_block(&c, err) < 0)
		return -1;
	if (apply(&c, &res, &res_len, err) < 0)
		return -1;
	/* What we print, CoreDNS reads with our entries: checked on the text itself. */
	if (hg_corefile_check(res, res_len, s, err) < 0)
		return hg_error_prefix(err, "internal error, nothing printed (please report this Corefile)");
	*out = TAKE_PTR(res);
	*out_len = res_len;
	return 0;
}

/* ---- reading it back ------------------------------------------------------------------- */

/* Does the entry at stream position k read as "ip names..." (the hosts plugin: a word, and
 * the words after it on its line up to a '{')? *next is the position after it. */
static bool entry_is(const struct cf_lexed *lx, const struct cf_main *m, size_t k, size_t end, const char *ip,
		     char *const *names, size_t *next)
{
	if (k >= end || !cf_tok_is(lx, m->s[k].tok, ip))
		return false;
	for (k++; *names; names++, k++)
		if (k >= end || !cf_same_line(lx, m, k) || !cf_tok_is(lx, m->s[k].tok, *names))
			return false;
	*next = k;
	return k >= end || !cf_same_line(lx, m, k);
}

int hg_corefile_check(const char *in, size_t len, const struct hg_corefile_spec *s, struct hg_error *err)
{
	_cleanup_lexed_ struct cf_lexed lx = {0};
	_cleanup_main_ struct cf_main m = {0};
	const struct cf_directive *h;

	if (cf_lex(in, len, &lx, err) < 0 || cf_parse_main(&lx, &m, err) < 0 || find_hosts(&lx, &m, &h, err) < 0)
		return -1;
	if (!h || h->open == CF_NONE || h->close == CF_NONE || !cf_same_line(&lx, &m, h->open))
		return hg_error_set(err, HG_CNI_DECODE, "the main server block has no hosts block");
	/* The block's first entries are ours, in the order of the addresses. */
	size_t k = h->open + 1;
	for (size_t i = 0; i < s->n_ips; i++) {
		char ip[HG_IP_STRLEN];
		if (!entry_is(&lx, &m, k, h->close, hg_ip_str(&s->ips[i], ip), s->names, &k))
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: the hosts block does not start with the entry for %s",
					    lx.toks[m.s[h->name].tok].line, ip);
	}
	return 0;
}
