/* tests/test_config.c: INI configs: a good file, bad types, out-of-range values, unknown
 * keys and sections, malformed lines, missing files, --set overrides; every error must name
 * the file, line, key and problem. Test files are written to a temporary directory. */
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "core/error.h"
#include "tests/test.h"

static char g_dir[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

/* the message contains every given fragment */
static int msg_has(const char *a, const char *b, const char *c)
{
    const char *m = amt_errmsg();
    int ok = strstr(m, a) && (!b || strstr(m, b)) && (!c || strstr(m, c));
    if (!ok) fprintf(stderr, "  message was: %s\n", m);
    return ok;
}

static const char *GOOD =
    "; a model config\n"
    "[model]\n"
    "kind = classifier   ; inline comment\n"
    "channels = 32, 64,128\n"
    "\n"
    "# another comment\n"
    "[train]\n"
    "batch = 16\n"
    "lr = 3e-4\n"
    "  shuffle = yes\n"
    "name = run one\n";

static void test_good_file(void)
{
    const char *path = write_file("good.ini", GOOD);
    REQUIRE(path);
    amt_config *c = amt_config_load(path);
    REQUIRE(c);
    CHECK(strcmp(amt_config_path(c), path) == 0);
    static const char *const kinds[] = {"separator", "classifier", "transcriber", NULL};
    int kind = -1, batch = 0, shuffle = 0, epochs = 0, ch[8], nch = 0;
    double lr = 0, mom = 0;
    const char *name = NULL, *opt = NULL;
    CHECK_OK(amt_config_get_enum(c, "model", "kind", kinds, -1, &kind));
    CHECK(kind == 1);
    CHECK_OK(amt_config_get_int_list(c, "model", "channels", 1, 1024, ch, 8, &nch));
    CHECK(nch == 3 && ch[0] == 32 && ch[1] == 64 && ch[2] == 128);
    CHECK_OK(amt_config_get_int(c, "train", "batch", 8, 1, 4096, &batch));
    CHECK(batch == 16);
    CHECK_OK(amt_config_get_float(c, "train", "lr", 1e-3, 0, 1, &lr));
    CHECK(lr == 3e-4);
    CHECK_OK(amt_config_get_bool(c, "train", "shuffle", 0, &shuffle));
    CHECK(shuffle == 1);
    CHECK_OK(amt_config_get_string(c, "train", "name", NULL, &name));
    CHECK(strcmp(name, "run one") == 0);
    /* absent keys give their defaults */
    CHECK_OK(amt_config_get_int(c, "train", "epochs", 7, 1, 100, &epochs));
    CHECK(epochs == 7);
    CHECK_OK(amt_config_get_float(c, "train", "momentum", 0.9, 0, 1, &mom));
    CHECK(mom == 0.9);
    CHECK_OK(amt_config_get_string(c, "train", "optimizer", "adam", &opt));
    CHECK(strcmp(opt, "adam") == 0);
    CHECK(amt_config_has(c, "train", "batch") && !amt_config_has(c, "train", "epochs"));
    CHECK_OK(amt_config_check_unused(c));
    char *text = amt_config_text(c);
    REQUIRE(text);
    CHECK(strcmp(text, "[model]\nkind = classifier\nchannels = 32, 64,128\n\n[train]\nbatch = 16\nlr = 3e-4\n"
                       "shuffle = yes\nname = run one\n") == 0);
    /* the serialised text reads back to the same entries */
    amt_config *c2 = amt_config_from_string(text, "ckpt:config");
    REQUIRE(c2);
    CHECK_OK(amt_config_get_int(c2, "train", "batch", 8, 1, 4096, &batch));
    CHECK(batch == 16);
    amt_config_free(c2);
    free(text);
    amt_config_free(c);
}

static void test_bad_types(void)
{
    const char *path = write_file("types.ini",
        "[train]\nbatch = abc\nlr = fast\nshuffle = maybe\nkind = cnn\nsizes = 3, x, 5\nempty_s =\nbig = 99999999999\n");
    REQUIRE(path);
    amt_config *c = amt_config_load(path);
    REQUIRE(c);
    char where[600];
    int v = 5;
    double d = 1;
    CHECK(amt_config_get_int(c, "train", "batch", 8, 1, 100, &v) == AMT_ECONFIG);
    snprintf(where, sizeof where, "%s:2: train.batch: 'abc' is not an integer", path);
    CHECK(msg_has(where, NULL, NULL));
    CHECK(v == 5);
    CHECK(amt_config_get_float(c, "train", "lr", 0.1, 0, 1, &d) == AMT_ECONFIG);
    snprintf(where, sizeof where, "%s:3: train.lr:", path);
    CHECK(msg_has(where, "'fast' is not a finite number", NULL));
    CHECK(amt_config_get_bool(c, "train", "shuffle", 0, &v) == AMT_ECONFIG);
    CHECK(msg_has(":4: train.shuffle: 'maybe' is not a boolean", NULL, NULL));
    static const char *const kinds[] = {"lstm", "convnet", NULL};
    CHECK(amt_config_get_enum(c, "train", "kind", kinds, 0, &v) == AMT_ECONFIG);
    CHECK(msg_has(":5: train.kind: 'cnn' is not one of: lstm, convnet", NULL, NULL));
    int list[4], n = -1;
    CHECK(amt_config_get_int_list(c, "train", "sizes", 1, 10, list, 4, &n) == AMT_ECONFIG);
    CHECK(msg_has(":6: train.sizes: item 2 'x' is not an integer", NULL, NULL));
    CHECK(n == -1);
    const char *s;
    CHECK(amt_config_get_string(c, "train", "empty_s", "x", &s) == AMT_ECONFIG);
    CHECK(msg_has(":7: train.empty_s: empty value", NULL, NULL));
    CHECK(amt_config_get_int(c, "train", "big", 8, 1, 100, &v) == AMT_ECONFIG);
    CHECK(msg_has(":8: train.big: 99999999999 outside [1, 100]", NULL, NULL));
    /* missing required keys */
    CHECK(amt_config_get_string(c, "train", "data", NULL, &s) == AMT_ECONFIG);
    CHECK(msg_has("train.data: missing required key", path, NULL));
    CHECK(amt_config_get_enum(c, "train", "mode", kinds, -1, &v) == AMT_ECONFIG);
    CHECK(msg_has("train.mode: missing required key", NULL, NULL));
    CHECK(amt_config_require(c, "train", "nothing") == AMT_ECONFIG);
    CHECK(msg_has("train.nothing: missing required key", NULL, NULL));
    CHECK_OK(amt_config_require(c, "train", "batch"));
    amt_config_free(c);
}

static void test_out_of_range(void)
{
    const char *path = write_file("range.ini", "[train]\nbatch = 0\nlr = 2.5\nsizes = 3 50 5\nmany = 1,2,3,4,5\nnone = , ,\n");
    REQUIRE(path);
    amt_config *c = amt_config_load(path);
    REQUIRE(c);
    int v = 3, list[4], n = 0;
    double d = 0.5;
    CHECK(amt_config_get_int(c, "train", "batch", 8, 1, 4096, &v) == AMT_ECONFIG);
    CHECK(msg_has(":2: train.batch: 0 outside [1, 4096]", NULL, NULL));
    CHECK(v == 3);
    CHECK(amt_config_get_float(c, "train", "lr", 0.1, 0, 1, &d) == AMT_ECONFIG);
    CHECK(msg_has(":3: train.lr: 2.5 outside [0, 1]", NULL, NULL));
    CHECK(d == 0.5);
    CHECK(amt_config_get_int_list(c, "train", "sizes", 1, 10, list, 4, &n) == AMT_ECONFIG);
    CHECK(msg_has(":4: train.sizes: item 2 (50) outside [1, 10]", NULL, NULL));
    CHECK(amt_config_get_int_list(c, "train", "many", 1, 10, list, 4, &n) == AMT_ECONFIG);
    CHECK(msg_has(":5: train.many: more than 4 items", NULL, NULL));
    CHECK(amt_config_get_int_list(c, "train", "none", 1, 10, list, 4, &n) == AMT_ECONFIG);
    CHECK(msg_has(":6: train.none: empty list", NULL, NULL));
    amt_config_free(c);
}

static void test_unknown_keys_and_sections(void)
{
    const char *path = write_file("unknown.ini", "[train]\nbatch = 4\nbacth = 5\n[trian]\nlr = 0.1\n");
    REQUIRE(path);
    amt_config *c = amt_config_load(path);
    REQUIRE(c);
    int v;
    CHECK_OK(amt_config_get_int(c, "train", "batch", 8, 1, 100, &v));
    CHECK_OK(amt_config_get_int(c, "train", "epochs", 8, 1, 100, &v));
    CHECK(amt_config_check_unused(c) == AMT_ECONFIG);
    char where[600];
    snprintf(where, sizeof where, "%s:3: train.bacth: unknown key (known in [train]: batch, epochs)", path);
    CHECK(msg_has(where, NULL, NULL));
    double d;
    CHECK_OK(amt_config_get_float(c, "train", "bacth", 1, 0, 10, &d));   /* now read: next problem */
    CHECK(amt_config_check_unused(c) == AMT_ECONFIG);
    snprintf(where, sizeof where, "%s:5: [trian]: unknown section", path);
    CHECK(msg_has(where, NULL, NULL));
    amt_config_free(c);
}

static void test_malformed(void)
{
    const struct { const char *text, *expect; } cases[] = {
        {"[train]\nbatch = 4\nthis line has no equals sign\n", ":3: malformed line 'this line has no equals sign'"},
        {"[train\nbatch = 4\n", ":1: malformed line '[train'"},
        {"batch = 4\n[train]\n", ":1: batch: key outside any [section]"},
        {"[train]\nbatch = 4\nlr = 1\nbatch = 5\n", ":4: train.batch: key given twice (first at line 2)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = write_file("bad.ini", cases[i].text);
        REQUIRE(path);
        amt_config *c = amt_config_load(path);
        CHECK(c == NULL);
        amt_config_free(c);
        CHECK(amt_errcode() == AMT_ECONFIG);
        CHECK(msg_has(path, cases[i].expect, NULL));
    }
    /* a line longer than the parser's buffer is an error, not silently split */
    static char text[12000];
    strcpy(text, "[train]\nname = ");
    for (int i = 0; i < 1000; i++) strcat(text, "x");
    strcat(text, "\nbatch = 3\n");
    amt_config *c = amt_config_from_string(text, "long.ini");   /* 1000 characters are fine */
    REQUIRE(c);
    const char *s = NULL;
    CHECK_OK(amt_config_get_string(c, "train", "name", NULL, &s));
    CHECK(s && strlen(s) == 1000);
    amt_config_free(c);
    strcpy(text, "[train]\nname = ");
    for (int i = 0; i < 10000; i++) strcat(text, "x");
    strcat(text, "\nbatch = 3\n");
    c = amt_config_from_string(text, "long.ini");
    CHECK(c == NULL);
    amt_config_free(c);
    CHECK(msg_has("long.ini:2: line too long", NULL, NULL));
    /* a binary file */
    const char *path = write_file("bin.ini", "[a]\nb = 1\n");
    FILE *f = fopen(path, "ab");
    REQUIRE(f);
    fputc(0, f);
    fclose(f);
    c = amt_config_load(path);
    CHECK(c == NULL);
    CHECK(msg_has(path, "NUL", NULL));
}

static void test_missing_file(void)
{
    amt_config *c = amt_config_load("/nonexistent/dir/x.ini");
    CHECK(c == NULL);
    CHECK(amt_errcode() == AMT_EIO);
    CHECK(msg_has("/nonexistent/dir/x.ini: cannot open config", "No such file", NULL));
}

static void test_overrides(void)
{
    const char *path = write_file("ovr.ini", GOOD);
    REQUIRE(path);
    amt_config *c = amt_config_load(path);
    REQUIRE(c);
    CHECK_OK(amt_config_set(c, "train.batch=32"));
    CHECK_OK(amt_config_set(c, " train.lr = 0.5 "));
    CHECK_OK(amt_config_set(c, "eval.split=test"));   /* a new key (read below) */
    int batch = 0, shuffle;
    double lr = 0;
    const char *s;
    CHECK_OK(amt_config_get_int(c, "train", "batch", 8, 1, 4096, &batch));
    CHECK(batch == 32);
    CHECK_OK(amt_config_get_float(c, "train", "lr", 1, 0, 1, &lr));
    CHECK(lr == 0.5);
    CHECK_OK(amt_config_get_string(c, "eval", "split", NULL, &s));
    CHECK(strcmp(s, "test") == 0);
    /* the text for checkpoints carries the overrides */
    char *text = amt_config_text(c);
    REQUIRE(text);
    CHECK(strstr(text, "batch = 32\n") && strstr(text, "lr = 0.5\n") && strstr(text, "[eval]\nsplit = test\n"));
    CHECK(!strstr(text, "batch = 16"));
    free(text);
    /* a bad value from an override names the override */
    CHECK_OK(amt_config_set(c, "train.shuffle=perhaps"));
    CHECK(amt_config_get_bool(c, "train", "shuffle", 0, &shuffle) == AMT_ECONFIG);
    CHECK(msg_has("--set train.shuffle=perhaps: train.shuffle: 'perhaps' is not a boolean", NULL, NULL));
    /* an override of an unknown key is reported by the final check */
    static const char *const kinds[] = {"separator", "classifier", NULL};
    int kind, ch[4], n;
    CHECK_OK(amt_config_get_enum(c, "model", "kind", kinds, -1, &kind));
    CHECK_OK(amt_config_get_int_list(c, "model", "channels", 1, 1024, ch, 4, &n));
    CHECK_OK(amt_config_get_string(c, "train", "name", NULL, &s));
    CHECK_OK(amt_config_check_unused(c));
    CHECK_OK(amt_config_set(c, "train.bacth=3"));
    CHECK(amt_config_check_unused(c) == AMT_ECONFIG);
    CHECK(msg_has("--set train.bacth=3: train.bacth: unknown key (known in [train]:", "batch", NULL));
    CHECK_OK(amt_config_set(c, "nosuch.key=3"));
    /* malformed assignments */
    CHECK(amt_config_set(c, "trainbatch=3") == AMT_ECONFIG);
    CHECK(msg_has("--set trainbatch=3: expected section.key=value", NULL, NULL));
    CHECK(amt_config_set(c, "train.batch") == AMT_ECONFIG);
    CHECK(msg_has("expected section.key=value", NULL, NULL));
    CHECK(amt_config_set(c, "train.batch=") == AMT_ECONFIG);
    CHECK(msg_has("train.batch: empty value", NULL, NULL));
    CHECK(amt_config_set(c, ".batch=3") == AMT_ECONFIG);
    amt_config_free(c);
}

int main(int argc, char **argv)
{
    TEST_INIT(argc, argv);
    snprintf(g_dir, sizeof g_dir, "/tmp/amt_test_config_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); return 1; }
    RUN(test_good_file);
    RUN(test_bad_types);
    RUN(test_out_of_range);
    RUN(test_unknown_keys_and_sections);
    RUN(test_malformed);
    RUN(test_missing_file);
    RUN(test_overrides);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    return TEST_DONE();
}
