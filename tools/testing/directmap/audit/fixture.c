// SPDX-License-Identifier: GPL-2.0
/*
 * What set_memory_unchecked.cocci must find, and what it must leave alone.
 * Each call is marked with what the report should say of it: "want KIND"
 * on the line of the call, or nothing.  audit.py --selftest checks that the
 * report has exactly these.
 */
#include <linux/set_memory.h>

int ignored(unsigned long addr)
{
	set_memory_ro(addr, 1);					/* want ignored */
	return 0;
}

void cast_away(unsigned long addr)
{
	(void)set_memory_rw(addr, 1);				/* want ignored */
}

int stored_never_read(unsigned long addr)
{
	int ret;

	ret = set_memory_nx(addr, 1);				/* want dropped */
	ret = 0;
	return ret;
}

void only_warned(struct page *page)
{
	WARN_ON(set_direct_map_default_noflush(page));		/* want warned */
}

void through_a_pointer(struct page **pages, int nr,
		       int (*set_direct_map)(struct page *page))
{
	int i;

	for (i = 0; i < nr; i++)
		set_direct_map(pages[i]);			/* want ignored */
}

int handled(unsigned long addr)
{
	int ret = set_memory_x(addr, 1);

	if (ret)
		return ret;
	return set_memory_ro(addr, 1);
}

int refused(struct page *page)
{
	if (set_direct_map_invalid_noflush(page))
		return -EFAULT;
	return 0;
}

int rolled_back(unsigned long addr, int nr)
{
	int ret;

	ret = set_memory_ro(addr, nr);
	if (ret)
		return ret;
	ret = set_memory_nx(addr, nr);
	if (ret && set_memory_rw(addr, nr))
		pr_err("cannot roll back\n");
	return ret;
}
