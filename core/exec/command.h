/*
 * command.h - the configured command format (spec 3.13, docs/commands.md):
 * a definition node becomes the template argv (placeholders still in it),
 * and argv becomes a one-line display form with passwords `<hidden>`.
 *
 * Definition:
 *   name: doveadm                  # argv[0], one element
 *   flags: -v | [-v, -D]           # a string split on blanks, or a list
 *   options:                       # each: name, then value (if any)
 *     - { name: -o, value: "imapc_user=%{mdb:ruid}" }
 *   arguments: "imapc:" | [a, b]   # a string is ONE element
 *   sub-command:                   # same keys; its name splits on blanks
 *     name: mailbox status
 *
 * argv order: name, flags, options, arguments, then the sub-command's
 * name words, flags, options, arguments (and its own sub-command).
 */
#ifndef DMF_CORE_COMMAND_H
#define DMF_CORE_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/config.h"

struct command_arg {
	char *text; /* the template text of this element */
	const char *option; /* option name when this is an option's value
				* (points into the definition), else NULL */
};

struct command_template {
	struct command_arg *args;
	size_t n;
};

/*
 * Turn the definition `def` into a template.  Errors (-EINVAL, -ENOMEM)
 * set *error_r to an allocated message naming the file, line, column and
 * key; the caller frees it.
 */
int command_parse(const struct cfg_node *def, struct command_template **tpl_r,
		  char **error_r);
void command_template_free(struct command_template **tpl);

/*
 * True when an option name or a NAME in "NAME=value" names a secret: the
 * one rule of lib/secret.h's secret_name() (password, passwd, secret,
 * token, credential, or a name ending in "key"; any case).
 */
bool command_name_is_secret(const char *name, size_t len);

/*
 * The display form of one element that is shown after redaction by name:
 * the value of a secret option becomes `<hidden>`, and "NAME=value" with a
 * secret NAME becomes "NAME=<hidden>".  Returns an allocated string or
 * NULL on out of memory.
 */
char *command_redact_element(const char *option, const char *text);

/*
 * Shell-quote one element for display: safe text as is, other text in
 * '...', and text with control bytes as $'...' with \n \t \xNN escapes, so
 * the result is always one line.  Allocated; NULL on out of memory.
 */
char *command_quote(const char *text);

/* Join already redacted elements, each quoted, with single spaces.
 * Allocated; NULL on out of memory. */
char *command_join(const char *const *elements, size_t n);

#endif /* DMF_CORE_COMMAND_H */
