/*
 * mutf7.h - IMAP mailbox names in modified UTF-7 (RFC 3501 section
 * 5.1.3): what an IMAP client must send for a name that is not plain
 * printable ASCII, e.g. "Entwürfe" -> "Entw&APw-rfe", "&" -> "&-".
 * Pure functions, any thread.
 */
#ifndef DMF_CORE_LIB_MUTF7_H
#define DMF_CORE_LIB_MUTF7_H

/*
 * The modified UTF-7 form of the UTF-8 string `utf8`: printable ASCII
 * (0x20-0x7e) stays itself except '&', which becomes "&-"; every run of
 * other characters becomes '&', the base64 (alphabet A-Z a-z 0-9 + ,,
 * no padding) of its UTF-16BE, and '-'.  0 with *out_r allocated
 * (free()); -EILSEQ when `utf8` is not valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid); -ENOMEM.
 * *out_r is not written on failure.
 */
int mutf7_encode(const char *utf8, char **out_r);

/*
 * The UTF-8 form of the modified UTF-7 name `mutf7` (the inverse of
 * mutf7_encode()).  0 with *out_r allocated (free()); -EILSEQ when it is
 * not modified UTF-7: a byte outside 0x20-0x7e, an unterminated or
 * malformed '&...-' run (a character outside the base64 alphabet,
 * leftover bits that are not zero, an odd number of bytes, a lone
 * surrogate, a run that encodes printable ASCII); -ENOMEM.  *out_r is
 * not written on failure.
 */
int mutf7_decode(const char *mutf7, char **out_r);

#endif /* DMF_CORE_LIB_MUTF7_H */
