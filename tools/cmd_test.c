/* cmd_test.c: `nncl test DIR...`: runs models in the ONNX backend-test layout (as onnxruntime's
   onnx_test_runner): DIR/model.onnx with DIR/test_data_set_N/{input,output}_K.pb. One line per
   data set (PASS/FAIL and the worst error), then the pass rate over models when there are
   several, and last, alone on its line, "N passed, M failed". A DIR without model.onnx whose
   subfolders have one (e.g. .../data/node) stands for all of them. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "model_io.h"

struct opts {
  double rtol, atol;
};

struct tally {
  int passed, failed; /* data sets */
  int models, models_passed;
};

static int is_file(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int is_dir(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Number after "test_data_set_" (data sets sort numerically: 2 before 10). */
static int cmp_data_set(const void *a, const void *b) {
  long x = strtol(*(const char *const *)a + 14, NULL, 10),
       y = strtol(*(const char *const *)b + 14, NULL, 10);
  return x < y ? -1 : x > y;
}

/* Sorted names of entries in dir that start with prefix (when given) and are folders;
   with need_model, only folders holding a model.onnx. Returns the count (-1 if unreadable). */
static int list_dirs(const char *dir, const char *prefix, int need_model, char ***out) {
  *out = NULL;
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0, cap = 0;
  char **v = NULL;
  struct dirent *e;
  char path[4096];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (prefix && strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
    snprintf(path, sizeof path, "%s/%s%s", dir, e->d_name, need_model ? "/model.onnx" : "");
    if (need_model ? !is_file(path) : !is_dir(path)) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **nv = realloc(v, (size_t)cap * sizeof *nv);
      if (!nv) break;
      v = nv;
    }
    if (!(v[n] = strdup(e->d_name))) break;
    n++;
  }
  closedir(d);
  if (n > 0) qsort(v, (size_t)n, sizeof *v, prefix ? cmp_data_set : cmp_str); /* v NULL at 0 */
  *out = v;
  return n;
}

static void free_list(char **v, int n) {
  for (int i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* Index of graph input/output `name`, or -1. */
static int find_name(const nncl_graph *g, const char *name, int outputs) {
  int n = outputs ? nncl_graph_num_outputs(g) : nncl_graph_num_inputs(g);
  for (int i = 0; name && i < n; i++) {
    const char *s = outputs ? nncl_graph_output_name(g, i) : nncl_graph_input_name(g, i);
    if (s && strcmp(s, name) == 0) return i;
  }
  return -1;
}

/* Runs one data set; returns 1 when it passes. Writes the reason or the worst error into `line`. */
static int run_data_set(nncl_context *ctx, nncl_graph *g, const char *ds, const struct opts *o,
                        char *line, size_t line_len) {
  char path[4096];
  int n_in = nncl_graph_num_inputs(g), n_out = nncl_graph_num_outputs(g);
  /* Inputs: input_K.pb binds by its tensor name when that names a graph input, else to input K. */
  int k = 0;
  for (;; k++) {
    snprintf(path, sizeof path, "%.4000s/input_%d.pb", ds, k);
    if (!is_file(path)) break;
    nncl_array a;
    char *name = NULL;
    nncl_status st = nncl_onnx_load_tensor(ctx, path, &a, &name);
    if (st != NNCL_OK) {
      snprintf(line, line_len, "input_%d.pb: %s", k, nncl_context_last_error(ctx));
      return 0;
    }
    int slot = find_name(g, name, 0);
    if (slot < 0) slot = k;
    free(name);
    if (slot >= n_in) {
      nncl_array_free(&a);
      snprintf(line, line_len, "input_%d.pb: the model has only %d inputs", k, n_in);
      return 0;
    }
    st = nncl_graph_set_input(g, nncl_graph_input_name(g, slot), &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) {
      snprintf(line, line_len, "input '%s': %s: %s", nncl_graph_input_name(g, slot),
               nncl_status_string(st), nncl_context_last_error(ctx));
      return 0;
    }
  }
  if (k < n_in) {
    snprintf(line, line_len, "the data set has %d inputs, the model %d", k, n_in);
    return 0;
  }
  nncl_status st = nncl_graph_run(g);
  if (st != NNCL_OK) {
    snprintf(line, line_len, "run: %s: %s", nncl_status_string(st), nncl_context_last_error(ctx));
    return 0;
  }
  double max_abs = 0;
  int checked = 0;
  for (k = 0;; k++) {
    snprintf(path, sizeof path, "%.4000s/output_%d.pb", ds, k);
    if (!is_file(path)) break;
    nncl_array want, got;
    char *name = NULL;
    if (nncl_onnx_load_tensor(ctx, path, &want, &name) != NNCL_OK) {
      snprintf(line, line_len, "output_%d.pb: %s", k, nncl_context_last_error(ctx));
      return 0;
    }
    int slot = find_name(g, name, 1);
    if (slot < 0) slot = k;
    free(name);
    if (slot >= n_out) {
      nncl_array_free(&want);
      snprintf(line, line_len, "output_%d.pb: the model has only %d outputs", k, n_out);
      return 0;
    }
    st = nncl_graph_get_output(g, slot, &got);
    if (st != NNCL_OK) {
      nncl_array_free(&want);
      snprintf(line, line_len, "output '%s': %s: %s", nncl_graph_output_name(g, slot),
               nncl_status_string(st), nncl_context_last_error(ctx));
      return 0;
    }
    mi_compare_result r;
    mi_compare(&got, &want, o->rtol, o->atol, &r);
    nncl_array_free(&got);
    nncl_array_free(&want);
    const char *oname = nncl_graph_output_name(g, slot);
    if (r.problem[0]) {
      snprintf(line, line_len, "output '%s': %s", oname, r.problem);
      return 0;
    }
    if (!r.ok) {
      snprintf(
          line, line_len,
          "output '%s': %zu elements outside rtol %g atol %g; worst [%zu] is %.9g, expected %.9g "
          "(max abs err %.3g)",
          oname, r.n_bad, o->rtol, o->atol, r.worst, r.got_worst, r.want_worst, r.max_abs);
      return 0;
    }
    if (r.max_abs > max_abs) max_abs = r.max_abs;
    checked++;
  }
  if (checked == 0) {
    snprintf(line, line_len, "no output_K.pb files");
    return 0;
  }
  snprintf(line, line_len, "%d output%s, max abs err %.3g", checked, checked == 1 ? "" : "s",
           max_abs);
  return 1;
}

/* Tests one model folder: every data set, or one failure when the model does not load. */
static void test_model(nncl_context *ctx, const char *dir, const struct opts *o, struct tally *t) {
  char path[4096], line[2048];
  char **sets = NULL;
  int n_sets = list_dirs(dir, "test_data_set_", 0, &sets);
  snprintf(path, sizeof path, "%s/model.onnx", dir);
  nncl_graph *g = NULL;
  nncl_status st = nncl_onnx_load(ctx, path, &g);
  int model_ok = 1;
  if (st != NNCL_OK || n_sets <= 0) {
    if (st != NNCL_OK)
      printf("FAIL %s: load: %s: %s\n", dir, nncl_status_string(st), nncl_context_last_error(ctx));
    else
      printf("FAIL %s: no test_data_set_N folders\n", dir);
    t->failed += n_sets > 0 ? n_sets : 1;
    model_ok = 0;
  } else {
    for (int i = 0; i < n_sets; i++) {
      char ds[4096];
      snprintf(ds, sizeof ds, "%s/%s", dir, sets[i]);
      int ok = run_data_set(ctx, g, ds, o, line, sizeof line);
      printf("%s %s: %s\n", ok ? "PASS" : "FAIL", ds, line);
      fflush(stdout);
      if (ok)
        t->passed++;
      else
        t->failed++, model_ok = 0;
    }
  }
  nncl_graph_destroy(g);
  free_list(sets, n_sets);
  t->models++;
  t->models_passed += model_ok;
}

static int run(int argc, char **argv) {
  struct opts o = {1e-3, 1e-5};
  const char *device = NULL, *v;
  int n_dirs = 0;
  char **dirs = calloc((size_t)argc, sizeof *dirs);
  if (!dirs) return 1;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--rtol"))) {
      if (cli_double("test", "--rtol", v, 0, 1e30, &o.rtol)) {
        free(dirs);
        return 2;
      }
    } else if ((v = cli_value(argc, argv, &i, "--atol"))) {
      if (cli_double("test", "--atol", v, 0, 1e30, &o.atol)) {
        free(dirs);
        return 2;
      }
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      cli_unknown_option("test", argv[i]);
      free(dirs);
      return 2;
    } else
      dirs[n_dirs++] = argv[i];
  }
  if (n_dirs == 0) {
    fprintf(stderr, "usage: %s\n", cmd_test.usage);
    free(dirs);
    return 2;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) {
    free(dirs);
    return 1;
  }
  struct tally t = {0};
  char path[4096];
  for (int i = 0; i < n_dirs; i++) {
    size_t len = strlen(dirs[i]);
    while (len > 1 && dirs[i][len - 1] == '/') dirs[i][--len] = 0;
    snprintf(path, sizeof path, "%s/model.onnx", dirs[i]);
    if (is_file(path)) {
      test_model(ctx, dirs[i], &o, &t);
      continue;
    }
    char **models = NULL;
    int n = list_dirs(dirs[i], NULL, 1, &models);
    if (n <= 0) {
      printf("FAIL %s: no model.onnx there or in its subfolders\n", dirs[i]);
      t.failed++;
      t.models++;
    }
    for (int m = 0; m < n; m++) {
      char sub[4096];
      snprintf(sub, sizeof sub, "%s/%s", dirs[i], models[m]);
      test_model(ctx, sub, &o, &t);
    }
    free_list(models, n);
  }
  if (t.models > 1)
    printf("models: %d of %d passed (%.1f%%)\n", t.models_passed, t.models,
           100.0 * t.models_passed / t.models);
  printf("%d passed, %d failed\n", t.passed, t.failed);
  nncl_context_destroy(ctx);
  free(dirs);
  return t.failed ? 1 : 0;
}

const struct cli_command cmd_test = {
    "test", "run ONNX backend-test folders (model.onnx + test_data_set_N) and compare", run,
    "nncl test DIR... [--rtol R (1e-3)] [--atol A (1e-5)] [--device D]\n"
    "       [--option KEY=VALUE]... (nncl options)\n"
    "  DIR holds model.onnx and test_data_set_N/{input,output}_K.pb, or subfolders that do."};
