/* SPDX-License-Identifier: GPL-2.0 */
/*
 * directmap: pages that are absent from the kernel's direct map, handed out
 * from per-node caches of whole 2M regions so that the direct map is not
 * split down to 4K pages.
 *
 * Drivers get pages through this API and never change the direct map
 * themselves: directmap owns the pages and checks every page it is given
 * back.
 */
#ifndef _LINUX_DIRECTMAP_H
#define _LINUX_DIRECTMAP_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/types.h>

struct page;
struct folio;

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
 *	The largest order directmap_alloc_pages() hands out.
 */
#define DIRECTMAP_NOZERO	BIT(0)
#define DIRECTMAP_MAX_ORDER	3

#ifdef CONFIG_DIRECTMAP

bool directmap_enabled(void);

struct page * __must_check directmap_alloc_pages(int nid, unsigned int order,
						 unsigned int flags);
int directmap_free_pages(struct page *page, unsigned int order);
int directmap_free_folio(struct folio *folio);
bool directmap_page(const struct page *page);
bool directmap_active(void);

int directmap_collapse(unsigned long pfn, unsigned long nr_pages);

/*
 * Called by the architecture when it changes the direct map at @addr: the
 * collapse worker re-forms the large entries over it once it is quiet.
 */
void directmap_note_pte(unsigned long addr);
void directmap_note_pmd(unsigned long addr);
void directmap_note_4k_only(unsigned long addr, unsigned long nr_pages);
void directmap_note_split(unsigned long addr, int level);

/*
 * Architecture operations, used by mm/directmap only.  A region is the
 * naturally aligned 2M (PMD_ORDER) block that starts at @page.
 */
int arch_directmap_unmap_region(struct page *page);
void arch_directmap_restore_region(struct page *page);
int arch_directmap_map_pages(struct page *page, unsigned long nr_pages);
void arch_directmap_unmap_pages(struct page *page, unsigned long nr_pages);
int arch_directmap_collapse_pmd(unsigned long pfn, bool not_present);
int arch_directmap_collapse_pud(unsigned long pfn);
void arch_directmap_clear_page(struct page *page);
int arch_directmap_init(void);
struct page *directmap_alloc_pgtable(void);

#else /* !CONFIG_DIRECTMAP */

static inline bool directmap_enabled(void)
{
	return false;
}

static inline struct page *directmap_alloc_pages(int nid, unsigned int order,
						 unsigned int flags)
{
	return NULL;
}

static inline int directmap_free_pages(struct page *page, unsigned int order)
{
	return -EINVAL;
}

static inline int directmap_free_folio(struct folio *folio)
{
	return -EINVAL;
}

static inline bool directmap_page(const struct page *page)
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

static inline void directmap_note_pte(unsigned long addr) { }
static inline void directmap_note_pmd(unsigned long addr) { }
static inline void directmap_note_4k_only(unsigned long addr,
					  unsigned long nr_pages) { }
static inline void directmap_note_split(unsigned long addr, int level) { }

#endif /* CONFIG_DIRECTMAP */

#endif /* _LINUX_DIRECTMAP_H */
