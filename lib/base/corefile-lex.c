/* SPDX-License-Identifier: Apache-2.0 */
/* Corefile tokens exactly as CoreDNS's Caddyfile lexer (coredns/caddy caddyfile/lexer.go)
 * makes them: if we split a word where CoreDNS does not, or the other way round, we see a
 * directive CoreDNS does not (or miss one it sees), and print a Corefile it refuses. */
#include <stdlib.h>
#include <string.h>
#include "base/corefile-int.h"

int cf_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = reallocarray(*arr, ncap, size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

void cf_lexed_free(struct cf_lexed *lx)
{
	free(lx->toks);
	free(lx->comments);
	free(lx->text);
	*lx = (struct cf_lexed){0};
}

/* CoreDNS reads the Corefile rune by rune (UTF-8; a byte that starts no valid sequence is
 * one rune of its own) and splits words where Go's unicode.IsSpace is true: the ASCII
 * spaces, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
 * Matching their encodings byte by byte gives the same answer: none of them can start
 * inside another valid sequence, whose later bytes are all 0x80-0xBF. */
size_t cf_space_len(const char *in, size_t len, size_t p)
{
	const unsigned char *u = (const unsigned char *) in + p;
	size_t left = len - p;

	switch (u[0]) {
	case ' ':
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
		return 1;
	case 0xc2:
		return left >= 2 && (u[1] == 0x85 || u[1] == 0xa0) ? 2 : 0;
	case 0xe1:
		return left >= 3 && u[1] == 0x9a && u[2] == 0x80 ? 3 : 0;
	case 0xe2:
		if (left < 3)
			return 0;
		if (u[1] == 0x80 && ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf))
			return 3;
		return u[1] == 0x81 && u[2] == 0x9f ? 3 : 0;
	case 0xe3:
		return left >= 3 && u[1] == 0x80 && u[2] == 0x80 ? 3 : 0;
	default:
		return 0;
	}
}

static unsigned line_of(const char *in, size_t off)
{
	unsigned line = 1;
	for (const char *p = in; (p = memchr(p, '\n', in + off - p)); p++)
		line++;
	return line;
}

/* Where the lexer is: at in[i] of len bytes, on line line; the tokens' texts so far are the
 * tn bytes of text. */
struct cursor {
	const char *in;
	size_t len, i;
	unsigned line;
	char *text;
	size_t tn;
};

/* A quoted token from in[i] (the opening quote): only \" is an escape, a backslash before
 * anything else stays; a newline inside counts as a line. */
static int lex_quoted(struct cursor *k, struct hg_error *err)
{
	unsigned first = k->line;
	bool escaped = false;

	for (size_t p = k->i + 1; p < k->len; p++) {
		char c = k->in[p];
		if (!escaped && c == '\\') {
			escaped = true;
			continue;
		}
		if (!escaped && c == '"') {
			k->i = p + 1;
			return 0;
		}
		if (c == '\n')
			k->line++;
		if (escaped && c != '"')
			k->text[k->tn++] = '\\';
		k->text[k->tn++] = c;
		escaped = false;
	}
	return hg_error_set(err, HG_CNI_DECODE, "line %u: a quoted string is never closed", first);
}

/* An unquoted token from in[i]: up to a white space other than '\r' (which CoreDNS drops
 * without ending the word). A '#' inside it comments out the rest of that word only. *end
 * is past its last byte that is not a '\r'. */
static void lex_word(struct cursor *k, size_t *end)
{
	const char *in = k->in;
	bool comment = false;
	size_t p = k->i;

	while (p < k->len) {
		size_t w = cf_space_len(in, k->len, p);
		if (w > 0 && in[p] != '\r')
			break;
		if (in[p] == '\r') {
			p++;
			continue;
		}
		if (in[p] == '#')
			comment = true;
		if (!comment)
			k->text[k->tn++] = in[p];
		*end = ++p;
	}
	k->i = p;
}

int cf_lex(const char *in, size_t len, struct cf_lexed *lx, struct hg_error *err)
{
	size_t cap_t = 0, cap_c = 0;
	struct cursor k = {.in = in, .len = len, .line = 1};

	*lx = (struct cf_lexed){.in = in, .len = len};
	/* NUL is text to CoreDNS, but a C string of the output would end there: whatever
	 * reads it next (a shell variable, kubectl's --from-file) may cut it. */
	const char *nul = memchr(in, '\0', len);
	if (nul)
		return hg_error_set(err, HG_CNI_DECODE, "line %u: a NUL byte (refused anywhere in a Corefile)",
				    line_of(in, nul - in));
	/* Every token's text is at most its bytes: one buffer of the input's size holds all. */
	lx->text = k.text = malloc(len + 1);
	if (!lx->text)
		return hg_error_oom(err);
	/* CoreDNS drops a byte order mark at the start. */
	if (len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0)
		k.i = 3;
	while (k.i < len) {
		size_t w, i = k.i;
		if (in[i] == '\n') {
			k.line++;
			k.i++;
			continue;
		}
		if ((w = cf_space_len(in, len, i)) > 0) {
			k.i += w;
			continue;
		}
		if (in[i] == '#') {
			const char *nl = memchr(in + i, '\n', len - i);
			size_t e = nl ? (size_t) (nl - in) : len;
			if (cf_grow((void **) &lx->comments, &cap_c, lx->n_comments, sizeof(*lx->comments)) < 0)
				return hg_error_oom(err);
			lx->comments[lx->n_comments++] = (struct cf_comment){i, e > i && in[e - 1] == '\r' ? e - 1 : e};
			k.i = e;
			continue;
		}
		if (cf_grow((void **) &lx->toks, &cap_t, lx->n_toks, sizeof(*lx->toks)) < 0)
			return hg_error_oom(err);
		struct cf_tok t = {.start = i, .line = k.line, .text = k.tn};
		if (in[i] == '"') {
			t.quoted = true;
			if (lex_quoted(&k, err) < 0)
				return -1;
			t.end = k.i;
		} else {
			lex_word(&k, &t.end);
		}
		t.text_len = k.tn - t.text;
		t.last = k.line;
		lx->toks[lx->n_toks++] = t;
	}
	lx->text[k.tn] = '\0';
	return 0;
}

bool cf_tok_is(const struct cf_lexed *lx, size_t i, const char *word)
{
	size_t n;
	const char *t = cf_text(lx, i, &n);
	return n == strlen(word) && memcmp(t, word, n) == 0;
}

/* caddyfile's replaceEnvVars: "{$" ... "}" and "{%" ... "%}" with a name between. */
static bool has_ref(const char *t, size_t n, const char *open, const char *close)
{
	const char *s = memmem(t, n, open, 2);
	if (!s)
		return false;
	const char *e = memmem(s, t + n - s, close, strlen(close));
	return e && e > s + 2;
}

bool cf_tok_has_env(const struct cf_lexed *lx, size_t i)
{
	size_t n;
	const char *t = cf_text(lx, i, &n);
	return has_ref(t, n, "{$", "}") || has_ref(t, n, "{%", "%}");
}

size_t cf_tok_at(const struct cf_lexed *lx, size_t off)
{
	size_t lo = 0, hi = lx->n_toks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lx->toks[mid].start < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct cf_comment *cf_comment_after(const struct cf_lexed *lx, size_t off)
{
	size_t lo = 0, hi = lx->n_comments;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lx->comments[mid].start < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < lx->n_comments ? &lx->comments[lo] : NULL;
}
