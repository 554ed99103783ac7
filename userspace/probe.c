// SPDX-License-Identifier: GPL-2.0
/*
 * probe.c - before create-md overwrites a device: is there anything on it
 * that libblkid recognises (file system, partition table, RAID member,
 * swap, encrypted volume ...)?  rblk's own metadata is not among them: the
 * kernel finds that (MD_CREATE answers EEXIST).
 */
#include <errno.h>
#include <string.h>
#include <blkid.h>

#include "rblkadm.h"

/* "an ext4", "a dos": the article by the first letter as it is spoken. */
static const char *article(const char *word)
{
	return strchr("aeiouxAEIOUX", word[0]) && word[0] ? "an" : "a";
}

int probe_signature(const char *path, char *what, size_t len)
{
	const char *type = NULL, *usage = NULL, *pttype = NULL;
	blkid_probe pr;
	int r;

	errno = 0;
	pr = blkid_new_probe_from_filename(path);
	if (!pr) {
		snprintf(what, len, "%s", strerror(errno ? errno : EIO));
		return -1;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	errno = 0;
	r = blkid_do_safeprobe(pr);
	if (r == 1) {
		blkid_free_probe(pr);
		return 0;
	}
	if (r == -2) {
		/* several signatures that contradict each other */
		snprintf(what, len, "several signatures");
		blkid_free_probe(pr);
		return 1;
	}
	if (r < 0) {
		snprintf(what, len, "%s", strerror(errno ? errno : EIO));
		blkid_free_probe(pr);
		return -1;
	}
	blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL);
	blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
	blkid_probe_lookup_value(pr, "USAGE", &usage, NULL);
	if (type && usage && !strcmp(usage, "filesystem"))
		snprintf(what, len, "%s %s filesystem", article(type), type);
	else if (type && usage && !strcmp(usage, "raid"))
		snprintf(what, len, "%s %s RAID member", article(type), type);
	else if (type && usage && !strcmp(usage, "crypto"))
		snprintf(what, len, "%s %s encrypted volume", article(type), type);
	else if (type)
		snprintf(what, len, "%s %s signature", article(type), type);
	else if (pttype)
		snprintf(what, len, "%s %s partition table", article(pttype), pttype);
	else
		snprintf(what, len, "a signature");
	blkid_free_probe(pr);
	return 1;
}
