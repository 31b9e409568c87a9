/*
 * config_schema.h - every configuration key dmf-worker knows.
 *
 * One table (config_schema.c) lists each key as a dotted pattern in which
 * `*` stands for one free name (a source name, a storage key name, an
 * inject key, an exit code).  Each entry has a type, flags (secret, our
 * extension), the default as text and a one-line description.  Maps that
 * only hold listed keys need no entry of their own: every proper prefix of
 * a pattern is a known map.
 *
 * The table is used to type-check the file at load, to warn about unknown
 * keys (with a suggestion), to resolve environment variable names, to hide
 * secrets and to write docs/configuration.md.  The table is constant; all
 * functions here may be called from any thread.
 */
#ifndef DMF_CORE_CONFIG_SCHEMA_H
#define DMF_CORE_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum cfg_type {
	CFG_T_STRING = 0,
	CFG_T_INT, /* decimal integer */
	CFG_T_BOOL, /* true/false/yes/no/on/off, any case */
	CFG_T_DURATION, /* see cfg_parse_duration_ms(); plain number = ms */
	CFG_T_STRV, /* list of scalars, or one comma-separated scalar */
	CFG_T_INT_LIST, /* like CFG_T_STRV, every item an integer */
	CFG_T_MAP, /* a map (or null); its keys come from the table */
	CFG_T_LIST, /* a list of anything */
	CFG_T_ANY, /* anything; nothing below it is checked */
	CFG_T_COMMAND, /* a command definition (name, options, flags,
			 * arguments, sub-command); null allowed */
	CFG_T_ALIAS /* another spelling of the pattern in `def` */
};

#define CFG_SECRET 0x1u /* value printed as <hidden> */
#define CFG_OURS 0x2u /* an extension of ours, not in the spec */
#define CFG_LEGACY 0x4u /* accepted for compatibility */
#define CFG_UNUSED 0x8u /* accepted so that spec files load; no effect */

struct cfg_schema_entry {
	const char *pattern; /* "dmf.doveadm.source.*.retry.max" */
	enum cfg_type type;
	unsigned flags; /* CFG_SECRET | CFG_OURS | ... */
	const char *def; /* default as text, NULL when none; for
			      * CFG_T_ALIAS the pattern it stands for */
	const char *choices; /* "a|b|c" (case-insensitive) or NULL */
	const char *desc; /* one line */
};

enum cfg_match_kind {
	CFG_MATCH_NONE = 0, /* unknown key */
	CFG_MATCH_KEY, /* `entry` is the key itself */
	CFG_MATCH_INNER, /* a map holding known keys (no own entry) */
	CFG_MATCH_INSIDE /* below an `any` or `command` entry (`entry`) */
};

struct cfg_schema_match {
	enum cfg_match_kind kind;
	const struct cfg_schema_entry *entry; /* NULL for NONE and INNER */
};

/* The whole table (aliases included) and its length. */
const struct cfg_schema_entry *config_schema_entries(size_t *n_r);

/*
 * Classify the key path `segs[0..n-1]` (the keys from the root, which may
 * themselves hold dots, e.g. logger.levels."io.micronaut").  Aliases are
 * resolved first (`dmf.doveadm.sources.X` is `dmf.doveadm.source.X`).
 * When a path matches several patterns the one with the most literal
 * segments wins.  Returns m_r->kind.
 */
enum cfg_match_kind config_schema_match(const char *const *segs, size_t n,
					struct cfg_schema_match *m_r);

/* When the last segment of segs[0..n-1] is an alias spelling (after the
 * aliases of the earlier segments are resolved), the canonical spelling of
 * that segment; else NULL. */
const char *config_schema_canonical_key(const char *const *segs, size_t n);

/* Same for a dotted path ("dmf.worker.jobs.max"); NULL when the key is not
 * a CFG_MATCH_KEY or CFG_MATCH_INSIDE. */
const struct cfg_schema_entry *config_schema_lookup(const char *path);
/* True when the key (or the key containing it) is marked secret, or its
 * last segment is a secret name (lib/secret.h: password, passwd, secret,
 * token, credential, or ending in "key"). */
bool config_schema_is_secret(const char *path);
bool config_schema_is_secret_segs(const char *const *segs, size_t n);
/* True when segs[n-1] stands where the schema takes any name (`*`: a source
 * name, a datasource name), so it is the operator's label, not a key
 * name. */
bool config_schema_is_label(const char *const *segs, size_t n);

/* "string", "int", "bool", "duration", ... */
const char *config_schema_type_name(enum cfg_type type);

/*
 * Call `cb` once for each segment that may follow `segs[0..n-1]` in some
 * pattern (aliases included, so "sources" is offered after dmf.doveadm);
 * a free name is offered as "*".  For resolving environment variables.
 */
void config_schema_next_segments(const char *const *segs, size_t n,
				 void (*cb)(const char *seg, void *ctx),
				 void *ctx);

/*
 * The known key closest to the unknown key `segs[0..n-1]`: a sibling whose
 * name is a small edit away, else the same name elsewhere in the tree, else
 * the closest full path.  Writes the dotted key (free names filled in from
 * `segs`) into buf and returns true, or returns false.
 */
bool config_schema_suggest(const char *const *segs, size_t n, char *buf,
			   size_t size);

/* The table as Markdown (the key reference of docs/configuration.md):
 * key, type, default, environment variable, description. */
void config_schema_print_markdown(FILE *out);

/* The environment variable of `pattern` (`*` written <NAME>) into buf. */
void config_schema_env_name(const char *pattern, char *buf, size_t size);

/* The table as man(7) text (the KEYS section of dmf-worker.yml(5)): per
 * key `.TP`, `.B key`, a line with type, default and environment variable,
 * and the description. */
void config_schema_print_man(FILE *out);

/* Damerau-Levenshtein (optimal string alignment) distance. */
size_t config_schema_distance(const char *a, const char *b);

#endif /* DMF_CORE_CONFIG_SCHEMA_H */
