/* cmd_run.c: `nncl run MODEL.onnx [--input [NAME=]FILE]... [--output-dir DIR] [--batch N]
   [--device D]`: runs a model once. Inputs come from .npy or TensorProto .pb files (a bare file
   binds to the next unbound graph input in order), else are generated, saying so. Prints each
   output's name, shape and a summary (top-5 classes for a 2-D classifier output) and the times;
   --output-dir writes every output as output_K.pb (graph-output order, comparable with a test
   data set) and as NAME.npy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "model_io.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int is_dir_ok(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Binds every --input; unbound inputs get generated data. Returns 0 on success. */
static int bind_inputs(nncl_context *ctx, nncl_graph *g, char **specs, int n_specs, int64_t batch) {
  int n_in = nncl_graph_num_inputs(g);
  char *bound = calloc((size_t)n_in + 1, 1);
  if (!bound) return 1;
  int rc = 0;
  for (int s = 0; s < n_specs && !rc; s++) {
    const char *file = specs[s];
    int slot = -1;
    const char *eq = strchr(specs[s], '=');
    if (eq) {
      for (int i = 0; i < n_in; i++) {
        const char *nm = nncl_graph_input_name(g, i);
        if (strlen(nm) == (size_t)(eq - specs[s]) &&
            strncmp(nm, specs[s], (size_t)(eq - specs[s])) == 0)
          slot = i;
      }
      if (slot >= 0)
        file = eq + 1;
      else if (!strchr(eq, '.')) { /* NAME=FILE with an unknown name */
        fprintf(stderr, "nncl run: the model has no input named \"%.*s\"\n", (int)(eq - specs[s]),
                specs[s]);
        rc = 1;
        break;
      }
    }
    if (slot < 0)
      for (int i = 0; i < n_in && slot < 0; i++)
        if (!bound[i]) slot = i;
    if (slot < 0) {
      fprintf(stderr, "nncl run: more input files than the model's %d inputs\n", n_in);
      rc = 1;
      break;
    }
    if (bound[slot]) { /* NAME=FILE twice for one input: the first would be silently lost */
      fprintf(stderr, "nncl run: input \"%s\" is given twice\n", nncl_graph_input_name(g, slot));
      rc = 2;
      break;
    }
    nncl_array a;
    nncl_status st = mi_read_array(ctx, file, &a, NULL);
    if (st != NNCL_OK) {
      rc = cli_fail(ctx, st, file);
      break;
    }
    char sb[128];
    printf("input  %-20s %s %s from %s\n", nncl_graph_input_name(g, slot), nncl_dtype_name(a.dtype),
           nncl_shape_format(&a.shape, sb, sizeof sb), file);
    st = nncl_graph_set_input(g, nncl_graph_input_name(g, slot), &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, nncl_graph_input_name(g, slot));
    bound[slot] = 1;
  }
  for (int i = 0; i < n_in && !rc; i++) {
    if (bound[i]) continue;
    nncl_shape shape;
    nncl_dtype dt;
    int guessed = 0;
    nncl_status st = nncl_graph_input_info(g, i, &dt, &shape);
    if (st == NNCL_OK) st = mi_input_shape(g, i, batch, &shape, &guessed);
    if (st != NNCL_OK) {
      fprintf(stderr, "nncl run: input '%s' has an unknown shape: give it with --input\n",
              nncl_graph_input_name(g, i));
      rc = 1;
      break;
    }
    nncl_array a;
    if (mi_generate(dt, &shape, (uint32_t)i + 1, &a) != NNCL_OK) {
      rc = 1;
      break;
    }
    char sb[128];
    printf("input  %-20s %s %s: no file given, using %s%s\n", nncl_graph_input_name(g, i),
           nncl_dtype_name(dt), nncl_shape_format(&shape, sb, sizeof sb),
           dt == NNCL_FLOAT32 ? "random values in [-1, 1)" : "zeros",
           guessed ? " (unknown dims set: batch to --batch, others to 1)" : "");
    st = nncl_graph_set_input(g, nncl_graph_input_name(g, i), &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, nncl_graph_input_name(g, i));
  }
  free(bound);
  return rc;
}

/* min / mean / max, and the top 5 classes of each row (up to 4 rows) of a 2-D float output. */
static void summarize(const nncl_array *a) {
  size_t n = (size_t)nncl_shape_numel(&a->shape);
  if (n == 0) {
    printf("       (empty)\n");
    return;
  }
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  size_t nans = 0;
  for (size_t i = 0; i < n; i++) {
    double v = mi_get(a, i);
    if (isnan(v)) {
      nans++;
      continue;
    }
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += v;
  }
  printf("       min %.6g  mean %.6g  max %.6g", lo, n > nans ? sum / (double)(n - nans) : NAN, hi);
  if (nans) printf("  (%zu NaN)", nans);
  printf("\n");
  if (a->shape.rank != 2 || a->shape.dims[1] < 2 ||
      (a->dtype != NNCL_FLOAT32 && a->dtype != NNCL_FLOAT16))
    return;
  int64_t rows = a->shape.dims[0], cols = a->shape.dims[1];
  for (int64_t r = 0; r < rows && r < 4; r++) {
    int top[5], k = cols < 5 ? (int)cols : 5;
    for (int t = 0; t < k; t++) {
      top[t] = -1;
      for (int64_t c = 0; c < cols; c++) {
        int taken = 0;
        for (int u = 0; u < t; u++) taken |= top[u] == c;
        if (taken) continue;
        double v = mi_get(a, (size_t)(r * cols + c));
        if (top[t] < 0 || v > mi_get(a, (size_t)(r * cols + top[t]))) top[t] = (int)c;
      }
    }
    printf("       row %lld top-%d:", (long long)r, k);
    for (int t = 0; t < k; t++)
      printf("  %d (%.4g)", top[t], mi_get(a, (size_t)(r * cols + top[t])));
    printf("\n");
  }
  if (rows > 4) printf("       ... %lld more rows\n", (long long)(rows - 4));
}

