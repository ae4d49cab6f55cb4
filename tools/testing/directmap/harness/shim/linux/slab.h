/* SPDX-License-Identifier: GPL-2.0 */
/* kzalloc()/kfree() with failure injection, provided by the simulator */
#ifndef _SHIM_LINUX_SLAB_H
#define _SHIM_LINUX_SLAB_H

#include <linux/types.h>

void *sim_kzalloc(size_t size);
void sim_kfree(const void *p);

#define kzalloc(size, gfp)	sim_kzalloc(size)
#define kfree(p)		sim_kfree(p)

#endif
