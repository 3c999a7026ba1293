#ifndef MTASTS_CUNIT_MAIN_H
#define MTASTS_CUNIT_MAIN_H
#include <CUnit/CUnit.h>

/* Defined by each test_<module>.c: add suites, return 0 on success. */
int register_tests(void);

/* Add a suite with tests given as a NULL-terminated CU_TestInfo array. */
#define CUNIT_SUITE(name, tests)                                            \
	do {                                                                 \
		CU_pSuite s_ = CU_add_suite((name), NULL, NULL);             \
		if (s_ == NULL)                                              \
			return -1;                                           \
		for (CU_TestInfo *t_ = (tests); t_->pName; t_++)             \
			if (CU_add_test(s_, t_->pName, t_->pTestFunc) == NULL) \
				return -1;                                   \
	} while (0)

#endif