/* NAME.npy with characters unsafe in file names replaced. */
static void npy_path(char *buf, size_t len, const char *dir, const char *name) {
  int off = snprintf(buf, len, "%s/", dir);
  for (const char *p = name; *p && (size_t)off + 5 < len; p++) {
    char c = *p;
    int safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
    buf[off++] = safe ? c : '_';
  }
  snprintf(buf + off, len - (size_t)off, ".npy");
}

/* .npy holds float32 or int64: other dtypes are widened. */
static nncl_status save_npy(nncl_context *ctx, const char *path, const nncl_array *a) {
  if (a->dtype == NNCL_FLOAT32 || a->dtype == NNCL_INT64) return nncl_npy_save(ctx, path, a);
  nncl_array w;
  int to_float = a->dtype == NNCL_FLOAT16;
  nncl_status st = nncl_array_alloc(&w, to_float ? NNCL_FLOAT32 : NNCL_INT64, &a->shape);
  if (st != NNCL_OK) return st;
  size_t n = (size_t)nncl_shape_numel(&a->shape);
  for (size_t i = 0; i < n; i++) {
    if (to_float)
      ((float *)w.data)[i] = (float)mi_get(a, i);
    else
      ((int64_t *)w.data)[i] = (int64_t)mi_get(a, i);
  }
  st = nncl_npy_save(ctx, path, &w);
  nncl_array_free(&w);
  return st;
}

static int run(int argc, char **argv) {
  const char *device = NULL, *model = NULL, *outdir = NULL, *v;
  int64_t batch = 1;
  int n_specs = 0;
  char **specs = calloc((size_t)argc, sizeof *specs);
  if (!specs) return 1;
  for (int i = 1; i < argc; i++) {
    if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--input")))
      specs[n_specs++] = (char *)v;
    else if ((v = cli_value(argc, argv, &i, "--output-dir")))
      outdir = v;
    else if ((v = cli_value(argc, argv, &i, "--batch")))
      batch = atoll(v);
    else if (argv[i][0] == '-' && argv[i][1] == '-') {
      fprintf(stderr, "nncl run: unknown option %s\n", argv[i]);
      free(specs);
      return 2;
    } else if (!model)
      model = argv[i];
    else
      specs[n_specs++] = argv[i]; /* bare input files after the model */
  }
  if (!model || batch < 1) {
    fprintf(stderr, "usage: %s\n", cmd_run.usage);
    free(specs);
    return 2;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) {
    free(specs);
    return 1;
  }
  int rc = 0;
  double t0 = now_s();
  nncl_graph *g = mi_load_model(ctx, model);
  double t_load = now_s() - t0;
  if (!g) rc = 1;
  if (!rc) rc = bind_inputs(ctx, g, specs, n_specs, batch);
  double t_plan = 0, t_run = 0;
  nncl_status st = NNCL_OK;
  if (!rc) {
    t0 = now_s();
    st = nncl_graph_plan(g);
    t_plan = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "plan");
  }
  if (!rc) {
    t0 = now_s();
    st = nncl_graph_run(g);
    t_run = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "run");
  }
  double t_again = 0;
  if (!rc) { /* the steady-state time: programs built, memory planned */
    t0 = now_s();
    st = nncl_graph_run(g);
    t_again = now_s() - t0;
    if (st != NNCL_OK) rc = cli_fail(ctx, st, "second run");
  }
  if (!rc && outdir && mkdir(outdir, 0777) != 0 && !is_dir_ok(outdir)) {
    fprintf(stderr, "nncl run: cannot create %s\n", outdir);
    rc = 1;
  }
  for (int i = 0; !rc && i < nncl_graph_num_outputs(g); i++) {
    nncl_array a;
    st = nncl_graph_get_output(g, i, &a);
    if (st != NNCL_OK) {
      rc = cli_fail(ctx, st, nncl_graph_output_name(g, i));
      break;
    }
    char sb[128];
    printf("output %-20s %s %s\n", nncl_graph_output_name(g, i), nncl_dtype_name(a.dtype),
           nncl_shape_format(&a.shape, sb, sizeof sb));
    summarize(&a);
    if (outdir) {
      char path[4096];
      snprintf(path, sizeof path, "%s/output_%d.pb", outdir, i);
      st = nncl_onnx_save_tensor(ctx, path, &a, nncl_graph_output_name(g, i));
      if (st == NNCL_OK) {
        npy_path(path, sizeof path, outdir, nncl_graph_output_name(g, i));
        st = save_npy(ctx, path, &a);
      }
      if (st != NNCL_OK) rc = cli_fail(ctx, st, path);
    }
    nncl_array_free(&a);
  }
  if (!rc) {
    printf("time   %.2f ms per run (load %.1f ms, plan %.1f ms, first run %.1f ms with kernel "
           "builds)\n",
           1e3 * t_again, 1e3 * t_load, 1e3 * t_plan, 1e3 * t_run);
    if (outdir) printf("wrote  %s/output_K.pb and NAME.npy\n", outdir);
  }
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  free(specs);
  return rc;
}

const struct cli_command cmd_run = {
    "run", "run an ONNX model once on given or random inputs", run,
    "nncl run MODEL.onnx [--input [NAME=]FILE.npy|FILE.pb]... [FILE.pb...] [--output-dir DIR]\n"
    "       [--batch N (for unknown batch dims, default 1)] [--device D]\n"
    "       [--option KEY=VALUE]... (nncl options)"};
