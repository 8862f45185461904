/* test_onnx_fuzz_regress.c: replays every input the loader fuzzer (tests/fuzz/run.sh) ever
   crashed on, kept in tests/fuzz/corpus-crashes/ after the bug was fixed: each must now load or
   fail with a message, exactly as the fuzz harness demands, and planning a loaded one must not
   crash. File names say what each one broke. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/onnx.h"
#include "test_util.h"

Test(onnx_fuzz, corpus_crashes_replay) {
  const char *data = getenv("NNCL_TEST_DATA");
  cr_assert(data, "NNCL_TEST_DATA is not set (run through meson test)");
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/../fuzz/corpus-crashes", data);
  DIR *d = opendir(dir);
  cr_assert(d, "cannot open %s", dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(len > 0 ? (size_t)len : 1);
    cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    nncl_graph *g = NULL;
    nncl_status st = nncl_onnx_load_memory(tu_ctx(), buf, (size_t)len, NULL, &g);
    cr_assert_eq(st == NNCL_OK, g != NULL, "%s: status and graph disagree", e->d_name);
    if (st != NNCL_OK)
      cr_assert(*nncl_context_last_error(tu_ctx()), "%s: %s without a message", e->d_name,
                nncl_status_name(st));
    else
      nncl_graph_plan(g); /* any status; it must not crash */
    nncl_graph_destroy(g);
    free(buf);
    n++;
  }
  closedir(d);
  cr_assert_gt(n, 0, "%s holds no inputs", dir);
}
