/* SPDX-License-Identifier: GPL-2.0 */
/* The harness aborts where the kernel would warn: a broken invariant */
#ifndef _SHIM_LINUX_BUG_H
#define _SHIM_LINUX_BUG_H

#include <assert.h>

#define WARN_ON_ONCE(cond)	({ int __c = !!(cond); assert(!__c); __c; })

#endif
