/* SPDX-License-Identifier: GPL-2.0 */
/*
 * directmap: pages handed out and given back, regions taken out of the
 * direct map and given back, the stock single-page fallback, errors, and
 * collapses of direct-map entries.
 * Latencies are in nanoseconds; levels are mainline's: 2 for a 2M (PMD)
 * entry, 3 for a 1G (PUD) one.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM directmap

#if !defined(_TRACE_DIRECTMAP_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_DIRECTMAP_H

#include <linux/tracepoint.h>

#ifndef _TRACE_DIRECTMAP_ENUMS
#define _TRACE_DIRECTMAP_ENUMS
enum directmap_error_kind {
	DIRECTMAP_ERR_REFILL,	/* no region could be added to a node */
	DIRECTMAP_ERR_FALLBACK,	/* nor could single pages be unmapped */
	DIRECTMAP_ERR_MISUSE,	/* a free of pages directmap did not hand out */
	DIRECTMAP_ERR_SHARE,	/* pages could not be put back into the map */
};
#endif

TRACE_DEFINE_ENUM(DIRECTMAP_ERR_REFILL);
TRACE_DEFINE_ENUM(DIRECTMAP_ERR_FALLBACK);
TRACE_DEFINE_ENUM(DIRECTMAP_ERR_MISUSE);
TRACE_DEFINE_ENUM(DIRECTMAP_ERR_SHARE);

DECLARE_EVENT_CLASS(directmap_region,
		    TP_PROTO(int nid, unsigned long pfn, int err, u64 ns),
		    TP_ARGS(nid, pfn, err, ns),
		    TP_STRUCT__entry(__field(int, nid)
				     __field(int, err)
				     __field(unsigned long, pfn)
				     __field(u64, ns)),
		    TP_fast_assign(__entry->nid = nid;
				   __entry->err = err;
				   __entry->pfn = pfn;
				   __entry->ns = ns;),
		    TP_printk("nid=%d pfn=%#lx err=%d ns=%llu", __entry->nid,
			      __entry->pfn, __entry->err, __entry->ns)
);

/* A 2M region left the direct map (a refill of the cache) */
DEFINE_EVENT(directmap_region, directmap_region_unmap,
	     TP_PROTO(int nid, unsigned long pfn, int err, u64 ns),
	     TP_ARGS(nid, pfn, err, ns)
);

/* A 2M region came back to the direct map (a release); err is always 0 */
DEFINE_EVENT(directmap_region, directmap_region_restore,
	     TP_PROTO(int nid, unsigned long pfn, int err, u64 ns),
	     TP_ARGS(nid, pfn, err, ns)
);

DECLARE_EVENT_CLASS(directmap_page,
		    TP_PROTO(int nid, unsigned long pfn, unsigned int order),
		    TP_ARGS(nid, pfn, order),
		    TP_STRUCT__entry(__field(int, nid)
				     __field(unsigned int, order)
				     __field(unsigned long, pfn)),
		    TP_fast_assign(__entry->nid = nid;
				   __entry->order = order;
				   __entry->pfn = pfn;),
		    TP_printk("nid=%d pfn=%#lx order=%u", __entry->nid,
			      __entry->pfn, __entry->order)
);

/* Pages handed out by directmap_alloc_pages(), from a region or not */
DEFINE_EVENT(directmap_page, directmap_alloc,
	     TP_PROTO(int nid, unsigned long pfn, unsigned int order),
	     TP_ARGS(nid, pfn, order)
);

/*
 * Pages given back, to be wiped and reused once nobody holds them; traced
 * before they can be handed out again.  A refused free is not traced here
 * (directmap_error is).
 */
DEFINE_EVENT(directmap_page, directmap_free,
	     TP_PROTO(int nid, unsigned long pfn, unsigned int order),
	     TP_ARGS(nid, pfn, order)
);

/* Pages unmapped one by one, as the stock kernel does: no 2M block */
DEFINE_EVENT(directmap_page, directmap_fallback,
	     TP_PROTO(int nid, unsigned long pfn, unsigned int order),
	     TP_ARGS(nid, pfn, order)
);

/*
 * Pages an owner put back into the direct map (share=1, in-place sharing
 * of confidential memory) or took out again (share=0)
 */
TRACE_EVENT(directmap_share,
	    TP_PROTO(int nid, unsigned long pfn, unsigned long nr_pages,
		     bool share, int err),
	    TP_ARGS(nid, pfn, nr_pages, share, err),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(bool, share)
			     __field(int, err)
			     __field(unsigned long, pfn)
			     __field(unsigned long, nr_pages)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->share = share;
			   __entry->err = err;
			   __entry->pfn = pfn;
			   __entry->nr_pages = nr_pages;),
	    TP_printk("nid=%d pfn=%#lx nr_pages=%lu share=%d err=%d",
		      __entry->nid, __entry->pfn, __entry->nr_pages,
		      __entry->share, __entry->err)
);

/* An error returned to a caller, or a misuse refused */
TRACE_EVENT(directmap_error,
	    TP_PROTO(int nid, int kind, int err),
	    TP_ARGS(nid, kind, err),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(int, kind)
			     __field(int, err)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->kind = kind;
			   __entry->err = err;),
	    TP_printk("nid=%d kind=%s err=%d", __entry->nid,
		      __print_symbolic(__entry->kind,
				       { DIRECTMAP_ERR_REFILL, "refill" },
				       { DIRECTMAP_ERR_FALLBACK, "fallback" },
				       { DIRECTMAP_ERR_MISUSE, "misuse" },
				       { DIRECTMAP_ERR_SHARE, "share" }),
		      __entry->err)
);

/*
 * One try to re-form a direct-map entry: ret 1 re-formed, 0 large already,
 * -EAGAIN entries differ, -EBUSY contended, -EOPNOTSUPP must stay small
 */
TRACE_EVENT(directmap_collapse,
	    TP_PROTO(int nid, unsigned long pfn, int level, int ret, u64 ns),
	    TP_ARGS(nid, pfn, level, ret, ns),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(int, level)
			     __field(unsigned long, pfn)
			     __field(int, ret)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->level = level;
			   __entry->pfn = pfn;
			   __entry->ret = ret;
			   __entry->ns = ns;),
	    TP_printk("nid=%d pfn=%#lx level=%d ret=%d ns=%llu", __entry->nid,
		      __entry->pfn, __entry->level, __entry->ret, __entry->ns)
);

/*
 * A large direct-map entry was split by anyone (CPA), where the vmstat
 * direct_map_level{2,3}_splits event is counted; level 2 is a 2M entry,
 * 3 a 1G entry.  Record with -g to see who split it.
 */
TRACE_EVENT(directmap_split,
	    TP_PROTO(int nid, unsigned long pfn, int level),
	    TP_ARGS(nid, pfn, level),
	    TP_STRUCT__entry(__field(int, nid)
			     __field(int, level)
			     __field(unsigned long, pfn)),
	    TP_fast_assign(__entry->nid = nid;
			   __entry->level = level;
			   __entry->pfn = pfn;),
	    TP_printk("nid=%d pfn=%#lx level=%d", __entry->nid, __entry->pfn,
		      __entry->level)
);

#endif /* _TRACE_DIRECTMAP_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
