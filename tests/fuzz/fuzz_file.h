/* fuzz_file.h - the fuzz input as a file, for the targets whose code
 * under test reads a path (keystores): /tmp/dmf-fuzz-NAME.PID. */
#ifndef DMF_FUZZ_FILE_H
#define DMF_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Write data to the target's file; its path (static), or NULL when it
 * cannot be written.  The caller unlinks it after the run. */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);

#endif
