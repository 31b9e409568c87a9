/*
 * fuzz_job_row.c - the job row decoder: a claimed row of the Migration
 * Database (every column the claim reads, as libmariadb hands them over:
 * bytes with a length, NUL bytes allowed) decoded by db_job_row_fill() and
 * turned into a job by the database poller's adapter (properties, derived
 * names, sourcehost commands, password unwrap).  The input is the cells
 * separated by 0x1f; a cell that is the single byte 0x1e is SQL NULL.
 */
#include "dmf-build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fuzz_keyring.h"
#include "db/db.h"
#include "db/db_jobs.h"
#include "lib/config.h"
#include "lib/job.h"
#include "worker/poller_database.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *names[] = {
	"id",	      "attempts",    "target",	     "source",
	"uid",	      "ruid",	     "email",	     "sourcehost",
	"imapc_ssl",  "imapoptions", "exclude",	     "phase",
	"sourceport", "priority",    "password_key", "submitted",
	"password",   "password_iv", "source_known", "sourcehost_known",
	"sh_host",    "sh_ssl",	     "sh_commands",  "sh_port",
};
#define N_COLS (sizeof(names) / sizeof(names[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cells[N_COLS] = { 0 };
	size_t lens[N_COLS] = { 0 };
	struct db_rows rows = { .n_rows = 1,
				.n_cols = N_COLS,
				.names = names,
				.cells = cells,
				.lens = lens };
	struct db_job_row r = { 0 };
	struct dmf_job *job;
	char *problem = NULL;
	size_t col = 0, start = 0;

	struct crypto_keyring *ring = fuzz_keyring();

	for (size_t i = 0; i <= size && col < N_COLS; i++) {
		if (i < size && data[i] != 0x1f)
			continue;
		if (!(i - start == 1 && data[start] == 0x1e)) {
			cells[col] = malloc(i - start + 1);
			if (cells[col] == NULL)
				goto out;
			memcpy(cells[col], data + start, i - start);
			cells[col][i - start] = '\0';
			lens[col] = i - start;
		}
		col++;
		start = i + 1;
	}
	/* the primary key is never NULL */
	if (cells[0] == NULL) {
		cells[0] = strdup("1");
		lens[0] = 1;
	}
	if (db_job_row_fill(&rows, 0, &r) == 0) {
		job = pdb_row_to_job(ring, &r, &problem);
		job_free(&job);
		free(problem);
	}
	db_job_row_clear(&r);
out:
	for (size_t i = 0; i < N_COLS; i++)
		free(cells[i]);
	return 0;
}
