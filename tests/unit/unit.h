/*
 * unit.h - common includes for cmocka unit tests (tests/unit/test_*.c)
 *
 * Each test_<module>.c is one executable built by `make san` under ASan+UBSan
 * and run by `make check` (scripts/run-tests). cmocka needs these system
 * headers before <cmocka.h>.
 */
#ifndef POSTERN_UNIT_H
#define POSTERN_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif
