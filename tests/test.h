/* tests/test.h: a tiny test harness. One test program per module:
 *
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_NEAR(a, b, 1e-6); }
 *   int main(int argc, char **argv) { TEST_INIT(argc, argv); RUN(test_x); return TEST_DONE(); }
 *
 * A test passes when no CHECK in it failed; SKIP("why") ends it as skipped. The program
 * prints "FAIL"/"SKIP" lines, then "N passed, N failed, N skipped", which tests/run.sh
 * adds up. `prog NAME` runs only tests whose name contains NAME. Tests run from the
 * project root (paths like tests/golden/... work). */
#ifndef AMT_TEST_H
#define AMT_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_skipped, t_cur_failed, t_cur_skipped;
static const char *t_filter;

#define TEST_INIT(argc, argv) (t_filter = (argc) > 1 ? (argv)[1] : NULL)

#define CHECK(cond) do { if (!(cond)) { t_cur_failed++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_MSG(cond, ...) do { if (!(cond)) { t_cur_failed++; \
    fprintf(stderr, "  %s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol) do { double t_a_ = (double)(a), t_b_ = (double)(b); \
    if (!(fabs(t_a_ - t_b_) <= (tol))) { t_cur_failed++; \
    fprintf(stderr, "  %s:%d: %s = %.9g, %s = %.9g, differ by %.3g > %.3g\n", __FILE__, __LINE__, \
            #a, t_a_, #b, t_b_, fabs(t_a_ - t_b_), (double)(tol)); } } while (0)
/* Fails and returns from the test function on error codes (AMT_OK = 0 expected). */
#define CHECK_OK(expr) do { int t_rc_ = (expr); if (t_rc_ != 0) { t_cur_failed++; \
    fprintf(stderr, "  %s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, t_rc_, amt_errmsg()); \
    return; } } while (0)
#define REQUIRE(cond) do { if (!(cond)) { t_cur_failed++; \
    fprintf(stderr, "  %s:%d: REQUIRE(%s) failed; test stopped\n", __FILE__, __LINE__, #cond); return; } } while (0)
#define SKIP(...) do { t_cur_skipped = 1; fprintf(stderr, "SKIP %s: ", t_name_); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); return; } while (0)

static const char *t_name_ = "";
#define RUN(fn) do { if (t_filter && !strstr(#fn, t_filter)) break; \
    t_name_ = #fn; t_cur_failed = 0; t_cur_skipped = 0; fn(); \
    if (t_cur_failed) { t_failed++; fprintf(stderr, "FAIL %s\n", #fn); } \
    else if (t_cur_skipped) t_skipped++; else t_passed++; } while (0)

#define TEST_DONE() (printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped), \
    fflush(stdout), t_failed ? 1 : 0)

#endif
