/* SPDX-License-Identifier: Apache-2.0 */
/* The Corefile as CoreDNS reads it, for lib/base/corefile.c: its tokens (corefile-lex.c) and its
 * main server block with the snippets it imports (corefile-parse.c). Internal to the
 * Corefile edit; the references are github.com/coredns/caddy caddyfile/lexer.go and
 * parse.go, which CoreDNS uses to read its Corefile. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"
#include "base/error.h"

#define CF_NONE ((size_t) -1)

struct cf_tok {
	size_t start, end;   /* [start, end) of the input, quotes included, no trailing '\r' */
	unsigned line, last; /* lines of its first and last byte (a quoted token may span lines) */
	bool quoted;
	size_t text, text_len; /* the token as CoreDNS reads it, in cf_lexed.text */
};

struct cf_comment {
	size_t start, end; /* from '#' to the end of its line, without "\r\n" */
};

struct cf_lexed {
	const char *in;
	size_t len;
	struct cf_tok *toks;
	size_t n_toks;
	struct cf_comment *comments; /* comments that start where a token could, in order */
	size_t n_comments;
	char *text; /* the tokens' texts, one after the other */
};

/* Makes room for element n of *arr (capacity *cap, elements of size bytes): -1 when out of
 * memory. */
int cf_grow(void **arr, size_t *cap, size_t n, size_t size);

/* Tokenises in as CoreDNS does. A NUL byte anywhere is refused (with its line), and so is
 * a quoted string that is never closed. */
int cf_lex(const char *in, size_t len, struct cf_lexed *lx, struct hg_error *err);
void cf_lexed_free(struct cf_lexed *lx);
#define _cleanup_lexed_ __attribute__((cleanup(cf_lexed_free)))

/* The length of the white space character (unicode.IsSpace of Go) at in[p], 0 if none. */
size_t cf_space_len(const char *in, size_t len, size_t p);
static inline const char *cf_text(const struct cf_lexed *lx, size_t i, size_t *n)
{
	*n = lx->toks[i].text_len;
	return lx->text + lx->toks[i].text;
}
bool cf_tok_is(const struct cf_lexed *lx, size_t i, const char *word);
/* Would CoreDNS replace an environment variable ({$NAME}, {%NAME%}) in token i? */
bool cf_tok_has_env(const struct cf_lexed *lx, size_t i);
/* The first token that starts at or after off (n_toks if none). */
size_t cf_tok_at(const struct cf_lexed *lx, size_t off);
/* The first comment that starts at or after off, or NULL. */
const struct cf_comment *cf_comment_after(const struct cf_lexed *lx, size_t off);

/* One token of the main block as CoreDNS's parser sees it, imports expanded: the token and
 * where it came from (0: the main block's own text; n: the n-th snippet expansion). */
struct cf_ref {
	size_t tok;
	unsigned frame;
};

struct cf_directive {
	size_t name, end;   /* [name, end) of the stream */
	size_t open, close; /* its first block's braces in the stream, or CF_NONE */
};

struct cf_frame {
	size_t import; /* the `import` token that made it */
	size_t snippet;
};

struct cf_snippet {
	size_t key;         /* the token "(name)" */
	size_t open, close; /* its braces */
};

struct cf_main {
	size_t open, close; /* the main block's braces (tokens) */
	struct cf_ref *s;   /* its inside, as CoreDNS's parser reads it */
	size_t n_s;
	struct cf_directive *d;
	size_t n_d;
	struct cf_frame *frames; /* frames[0] is the main block's own text */
	size_t n_frames;
	struct cf_snippet *snippets; /* defined before the main block, so importable by it */
	size_t n_snippets;
	/* The other server blocks of the file (not snippets): [first key, '{') each. A name
	 * in one's zone is answered there, not by the main block. */
	struct cf_block {
		size_t first, open;
	} *others;
	size_t n_others;
	/* The first token of something in the main block that may hide a directive from us: an
	 * import of a file (or of a snippet we do not know), a directive name made of an
	 * environment variable. CF_NONE when there is none. */
	size_t unseen;
};

/* Finds the main server block (".:53", "." or ":53") and reads it as CoreDNS would, with
 * the snippets of this file expanded where it imports them. */
int cf_parse_main(const struct cf_lexed *lx, struct cf_main *m, struct hg_error *err);
void cf_main_free(struct cf_main *m);
#define _cleanup_main_ __attribute__((cleanup(cf_main_free)))
/* The line of the token before stream position k ends on (the main block's '{' for k 0). */
static inline unsigned cf_prev_last(const struct cf_lexed *lx, const struct cf_main *m, size_t k)
{
	return lx->toks[k == 0 ? m->open : m->s[k - 1].tok].last;
}
/* Is stream position k on a new line (CoreDNS's isNewLine)? */
static inline bool cf_new_line(const struct cf_lexed *lx, const struct cf_main *m, size_t k)
{
	return cf_prev_last(lx, m, k) < lx->toks[m->s[k].tok].line;
}
/* Is it on the line of the token before (CoreDNS's NextArg: an argument of that line)? */
static inline bool cf_same_line(const struct cf_lexed *lx, const struct cf_main *m, size_t k)
{
	return cf_prev_last(lx, m, k) == lx->toks[m->s[k].tok].line;
}
