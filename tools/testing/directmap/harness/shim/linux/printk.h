/* SPDX-License-Identifier: GPL-2.0 */
/* Messages of the policy: checked for format, printed nowhere */
#ifndef _SHIM_LINUX_PRINTK_H
#define _SHIM_LINUX_PRINTK_H

#include <stdio.h>

#define pr_info(fmt, ...)						\
	do {								\
		if (0)							\
			printf(pr_fmt(fmt), ##__VA_ARGS__);		\
	} while (0)

#endif
