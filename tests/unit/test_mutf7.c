/*
 * test_mutf7.c - modified UTF-7 of IMAP mailbox names (core/lib/mutf7.c,
 * RFC 3501 section 5.1.3): the RFC's examples, the folder names the
 * test rig creates, characters outside the BMP, and what must be refused.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"
#include "lib/mutf7.h"

static const struct {
	const char *utf8, *mutf7, *name;
} pairs[] = {
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	  "RFC 3501: ~peter/mail/台北/日本語" },
	{ "&", "&-", "RFC 3501: & is &-" },
	{ "INBOX", "INBOX", "plain ASCII stays" },
	{ "", "", "empty" },
	{ "Sent Items", "Sent Items", "a space is printable" },
	{ "Tom & Jerry", "Tom &- Jerry", "& inside a name" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe", "Entwürfe" },
	{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "&ZeVnLIqe-", "日本語" },
	{ "\xc3\x9cn\xc3\xaf"
	  "c\xc3\xb8"
	  "d\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e",
	  "&ANw-n&AO8-c&APg-d&AOk-/&ZeVnLIqe-", "Ünïcødé/日本語" },
	{ "\xf0\x9f\x93\xa7 Post", "&2D3c5w- Post",
	  "outside the BMP: a surrogate pair" },
	{ "\xc3\xbc&\xc3\xbc", "&APw-&-&APw-", "ü&ü: runs around &-" },
	{ "a\x01"
	  "b",
	  "a&AAE-b", "a control character is encoded" },
	{ "lost+found-Entw\xc3\xbcrfe", "lost+found-Entw&APw-rfe",
	  "+ and - outside a run stay" },
};

static const struct {
	const char *in, *name;
} bad_utf8[] = {
	{ "\xc3", "truncated sequence" },
	{ "a\x80"
	  "b",
	  "lone continuation byte" },
	{ "\xc0\xaf", "overlong /" },
	{ "\xe0\x80\xaf", "overlong 3-byte" },
	{ "\xed\xa0\x80", "UTF-8 encoded surrogate" },
	{ "\xf4\x90\x80\x80", "above U+10FFFF" },
	{ "\xff", "0xff" },
};

static const struct {
	const char *in, *name;
} bad_mutf7[] = {
	{ "&ZeVnLIqe", "unterminated run" },
	{ "&Ze/nLIqe-", "'/' is not in the alphabet (',' is)" },
	{ "&AGE-", "printable ASCII inside a run" },
	{ "&2D0-", "a lone high surrogate" },
	{ "&3DM-", "a lone low surrogate" },
	{ "&APx-", "leftover bits not zero" },
	{ "&AP-", "an odd number of bytes" },
	{ "Entw\xc3\xbcrfe", "raw 8-bit bytes" },
	{ "a\tb", "a control character" },
};

int main(void)
{
	char *out;
	int r;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		out = NULL;
		r = mutf7_encode(pairs[i].utf8, &out);
		is_int(r, 0, "encode %s: 0", pairs[i].name);
		is_str(out, pairs[i].mutf7, "encode %s", pairs[i].name);
		free(out);
		out = NULL;
		r = mutf7_decode(pairs[i].mutf7, &out);
		is_int(r, 0, "decode %s: 0", pairs[i].name);
		is_str(out, pairs[i].utf8, "decode %s", pairs[i].name);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		out = (char *)"untouched";
		is_int(mutf7_encode(bad_utf8[i].in, &out), -EILSEQ,
		       "encode refuses %s", bad_utf8[i].name);
		is_str(out, "untouched", "  *out_r not written");
	}
	for (size_t i = 0; i < sizeof(bad_mutf7) / sizeof(bad_mutf7[0]); i++) {
		out = (char *)"untouched";
		is_int(mutf7_decode(bad_mutf7[i].in, &out), -EILSEQ,
		       "decode refuses %s", bad_mutf7[i].name);
		is_str(out, "untouched", "  *out_r not written");
	}
	/* every BMP character (not a surrogate) and a few above: round trip */
	{
		char in[8], *back = NULL;
		int fails = 0;

		for (unsigned cp = 1; cp < 0x110000;
		     cp += cp < 0x10000 ? 1 : 977) {
			size_t n;

			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			if (cp < 0x80) {
				in[0] = (char)cp, n = 1;
			} else if (cp < 0x800) {
				in[0] = (char)(0xc0 | (cp >> 6));
				in[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
			} else if (cp < 0x10000) {
				in[0] = (char)(0xe0 | (cp >> 12));
				in[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
				in[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
			} else {
				in[0] = (char)(0xf0 | (cp >> 18));
				in[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
				in[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
				in[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
			}
			in[n] = '\0';
			out = back = NULL;
			if (mutf7_encode(in, &out) != 0 ||
			    strspn(out, " !\"#$%&'()*+,-./0123456789:;<=>?@"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
					"abcdefghijklmnopqrstuvwxyz{|}~") !=
				    strlen(out) ||
			    mutf7_decode(out, &back) != 0 ||
			    strcmp(back, in) != 0) {
				if (fails++ < 3)
					diag("U+%04X: '%s'", cp,
					     out != NULL ? out : "(null)");
			}
			free(out);
			free(back);
		}
		is_int(fails, 0,
		       "every character round-trips and encodes to "
		       "printable ASCII");
	}
	return done_testing();
}
