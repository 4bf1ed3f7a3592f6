/* SPDX-License-Identifier: Apache-2.0 */
/* The main server block of a Corefile as CoreDNS's parser (coredns/caddy caddyfile/parse.go)
 * reads it: its directives, with every `import` of a snippet defined earlier in the file
 * replaced by the snippet's tokens, where the parser does it (at a directive, or on a new
 * line inside a directive's block). Which line a token is on decides where a directive
 * ends, and an imported token keeps the line of its snippet: the parser compares those
 * numbers, and so do we. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "base/corefile-int.h"

/* CoreDNS gives up after 10000 snippet expansions; a main block needs a handful. The cap
 * on the expanded stream keeps an import bomb (snippets importing each other twice) from
 * taking the memory of the machine. */
#define MAX_EXPANSIONS 1000
#define MAX_STREAM (1u << 20)

void cf_main_free(struct cf_main *m)
{
	free(m->s);
	free(m->d);
	free(m->frames);
	free(m->snippets);
	free(m->others);
	*m = (struct cf_main){0};
}

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

static bool starts_line(const struct cf_lexed *lx, size_t i)
{
	return i == 0 || lx->toks[i - 1].last < lx->toks[i].line;
}

/* "(name)" alone before a block defines the snippet name. */
static bool snippet_key(const struct cf_lexed *lx, size_t i, const char **name, size_t *n)
{
	const char *t = cf_text(lx, i, n);
	if (*n < 2 || t[0] != '(' || t[*n - 1] != ')')
		return false;
	*name = t + 1;
	*n -= 2;
	return true;
}

static int add_snippet(const struct cf_lexed *lx, struct cf_main *m, size_t *cap, size_t key, size_t open,
		       size_t close, struct hg_error *err)
{
	const char *name, *other;
	size_t n, on;
	snippet_key(lx, key, &name, &n);
	for (size_t j = 0; j < m->n_snippets; j++)
		if (snippet_key(lx, m->snippets[j].key, &other, &on) && on == n && memcmp(other, name, n) == 0)
			return hg_error_set(err, HG_CNI_DECODE, "line %u: the snippet \"%.*s\" is defined twice",
					    lx->toks[key].line, (int) n, name);
	if (cf_grow((void **) &m->snippets, cap, m->n_snippets, sizeof(*m->snippets)) < 0)
		return hg_error_oom(err);
	m->snippets[m->n_snippets++] = (struct cf_snippet){key, open, close};
	return 0;
}

/* The server blocks at the top level: the first whose keys include a main key is the main
 * block; the snippets are recorded. A top-level `import` line is skipped: it brings server
 * blocks or snippets from files, which are not ours to edit. */
