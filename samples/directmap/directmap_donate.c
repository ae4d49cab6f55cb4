// SPDX-License-Identifier: GPL-2.0
/*
 * A driver that donates memory to a hypervisor through directmap.
 *
 * pKVM, Gunyah, TDX and SEV-SNP drivers give pages to a hypervisor or to
 * firmware, which must never be reached through the kernel's direct map
 * afterwards: not by a stray access, not by load_unaligned_zeropad() from
 * the page before.  Such a driver gets its pages from directmap as an
 * owner: they come absent from the direct map, from 2M regions that left
 * it whole, and unzeroed (the firmware clears them).  Pages it shares
 * with the hypervisor in place come back into the direct map at 4K, and
 * it never calls set_direct_map_*() itself.
 *
 * The hypervisor here is pretend: donating records the page.  Commands,
 * written to /sys/kernel/debug/directmap_donate/pages:
 *
 *	donate N [NODE]	get N pages (from NODE) and give them to the hypervisor
 *	share N		share N donated pages back with the kernel
 *	unshare N	make N shared pages private again
 *	reclaim N	take N pages back from the hypervisor and free them
 *
 * Reading the file gives "donated D shared S".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/directmap.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

/* Pages the pretend hypervisor holds, by pfn; marked while shared */
#define DONATE_SHARED	XA_MARK_1

static struct directmap_owner donate_owner;
static DEFINE_XARRAY(donated);
static DEFINE_MUTEX(donate_lock);
static unsigned long nr_donated, nr_shared;
static struct dentry *donate_dir;

/* Stands for the hypercall that hands @page to the hypervisor */
static int hyp_donate(struct page *page)
{
	return xa_err(xa_store(&donated, page_to_pfn(page), page, GFP_KERNEL));
}

/* ... and for the one that takes it back */
static void hyp_reclaim(struct page *page)
{
	xa_erase(&donated, page_to_pfn(page));
}

static int donate(unsigned long n, int nid)
{
	struct page *page;
	int err;

	while (n--) {
		/* no zeroing: the hypervisor clears what it is given */
		page = directmap_owner_alloc(&donate_owner, nid, 0,
					     DIRECTMAP_NOZERO);
		if (!page)
			return -ENOMEM;
		err = hyp_donate(page);
		if (err) {
			directmap_owner_free(&donate_owner, page, 0);
			return err;
		}
		nr_donated++;
	}
	return 0;
}

/* Share private pages (@share) or make shared ones private again */
static int donate_share(unsigned long n, bool share)
{
	unsigned long index;
	struct page *page;
	int err = 0;

	xa_for_each(&donated, index, page) {
		if (!n)
			break;
		if (xa_get_mark(&donated, index, DONATE_SHARED) == share)
			continue;
		if (share) {
			/* may fail (a split, a poisoned page): nothing changed */
			err = directmap_share(&donate_owner, page, 1);
			if (err)
				break;
			xa_set_mark(&donated, index, DONATE_SHARED);
			nr_shared++;
		} else {
			/* cannot fail for a page this owner shared */
			directmap_unshare(&donate_owner, page, 1);
			xa_clear_mark(&donated, index, DONATE_SHARED);
			nr_shared--;
		}
		n--;
	}
	return err;
}

static void reclaim(unsigned long n)
{
	unsigned long index;
	struct page *page;

	xa_for_each(&donated, index, page) {
		if (!n--)
			break;
		if (xa_get_mark(&donated, index, DONATE_SHARED))
			nr_shared--;
		hyp_reclaim(page);
		/* shared or not: directmap takes it out and wipes it */
		directmap_owner_free(&donate_owner, page, 0);
		nr_donated--;
	}
}

static ssize_t donate_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	char buf[32], cmd[16];
	int err = 0, nid = NUMA_NO_NODE;
	unsigned long n;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%15s %lu %d", cmd, &n, &nid) < 2)
		return -EINVAL;
	/* device memory sits on a node of its own: let the driver say which */
	if (nid != NUMA_NO_NODE && (nid < 0 || nid >= MAX_NUMNODES ||
				    !node_online(nid)))
		return -EINVAL;

	mutex_lock(&donate_lock);
	if (!strcmp(cmd, "donate"))
		err = donate(n, nid);
	else if (!strcmp(cmd, "share"))
		err = donate_share(n, true);
	else if (!strcmp(cmd, "unshare"))
		err = donate_share(n, false);
	else if (!strcmp(cmd, "reclaim"))
		reclaim(n);
	else
		err = -EINVAL;
	mutex_unlock(&donate_lock);
	return err ? err : len;
}

static ssize_t donate_read(struct file *file, char __user *ubuf, size_t len,
			   loff_t *ppos)
{
	char buf[64];
	int n;

	mutex_lock(&donate_lock);
	n = scnprintf(buf, sizeof(buf), "donated %lu shared %lu\n", nr_donated,
		      nr_shared);
	mutex_unlock(&donate_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations donate_fops = {
	.owner	= THIS_MODULE,
	.read	= donate_read,
	.write	= donate_write,
};

static int __init donate_init(void)
{
	if (!directmap_enabled()) {
		pr_info("directmap is off: nothing to donate from\n");
		return -ENODEV;
	}
	directmap_owner_init(&donate_owner, "sample-donate");
	donate_dir = debugfs_create_dir("directmap_donate", NULL);
	debugfs_create_file("pages", 0600, donate_dir, NULL, &donate_fops);
	return 0;
}
module_init(donate_init);

static void __exit donate_exit(void)
{
	debugfs_remove_recursive(donate_dir);
	mutex_lock(&donate_lock);
	reclaim(ULONG_MAX);
	mutex_unlock(&donate_lock);
	WARN_ON_ONCE(directmap_owner_exit(&donate_owner));
}
module_exit(donate_exit);

MODULE_DESCRIPTION("directmap sample: donate memory to a pretend hypervisor");
MODULE_LICENSE("GPL");
