/* tests/test_classification_metrics.c: confusion matrix scores and the IRMAS multi-label
 * protocol on hand-computed cases. */
#include "core/error.h"
#include "eval/classification.h"
#include "test.h"

static void test_single_label(void)
{
    amt_confusion c;
    CHECK_OK(amt_confusion_init(&c, 4));   /* class 3 never occurs: left out of macro means */
    int truth[6] = {0, 0, 1, 1, 2, 2}, pred[6] = {0, 1, 1, 1, 0, 2};
    for (int i = 0; i < 6; i++) CHECK_OK(amt_confusion_add(&c, truth[i], pred[i]));
    CHECK(c.m[0 * 4 + 0] == 1 && c.m[0 * 4 + 1] == 1 && c.m[1 * 4 + 1] == 2 && c.m[2 * 4 + 0] == 1 && c.m[2 * 4 + 2] == 1);
    amt_class_scores s;
    CHECK_OK(amt_confusion_scores(&c, &s));
    CHECK(s.n == 6);
    CHECK_NEAR(s.accuracy, 4.0 / 6.0, 1e-12);
    CHECK_NEAR(s.precision[0], 0.5, 1e-12); CHECK_NEAR(s.precision[1], 2.0 / 3.0, 1e-12); CHECK_NEAR(s.precision[2], 1.0, 1e-12);
    CHECK_NEAR(s.recall[0], 0.5, 1e-12); CHECK_NEAR(s.recall[1], 1.0, 1e-12); CHECK_NEAR(s.recall[2], 0.5, 1e-12);
    CHECK_NEAR(s.f1[1], 0.8, 1e-12); CHECK_NEAR(s.f1[2], 2.0 / 3.0, 1e-12);
    CHECK(s.support[0] == 2 && s.support[3] == 0);
    CHECK_NEAR(s.micro_f1, 4.0 / 6.0, 1e-12);      /* = accuracy for single-label */
    CHECK_NEAR(s.micro_p, 4.0 / 6.0, 1e-12);
    CHECK_NEAR(s.macro_p, (0.5 + 2.0 / 3.0 + 1.0) / 3.0, 1e-12);
    CHECK_NEAR(s.macro_r, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(s.macro_f1, (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-12);
    amt_class_scores_free(&s);
    CHECK(amt_confusion_add(&c, 4, 0) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "class 4 -> 0 outside 0..3") != NULL);
    amt_confusion_free(&c);
    CHECK(amt_confusion_init(&c, 0) == AMT_EINVAL);
}

static void test_irmas_protocol(void)
{
    /* clip decision: mean over windows, optional max-normalisation, threshold */
    float probs[6] = {0.2f, 0.6f, 0.1f, 0.4f, 0.8f, 0.1f}, avg[3];
    unsigned char pred[3];
    CHECK_OK(amt_multilabel_decide(probs, 2, 3, 0, 0.4f, avg, pred));
    CHECK_NEAR(avg[0], 0.3, 1e-6); CHECK_NEAR(avg[1], 0.7, 1e-6); CHECK_NEAR(avg[2], 0.1, 1e-6);
    CHECK(pred[0] == 0 && pred[1] == 1 && pred[2] == 0);
    CHECK_OK(amt_multilabel_decide(probs, 2, 3, 1, 0.4f, avg, pred));
    CHECK_NEAR(avg[0], 0.3 / 0.7, 1e-6); CHECK_NEAR(avg[1], 1.0, 1e-6);
    CHECK(pred[0] == 1 && pred[1] == 1 && pred[2] == 0);
    CHECK(amt_multilabel_decide(probs, 0, 3, 0, 0.5f, avg, pred) == AMT_EINVAL);
    CHECK(strstr(amt_errmsg(), "0 windows") != NULL);
    /* three clips: {0,1} -> {0}; {2} -> {1,2}; {1} -> {} ; class 3 unused */
    amt_multilabel ml;
    CHECK_OK(amt_multilabel_init(&ml, 4));
    unsigned char t1[4] = {1, 1, 0, 0}, p1[4] = {1, 0, 0, 0};
    unsigned char t2[4] = {0, 0, 1, 0}, p2[4] = {0, 1, 1, 0};
    unsigned char t3[4] = {0, 1, 0, 0}, p3[4] = {0, 0, 0, 0};
    amt_multilabel_add(&ml, t1, p1); amt_multilabel_add(&ml, t2, p2); amt_multilabel_add(&ml, t3, p3);
    amt_class_scores s;
    CHECK_OK(amt_multilabel_scores(&ml, &s));
    CHECK(s.n == 3);
    CHECK_NEAR(s.micro_p, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(s.micro_r, 0.5, 1e-12);
    CHECK_NEAR(s.micro_f1, 4.0 / 7.0, 1e-12);
    CHECK_NEAR(s.macro_p, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(s.macro_r, 2.0 / 3.0, 1e-12);
    CHECK_NEAR(s.macro_f1, 2.0 / 3.0, 1e-12);
    CHECK(s.support[1] == 2);
    CHECK_NEAR(s.f1[1], 0.0, 1e-12);
    amt_class_scores_free(&s);
    amt_multilabel_free(&ml);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    RUN(test_single_label);
    RUN(test_irmas_protocol);
    return TEST_DONE();
}
