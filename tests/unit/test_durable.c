/*
 * test_durable.c - the pure parts of durability: job: the filesystem
 * table (which f_types are trusted), the test-hook parsers, fs_sync_paths()
 * on real paths (nearest existing parent, one syncfs() per st_dev,
 * DMF_FS_STAT_ONLY, the injected f_type and syncfs() error), the
 * local-mail-store check, and the `durability` key.
 */
#include "dmf-build.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "doveadm_conf.h"
#include "durable_policy.h"
#include "fs/fs_sync.h"
#include "host/host.h"
#include "lib/config.h"

static void test_types(void)
{
	static const struct {
		unsigned long long type;
		const char *name;
		bool trusted;
	} t[] = {
		{ 0xEF53, "ext2/ext3/ext4", true },
		{ 0x58465342, "xfs", true },
		{ 0x9123683E, "btrfs", true },
		{ 0x6969, "nfs", false },
		{ 0x65735546, "fuse", false },
		{ 0xFF534D42, "cifs", false },
		{ 0xFE534D42, "smb2", false },
		{ 0x01021997, "9p", false },
		{ 0x00C36400, "ceph", false },
		{ 0x12345678, "unknown", false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = fs_type_name(t[i].type);

		/* (the name is not in the message: gcc 12 then warns of a
		 * NULL %s argument it imagines in the unrolled loop) */
		is_str(got, t[i].name, "f_type 0x%llx has its name", t[i].type);
		ok(fs_type_trusted(t[i].type) == t[i].trusted,
		   "0x%llx %s trusted", t[i].type,
		   t[i].trusted ? "is" : "is not");
	}
}

static void test_hooks(void)
{
	unsigned long long ty = 0;
	int e = 0;

	ok(fs_parse_type("0x6969", &ty) == 0 && ty == 0x6969, "type 0x6969");
	ok(fs_parse_type("26985", &ty) == 0 && ty == 26985, "type decimal");
	ok(fs_parse_type("nfs", &ty) == -EINVAL, "type: a name is refused");
	ok(fs_parse_type("-1", &ty) == -EINVAL, "type: negative refused");
	ok(fs_parse_type("0x1ffffffff", &ty) == -EINVAL, "type: > 32 bits");
	ok(fs_parse_type("", &ty) == -ENOENT, "type: empty = no hook");
	ok(fs_parse_type(NULL, &ty) == -ENOENT, "type: unset = no hook");
	ok(fs_parse_errno("EIO", &e) == 0 && e == EIO, "errno EIO");
	ok(fs_parse_errno("28", &e) == 0 && e == 28, "errno by number");
	ok(fs_parse_errno("EWHAT", &e) == -EINVAL, "errno: unknown name");
	ok(fs_parse_errno("0", &e) == -EINVAL, "errno: 0 refused");
	ok(fs_parse_errno(NULL, &e) == -ENOENT, "errno: unset = no hook");
}

static void test_paths(void)
{
	char dir[] = "/tmp/dmf-test-durable.XXXXXX", a[256], missing[256];
	struct dmf_fs_sync_result r[3];
	const char *paths[3], *err = NULL;
	char buf[1024];

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(a, sizeof(a), "%s/Mail", dir);
	mkdir(a, 0700);
	snprintf(missing, sizeof(missing), "%s/Mail/not/yet", dir);
	paths[0] = a;
	paths[1] = missing;
	paths[2] = dir;
	unsetenv("DMF_TEST_FS_TYPE");
	unsetenv("DMF_TEST_SYNCFS_ERROR");
	ok(fs_sync_paths(paths, 3, DMF_FS_STAT_ONLY, r, buf, sizeof(buf),
			 &err) == 0,
	   "stat only: 0");
	is_str(r[1].used_path, a,
	       "a missing path stands for its nearest "
	       "existing parent");
	ok(r[0].dev == r[1].dev && r[1].dev == r[2].dev, "same st_dev");
	ok(!r[0].synced && !r[1].synced && !r[2].synced,
	   "stat only: nothing synced");
	ok(r[0].fs_type != 0 && r[0].fs_name != NULL, "f_type read (%s)",
	   r[0].fs_name);

	ok(fs_sync_paths(paths, 3, 0, r, buf, sizeof(buf), &err) == 0,
	   "sync: 0");
	ok(r[0].synced && !r[1].synced && !r[2].synced,
	   "one syncfs() for the one filesystem");
	ok(r[0].error == 0 && r[1].error == 0, "no errors");

	setenv("DMF_TEST_FS_TYPE", "0x6969", 1);
	ok(fs_sync_paths(paths, 1, DMF_FS_STAT_ONLY, r, buf, sizeof(buf),
			 &err) == 0 &&
		   r[0].fs_type == 0x6969 && !r[0].trusted &&
		   strcmp(r[0].fs_name, "nfs") == 0,
	   "DMF_TEST_FS_TYPE injects NFS: not trusted");
	unsetenv("DMF_TEST_FS_TYPE");

	setenv("DMF_TEST_SYNCFS_ERROR", "EIO", 1);
	ok(fs_sync_paths(paths, 3, 0, r, buf, sizeof(buf), &err) == -EIO,
	   "DMF_TEST_SYNCFS_ERROR=EIO: -EIO");
	ok(r[0].error == -EIO && strcmp(r[0].failed_call, "syncfs") == 0,
	   "  the first path: syncfs EIO");
	ok(r[2].error == -EIO && !r[2].synced,
	   "  a path of the same filesystem shares the outcome");
	unsetenv("DMF_TEST_SYNCFS_ERROR");

	paths[0] = "relative/path";
	ok(fs_sync_paths(paths, 1, 0, r, buf, sizeof(buf), &err) == -EINVAL,
	   "a relative path: -EINVAL");
	ok(fs_sync_paths(paths, 0, 0, r, buf, sizeof(buf), &err) == -EINVAL,
	   "no paths: -EINVAL");
	paths[0] = a;
	ok(fs_sync_paths(paths, 1, 0, r, buf, 4, &err) == -EINVAL,
	   "buffer too small: -EINVAL");
	rmdir(a);
	rmdir(dir);
}

static void test_store(void)
{
	char why[200];

	ok(durable_store_local("maildir:~/Mail", "", why, sizeof(why)),
	   "maildir: local");
	ok(durable_store_local("mdbox:/srv/%u", "quota zlib", why, sizeof(why)),
	   "mdbox with plugins: local");
	ok(durable_store_local("", NULL, why, sizeof(why)),
	   "no mail_location (autodetect): local");
	ok(durable_store_local("/var/mail/%u", NULL, why, sizeof(why)),
	   "bare path: local");
	ok(!durable_store_local("obox:%u:INDEX=~/idx", "obox", why,
				sizeof(why)),
	   "obox: not local");
	like(why, "obox", "  the reason names obox (%s)", why);
	ok(!durable_store_local("maildir:~/Mail", "quota obox fts", why,
				sizeof(why)),
	   "obox in mail_plugins: not local");
	like(why, "mail_plugins has obox", "  the reason (%s)", why);
	ok(!durable_store_local("imapc:", NULL, why, sizeof(why)),
	   "imapc: not a local store");
	like(why, "imapc:", "  the reason (%s)", why);
}

static void test_key(void)
{
	static const char yaml[] = "dmf:\n  doveadm:\n    source:\n"
				   "      A:\n        durability: dovecot\n"
				   "      B:\n        durability: JOB\n";
	struct doveadm_source_conf *c = NULL;
	struct config *cfg = NULL;
	const struct dmf_host_config *hc;
	char *err = NULL;

	if (config_load_string(yaml, "test.yml", NULL, &cfg, &err) < 0) {
		ok(0, "load: %s", err != NULL ? err : "?");
		free(err);
		return;
	}
	if (host_init(cfg, "doveadm", &err) < 0) {
		ok(0, "host_init: %s", err != NULL ? err : "?");
		free(err);
		config_free(&cfg);
		return;
	}
	hc = host_get()->config;
	ok(doveadm_conf_load(hc, "A", &c, &err) == 0 &&
		   c->durability == DOVEADM_DURABLE_DOVECOT,
	   "durability: dovecot");
	doveadm_conf_free(&c);
	ok(doveadm_conf_load(hc, "B", &c, &err) == 0 &&
		   c->durability == DOVEADM_DURABLE_JOB,
	   "durability: JOB (case-insensitive)");
	doveadm_conf_free(&c);
	host_deinit();
	config_free(&cfg);
}

int main(void)
{
	test_types();
	test_hooks();
	test_paths();
	test_store();
	test_key();
	return done_testing();
}
