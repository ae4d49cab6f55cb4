/* SPDX-License-Identifier: GPL-2.0 */
/*
 * directmap: pages that are absent from the kernel's direct map, handed out
 * from per-node caches of whole 2M regions so that the direct map is not
 * split down to 4K pages.
 *
 * Drivers get pages through this API and never change the direct map
 * themselves: directmap owns the pages and checks every page it is given
 * back.  Every user is an owner (struct directmap_owner); modules import
 * the DIRECTMAP symbol namespace.
 */
#ifndef _LINUX_DIRECTMAP_H
#define _LINUX_DIRECTMAP_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/gfp_types.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct page;
struct folio;
struct address_space;

/**
 * struct directmap_owner - a user of directmap that owns the pages it gets
 * @name:	shown in debugfs (directmap/owners)
 * @nr_pages:	pages the owner holds
 * @lock:	serialises the owner's bookkeeping: a page it frees is off
 *		its books before directmap takes it back, so no share of
 *		the owner's gets it
 * @list:	on directmap's list of owners
 * @mapping:	the page cache directmap_owner_filemap_folio() filled first:
 *		the only one it fills for this owner
 *
 * Drivers that give memory to a hypervisor or firmware (pKVM, Gunyah,
 * TDX, SEV-SNP) and guest_memfd get their pages through an owner: only
 * the owner that got a page can give it back or map it again, so a
 * driver can never change the direct map of memory that is not its own.
 * Opaque to its users apart from @name.
 */
struct directmap_owner {
	const char		*name;
	atomic_long_t		nr_pages;
	struct mutex		lock;	/* see above */
	struct list_head	list;
	struct address_space	*mapping;
};

/**
 * DOC: directmap allocation flags
 *
 * DIRECTMAP_NOZERO
 *	The caller does not need zeroed pages (firmware clears them).  Pages
 *	from directmap's regions are always clean, since directmap wipes a
 *	page when it is freed; the flag spares the clearing of pages from
 *	the single-page fallback.
 *
 * DIRECTMAP_MAX_ORDER
 *	The largest order directmap_owner_alloc() hands out.
 */
#define DIRECTMAP_NOZERO	BIT(0)
#define DIRECTMAP_MAX_ORDER	3

#ifdef CONFIG_DIRECTMAP

bool directmap_enabled(void);

bool page_is_directmap(const struct page *page);
bool directmap_active(void);

int directmap_collapse(unsigned long pfn, unsigned long nr_pages);

void directmap_owner_init(struct directmap_owner *owner, const char *name);
int directmap_owner_exit(struct directmap_owner *owner);
struct page * __must_check
directmap_owner_alloc(struct directmap_owner *owner, int nid,
		      unsigned int order, unsigned int flags);
int directmap_owner_free(struct directmap_owner *owner, struct page *page,
			 unsigned int order);
int directmap_owner_free_folio(struct directmap_owner *owner,
			       struct folio *folio);
struct folio *directmap_owner_filemap_folio(struct directmap_owner *owner,
					    struct address_space *mapping,
					    unsigned long index, gfp_t gfp);
int __must_check directmap_share(struct directmap_owner *owner,
				 struct page *page, unsigned long nr_pages);
int directmap_unshare(struct directmap_owner *owner, struct page *page,
		      unsigned long nr_pages);
bool directmap_owns(struct directmap_owner *owner, struct page *page);
bool directmap_shared(struct directmap_owner *owner, struct page *page);

/*
 * Called by the architecture when it changes the direct map at @addr: the
 * collapse worker re-forms the large entries over it once it is quiet.
 */
void directmap_note_pte(unsigned long addr);
void directmap_note_pmd(unsigned long addr);
void directmap_note_4k_only(unsigned long addr, unsigned long nr_pages);
void directmap_note_split(unsigned long addr, int level);

#else /* !CONFIG_DIRECTMAP */

static inline bool directmap_enabled(void)
{
	return false;
}

static inline bool page_is_directmap(const struct page *page)
{
	return false;
}

static inline bool directmap_active(void)
{
	return false;
}

static inline int directmap_collapse(unsigned long pfn, unsigned long nr_pages)
{
	return -EOPNOTSUPP;
}

static inline void directmap_owner_init(struct directmap_owner *owner,
					const char *name)
{
	owner->name = name;
}

static inline int directmap_owner_exit(struct directmap_owner *owner)
{
	return 0;
}

static inline struct page *
directmap_owner_alloc(struct directmap_owner *owner, int nid,
		      unsigned int order, unsigned int flags)
{
	return NULL;
}

static inline int directmap_owner_free(struct directmap_owner *owner,
				       struct page *page, unsigned int order)
{
	return -EINVAL;
}

static inline int directmap_owner_free_folio(struct directmap_owner *owner,
					     struct folio *folio)
{
	return -EINVAL;
}

static inline struct folio *
directmap_owner_filemap_folio(struct directmap_owner *owner,
			      struct address_space *mapping,
			      unsigned long index, gfp_t gfp)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int directmap_share(struct directmap_owner *owner,
				  struct page *page, unsigned long nr_pages)
{
	return -EINVAL;
}

static inline int directmap_unshare(struct directmap_owner *owner,
				    struct page *page, unsigned long nr_pages)
{
	return -EINVAL;
}

static inline bool directmap_owns(struct directmap_owner *owner,
				  struct page *page)
{
	return false;
}

static inline bool directmap_shared(struct directmap_owner *owner,
				    struct page *page)
{
	return false;
}

static inline void directmap_note_pte(unsigned long addr) { }
static inline void directmap_note_pmd(unsigned long addr) { }
static inline void directmap_note_4k_only(unsigned long addr,
					  unsigned long nr_pages) { }
static inline void directmap_note_split(unsigned long addr, int level) { }

#endif /* CONFIG_DIRECTMAP */

#endif /* _LINUX_DIRECTMAP_H */