static int find_blocks(const struct cf_lexed *lx, struct cf_main *m, struct hg_error *err)
{
	size_t n = lx->n_toks, i = 0, cap_sn = 0, cap_o = 0;
	bool found = false;

	while (i < n) {
		if (cf_tok_is(lx, i, "import") && starts_line(lx, i)) {
			for (i++; i < n && !starts_line(lx, i); i++)
				;
			continue;
		}
		if (cf_tok_is(lx, i, "}"))
			return hg_error_set(err, HG_CNI_DECODE, "line %u: '}' without a matching '{' (unbalanced braces)",
					    lx->toks[i].line);
		/* The keys: words up to the end of the line, or further after a trailing comma. */
		size_t first = i, n_keys = 0;
		bool main = false;
		for (;;) {
			if (cf_tok_is(lx, i, "{"))
				break;
			size_t tn;
			const char *t = cf_text(lx, i, &tn);
			bool more = tn > 0 && t[tn - 1] == ',';
			main = main || is_main_key(t, tn);
			n_keys += tn > 0;
			i++;
			if (i == n || (!more && starts_line(lx, i)))
				break;
		}
		if (i == n || !cf_tok_is(lx, i, "{"))
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: the server block \"%.*s\" has no '{' (a Corefile without braces is "
					    "not supported)",
					    lx->toks[first].line, (int) (lx->toks[first].end - lx->toks[first].start),
					    lx->in + lx->toks[first].start);
		size_t o = i, depth = 0, inner = i;
		for (; i < n; i++) {
			if (cf_tok_is(lx, i, "{")) {
				depth++;
				inner = i;
			} else if (cf_tok_is(lx, i, "}") && --depth == 0) {
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
		const char *name;
		size_t nn;
		bool snippet = n_keys == 1 && o == first + 1 && snippet_key(lx, first, &name, &nn);
		if (snippet && add_snippet(lx, m, &cap_sn, first, o, i, err) < 0)
			return -1;
		if (main && !found) {
			found = true;
			m->open = o;
			m->close = i;
		} else if (!snippet) {
			if (cf_grow((void **) &m->others, &cap_o, m->n_others, sizeof(*m->others)) < 0)
				return hg_error_set(err, HG_CNI_IO, "out of memory");
			m->others[m->n_others++] = (struct cf_block){first, o};
		}
		i++;
	}
	if (!found)
		return hg_error_set(err, HG_CNI_DECODE,
				    "no main server block (\".:53\", \".\" or \":53\") in the Corefile");
	return 0;
}

/* ---- the main block, imports expanded -------------------------------------------------- */

struct span {
	size_t pos, end;
	unsigned frame;
};

struct reader {
	const struct cf_lexed *lx;
	struct cf_main *m;
	struct span *stack;
	size_t depth, cap_stack, cap_s, cap_d, cap_f;
};

/* The next token the parser would see, through the ends of expanded snippets. */
static bool peek(struct reader *r, struct cf_ref *ref)
{
	while (r->depth > 1 && r->stack[r->depth - 1].pos == r->stack[r->depth - 1].end)
		r->depth--;
	struct span *top = &r->stack[r->depth - 1];
	if (top->pos == top->end)
		return false;
	*ref = (struct cf_ref){top->pos, top->frame};
	return true;
}

static void skip(struct reader *r) { r->stack[r->depth - 1].pos++; }

static int take(struct reader *r, struct cf_ref ref, struct hg_error *err)
{
	struct cf_main *m = r->m;
	if (m->n_s >= MAX_STREAM)
		return hg_error_set(err, HG_CNI_DECODE,
				    "the main server block is over %u words long once its snippets are imported",
				    MAX_STREAM);
	if (cf_grow((void **) &m->s, &r->cap_s, m->n_s, sizeof(*m->s)) < 0)
		return hg_error_oom(err);
	m->s[m->n_s++] = ref;
	skip(r);
	return 0;
}

/* Is the token on a new line after the last one the parser took? */
static bool new_line(const struct reader *r, struct cf_ref ref)
{
	const struct cf_main *m = r->m;
	return cf_prev_last(r->lx, m, m->n_s) < r->lx->toks[ref.tok].line;
}

static const struct cf_snippet *find_snippet(const struct reader *r, size_t arg)
{
	const struct cf_main *m = r->m;
	size_t n;
	const char *t = cf_text(r->lx, arg, &n);
	for (size_t j = 0; j < m->n_snippets; j++) {
		const char *name;
		size_t nn;
		/* Only a snippet defined before the main block is known when the block is read:
		 * for a later one, CoreDNS looks for a file of that name. */
		if (m->snippets[j].close < m->open && snippet_key(r->lx, m->snippets[j].key, &name, &nn) && nn == n &&
		    memcmp(name, t, n) == 0)
			return &m->snippets[j];
	}
	return NULL;
}

/* `import ARG` at token imp (taken): a snippet of this file is read in its place; a file
 * (or anything else) is noted as unseen. */
static int import(struct reader *r, size_t imp, struct hg_error *err)
{
	const struct cf_lexed *lx = r->lx;
	struct cf_main *m = r->m;
	struct cf_ref arg, next;

	if (!peek(r, &arg) || lx->toks[arg.tok].line != lx->toks[imp].last)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: `import` without its argument", lx->toks[imp].line);
	skip(r);
	if (peek(r, &next) && lx->toks[next.tok].line == lx->toks[arg.tok].last)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: `import` takes one argument", lx->toks[imp].line);
	if (lx->toks[arg.tok].text_len == 0)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: `import` of an empty name", lx->toks[imp].line);
	const struct cf_snippet *sn = cf_tok_has_env(lx, arg.tok) ? NULL : find_snippet(r, arg.tok);
	if (!sn) {
		if (m->unseen == CF_NONE)
			m->unseen = imp;
		return 0;
	}
	if (m->n_frames > MAX_EXPANSIONS)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: more than %d snippet imports in the main server block",
				    lx->toks[imp].line, MAX_EXPANSIONS);
	if (cf_grow((void **) &m->frames, &r->cap_f, m->n_frames, sizeof(*m->frames)) < 0 ||
	    cf_grow((void **) &r->stack, &r->cap_stack, r->depth, sizeof(*r->stack)) < 0)
		return hg_error_oom(err);
	m->frames[m->n_frames] = (struct cf_frame){imp, (size_t) (sn - m->snippets)};
	r->stack[r->depth++] = (struct span){sn->open + 1, sn->close, (unsigned) m->n_frames++};
	return 0;
}

