/* host_db.c - the plugins' narrow view of the Migration Database. */
#include "dmf-build.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_lookup.h"
#include "host/host_db.h"
#include "lib/job.h"

static pthread_rwlock_t pool_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct db_pool *db_pool; /* set by host_db_set_pool() */

void host_db_set_pool(struct db_pool *pool)
{
	pthread_rwlock_wrlock(&pool_lock);
	db_pool = pool;
	pthread_rwlock_unlock(&pool_lock);
}

/* What a plugin sees of a database error (sdk/include/dmf/host.h). */
static int plugin_error(int ret)
{
	switch (ret) {
	case 0:
	case -ENOENT:
	case -ENOMEM:
	case -EINVAL:
		return ret;
	case -ENOTCONN:
	case -ETIMEDOUT:
	case -EAGAIN:
		return -ENOTCONN;
	default:
		return -EIO;
	}
}

struct sourcehost_box {
	struct dmf_sourcehost pub;
	struct db_sourcehost row;
};

static int hdb_sourcehost(const char *name, struct dmf_sourcehost **sh_r)
{
	struct sourcehost_box *b;
	int ret;

	if (name == NULL || sh_r == NULL)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return -ENOMEM;
	pthread_rwlock_rdlock(&pool_lock);
	ret = db_pool == NULL ? -ENOTCONN :
				db_sourcehost_get(db_pool, name, &b->row);
	pthread_rwlock_unlock(&pool_lock);
	if (ret < 0) {
		free(b);
		return plugin_error(ret);
	}
	b->pub.name = b->row.name;
	b->pub.host = b->row.host;
	b->pub.port = b->row.port;
	b->pub.ssl = b->row.ssl;
	b->pub.commands = b->row.commands;
	*sh_r = &b->pub;
	return 0;
}

static void hdb_sourcehost_free(struct dmf_sourcehost **sh)
{
	struct sourcehost_box *b;

	if (sh == NULL || *sh == NULL)
		return;
	b = (struct sourcehost_box *)*sh;
	*sh = NULL;
	db_sourcehost_clear(&b->row);
	free(b);
}

static int hdb_job_field(const struct dmf_job *job, const char *field,
			 char **value_r)
{
	int ret;

	if (job == NULL || field == NULL || value_r == NULL ||
	    !db_job_field_known(field))
		return -EINVAL;
	if (job->db_id <= 0)
		return -ENOENT;
	pthread_rwlock_rdlock(&pool_lock);
	ret = db_pool == NULL ?
		      -ENOTCONN :
		      db_job_field(db_pool, job->db_id, field, value_r);
	pthread_rwlock_unlock(&pool_lock);
	return plugin_error(ret);
}

static void hdb_value_free(char **value)
{
	if (value != NULL) {
		free(*value);
		*value = NULL;
	}
}

static const struct dmf_host_db table = {
	.size = sizeof(struct dmf_host_db),
	.sourcehost = hdb_sourcehost,
	.sourcehost_free = hdb_sourcehost_free,
	.job_field = hdb_job_field,
	.value_free = hdb_value_free,
};

const struct dmf_host_db *host_db_table(void)
{
	return &table;
}
