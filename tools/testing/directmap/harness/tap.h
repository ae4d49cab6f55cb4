/* SPDX-License-Identifier: GPL-2.0 */
/* TAP output and CHECK() for the harness's unit tests */
#ifndef _DIRECTMAP_TAP_H
#define _DIRECTMAP_TAP_H

#include <stdio.h>

static int test_nr, test_failed, case_failed;

/* A failed CHECK() fails the case and goes on */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("#   %s:%d: CHECK(%s) failed\n",			\
		       __FILE__, __LINE__, #cond);			\
		case_failed = 1;					\
	}								\
} while (0)

/* Run one case between @setup and @teardown (either may be NULL) */
static inline void tap_run(const char *name, void (*fn)(void),
			   void (*setup)(void), void (*teardown)(void))
{
	case_failed = 0;
	if (setup)
		setup();
	fn();
	if (teardown)
		teardown();
	test_nr++;
	test_failed += case_failed;
	if (case_failed)
		printf("not ok %d %s\n", test_nr, name);
	else
		printf("ok %d %s\n", test_nr, name);
}

#endif
