/* A tiny check harness shared by the C tests: CHECK counts failures and
 * prints where; finish() prints the tally and gives the exit status. */
#ifndef RDPART_TEST_CHECK_H
#define RDPART_TEST_CHECK_H
#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                checks++;                                                                          \
                if (!(cond)) {                                                                     \
                        failures++;                                                                \
                        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fprintf(stderr, "\n");                                                     \
                }                                                                                  \
        } while (0)

static int finish(const char *name) {
        printf("%s: %d checks, %d failed\n", name, checks, failures);
        return failures ? 1 : 0;
}
#endif
