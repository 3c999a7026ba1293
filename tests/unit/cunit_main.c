/*
 * cunit_main.c - the main() shared by every unit test executable.  Each
 * test file defines register_tests(), which adds its suites.  Exit status
 * is non-zero when any assertion failed.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "cunit_main.h"

int main(void)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (register_tests() != 0) {
		fprintf(stderr, "test registration failed\n");
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