/* One directive from the next token: to the end of its line, and across lines inside its
 * braces (parse.go's directive()). */
static int directive(struct reader *r, struct cf_ref name, struct hg_error *err)
{
	const struct cf_lexed *lx = r->lx;
	struct cf_main *m = r->m;
	struct cf_directive d = {.name = m->n_s, .open = CF_NONE, .close = CF_NONE};
	size_t nesting = 0;
	struct cf_ref t;

	/* The parser takes a '{' there for a directive's name, not for a block (and CoreDNS
	 * knows no such directive): the blocks would not be the ones we count. */
	if (cf_tok_is(lx, name.tok, "{"))
		return hg_error_set(err, HG_CNI_DECODE,
				    "line %u: a '{' where a directive should be (CoreDNS: \"Unknown directive '{'\")",
				    lx->toks[name.tok].line);
	if (cf_tok_has_env(lx, name.tok) && m->unseen == CF_NONE)
		m->unseen = name.tok;
	if (take(r, name, err) < 0)
		return -1;
	while (peek(r, &t)) {
		size_t k = m->n_s;
		if (cf_tok_is(lx, t.tok, "{")) {
			if (nesting++ == 0 && d.open == CF_NONE)
				d.open = k;
		} else if (new_line(r, t) && nesting == 0) {
			break;
		} else if (cf_tok_is(lx, t.tok, "}") && nesting > 0) {
			if (--nesting == 0 && d.close == CF_NONE)
				d.close = k;
		} else if (cf_tok_is(lx, t.tok, "}")) {
			return hg_error_set(err, HG_CNI_DECODE,
					    "line %u: a '}' on the line of a directive, which CoreDNS refuses (\"Unexpected "
					    "'}'\"): put it on a line of its own",
					    lx->toks[t.tok].line);
		} else if (cf_tok_is(lx, t.tok, "import") && new_line(r, t)) {
			skip(r);
			if (import(r, t.tok, err) < 0)
				return -1;
			continue;
		}
		if (take(r, t, err) < 0)
			return -1;
	}
	d.end = m->n_s;
	if (cf_grow((void **) &m->d, &r->cap_d, m->n_d, sizeof(*m->d)) < 0)
		return hg_error_oom(err);
	m->d[m->n_d++] = d;
	return 0;
}

/* The main block's directives (parse.go's directives()), until its '}'. */
static int directives(struct reader *r, struct hg_error *err)
{
	const struct cf_lexed *lx = r->lx;
	struct cf_main *m = r->m;
	struct cf_ref t;

	while (peek(r, &t)) {
		if (cf_tok_is(lx, t.tok, "}")) {
			/* Snippets are balanced, so this is the block's own '}'. */
			if (t.frame != 0 || t.tok != m->close)
				break;
			return 0;
		}
		if (cf_tok_is(lx, t.tok, "import")) {
			skip(r);
			if (import(r, t.tok, err) < 0)
				return -1;
			continue;
		}
		if (directive(r, t, err) < 0)
			return -1;
	}
	return hg_error_set(err, HG_CNI_DECODE, "line %u: the main server block does not end where its braces say",
			    lx->toks[m->open].line);
}

int cf_parse_main(const struct cf_lexed *lx, struct cf_main *m, struct hg_error *err)
{
	struct reader r = {.lx = lx, .m = m};
	int ret;

	*m = (struct cf_main){.unseen = CF_NONE};
	if (find_blocks(lx, m, err) < 0)
		return -1;
	if (cf_grow((void **) &m->frames, &r.cap_f, 0, sizeof(*m->frames)) < 0 ||
	    cf_grow((void **) &r.stack, &r.cap_stack, 0, sizeof(*r.stack)) < 0)
		return hg_error_oom(err);
	m->frames[m->n_frames++] = (struct cf_frame){CF_NONE, CF_NONE};
	/* The bottom span runs to the end of the input: the parser reads on until the '}'. */
	r.stack[r.depth++] = (struct span){m->open + 1, lx->n_toks, 0};
	ret = directives(&r, err);
	free(r.stack);
	return ret;
}
