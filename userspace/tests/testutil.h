/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the cmocka tests of rblkadm. */
#ifndef RBLKADM_TESTUTIL_H
#define RBLKADM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rblkadm.h"

/* Parse @yaml as "rblk.conf"; fail the test with the message if it is bad. */
static inline void parse_ok(const char *yaml, struct conf *c)
{
	char err[ERRBUF_BYTES];
	int r = conf_parse_string("rblk.conf", yaml, strlen(yaml), c, err, sizeof(err));

	if (r)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(r, 0);
}

/* Parse @yaml and expect exactly the error @expected. */
static inline void parse_bad(const char *yaml, const char *expected)
{
	char err[ERRBUF_BYTES];
	struct conf c;
	int r = conf_parse_string("rblk.conf", yaml, strlen(yaml), &c, err, sizeof(err));

	assert_int_equal(r, -1);
	assert_string_equal(err, expected);
	assert_null(c.res);
}

#endif
