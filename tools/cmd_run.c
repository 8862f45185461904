/* cmd_run.c: `nncl run MODEL.onnx [--input [NAME=]FILE]... [--output-dir DIR] [--batch N]
   [--device D]`: runs a model once. Inputs come from .npy or TensorProto .pb files (a bare file
   binds to the next unbound graph input in order), else are generated, saying so. Prints each
   output's name, shape and a summary (top-5 classes for a 2-D classifier output) and the times;
   --output-dir writes every output as output_K.pb (graph-output order, comparable with a test
   data set) and as NAME.npy. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* Binds every --input, then sizes the inputs to generate. Those whose size the model fixes are
   filled only after the plan accepted them (a shape too large for the device fails there, before
   gigabytes are filled); the others must be set first, as their shape decides the plan. Returns 0
   on success (the graph planned). */
static cJSON *shape_json(const nncl_shape *s) {
  cJSON *a = cJSON_CreateArray();
  for (int d = 0; d < s->rank; d++) cJSON_AddItemToArray(a, cJSON_CreateNumber((double)s->dims[d]));
  return a;
}

/* One input's line, or (with --json) its object in `list`. */
static void report_input(cJSON *list, const char *name, nncl_dtype dt, const nncl_shape *s,
                         const char *file, const char *note) {
  char sb[128];
  if (list) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "dtype", nncl_dtype_name(dt));
    cJSON_AddItemToObject(e, "shape", shape_json(s));
    cJSON_AddStringToObject(e, "source", file ? file : "generated");
    if (note && *note) cJSON_AddStringToObject(e, "note", note);
    cJSON_AddItemToArray(list, e);
  } else if (file) {
    printf("input  %-20s %s %s from %s\n", name, nncl_dtype_name(dt),
           nncl_shape_format(s, sb, sizeof sb), file);
  } else {
    printf("input  %-20s %s %s: no file given, using %s%s%s%s\n", name, nncl_dtype_name(dt),
           nncl_shape_format(s, sb, sizeof sb),
           dt == NNCL_FLOAT32 ? "random values in [-1, 1)" : "zeros", *note ? " (" : "", note,
           *note ? ")" : "");
  }
}

static int bind_inputs(nncl_context *ctx, nncl_graph *g, char **specs, int n_specs,
                       const mi_sizes *sz, double *t_plan, cJSON *list) {
  int n_in = nncl_graph_num_inputs(g);
  char *bound = calloc((size_t)n_in + 1, 1);
  nncl_shape *later = calloc((size_t)n_in + 1, sizeof *later);
  if (!bound || !later) {
    free(bound);
    free(later);
    fprintf(stderr, "nncl run: out of host memory\n");
    return 1;
  }
  int rc = 0;
  char names[1024], note[160];
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
      if (slot >= 0) {
        file = eq + 1;
      } else if (access(specs[s], F_OK) != 0) { /* NAME=FILE with an unknown name */
        mi_list_inputs(g, names, sizeof names);
        fprintf(stderr, "nncl run: --input %s: the model has no input \"%.*s\"; its inputs: %s\n",
                specs[s], (int)(eq - specs[s]), specs[s], names);
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
    if ((rc = mi_read_input(ctx, g, slot, file, &a)) != 0) break;
    report_input(list, nncl_graph_input_name(g, slot), a.dtype, &a.shape, file, "");
    nncl_status st = nncl_graph_set_input(g, nncl_graph_input_name(g, slot), &a);
    nncl_array_free(&a);
    if (st != NNCL_OK) rc = cli_fail(ctx, st, nncl_graph_input_name(g, slot));
    bound[slot] = 1;
  }
  /* generated inputs: shapes first; unknown-sized ones set now, fixed ones after the plan */
  for (int pass = 0; pass < 2 && !rc; pass++) {
    if (pass == 1) {
      double t0 = now_s();
      nncl_status st = nncl_graph_plan(g);
      *t_plan = now_s() - t0;
      if (st != NNCL_OK) {
        rc = cli_fail(ctx, st, "plan");
        break;
      }
    }
    for (int i = 0; i < n_in && !rc; i++) {
      if (bound[i]) continue;
      nncl_dtype dt;
      nncl_shape declared;
      const char *name = nncl_graph_input_name(g, i);
      nncl_status st = nncl_graph_input_info(g, i, &dt, &declared);
      if (st == NNCL_OK) st = mi_input_shape(g, i, sz, &later[i], note, sizeof note);
      if (st != NNCL_OK) {
        fprintf(stderr,
                "nncl run: input '%s' has an unknown rank: give it with --input or --shape\n",
                name);
        rc = 1;
        break;
      }
      int as_declared = !*note;
      if (as_declared != pass) continue;
      nncl_array a;
      if ((rc = mi_generate(ctx, "run", name, dt, &later[i], (uint32_t)i + 1, &a)) != 0) break;
      report_input(list, name, dt, &later[i], NULL, note);
      bound[i] = 1; /* its shape is now the set one: not generated again after the plan */
      st = nncl_graph_set_input(g, name, &a);
      nncl_array_free(&a);
      if (st != NNCL_OK) rc = cli_fail(ctx, st, name);
    }
  }
  free(bound);
  free(later);
  return rc;
}

/* min / mean / max, and the top 5 classes of each row (up to 4 rows) of a 2-D float output. */
static void summarize(const nncl_array *a, cJSON *e) {
  size_t n = (size_t)nncl_shape_numel(&a->shape);
  if (n == 0) {
    if (!e) printf("       (empty)\n");
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
  double mean = n > nans ? sum / (double)(n - nans) : NAN;
  if (e) {
    cJSON_AddNumberToObject(e, "min", lo);
    cJSON_AddNumberToObject(e, "mean", mean);
    cJSON_AddNumberToObject(e, "max", hi);
    cJSON_AddNumberToObject(e, "nan_count", (double)nans);
  } else {
    printf("       min %.6g  mean %.6g  max %.6g", lo, mean, hi);
    if (nans) printf("  (%zu NaN)", nans);
    printf("\n");
  }
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
    if (e) {
      cJSON *rows_j = cJSON_GetObjectItem(e, "top5");
      if (!rows_j) cJSON_AddItemToObject(e, "top5", rows_j = cJSON_CreateArray());
      cJSON *row = cJSON_CreateArray();
      for (int t = 0; t < k; t++) cJSON_AddItemToArray(row, cJSON_CreateNumber(top[t]));
      cJSON_AddItemToArray(rows_j, row);
      continue;
    }
    printf("       row %lld top-%d:", (long long)r, k);
    for (int t = 0; t < k; t++)
      printf("  %d (%.4g)", top[t], mi_get(a, (size_t)(r * cols + top[t])));
    printf("\n");
  }
  if (rows > 4 && !e) printf("       ... %lld more rows\n", (long long)(rows - 4));
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
  mi_sizes sz = {0};
  int n_specs = 0, r, json = 0;
  char **specs = calloc((size_t)argc, sizeof *specs);
  if (!specs) return 1;
  for (int i = 1; i < argc; i++) {
    if ((r = mi_parse_size_option(argc, argv, &i, &sz, "run")) != 0) {
      if (r < 0) {
        free(specs);
        return 2;
      }
    } else if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--input")))
      specs[n_specs++] = (char *)v;
    else if ((v = cli_value(argc, argv, &i, "--output-dir")))
      outdir = v;
    else if (cli_is(argv[i], "--json"))
      json = 1;
    else if (argv[i][0] == '-' && argv[i][1] == '-') {
      free(specs);
      return cli_unknown_option("run", argv[i]);
    } else if (!model)
      model = argv[i];
    else
      specs[n_specs++] = argv[i]; /* bare input files after the model */
  }
  if (!model) {
    free(specs);
    return cli_usage(&cmd_run);
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
  if (!rc) rc = mi_check_sizes(g, &sz, "run");
  double t_plan = 0, t_run = 0;
  cJSON *report = json ? cJSON_CreateObject() : NULL;
  cJSON *ins = json ? cJSON_AddArrayToObject(report, "inputs") : NULL;
  cJSON *outs = json ? cJSON_AddArrayToObject(report, "outputs") : NULL;
  if (!rc) rc = bind_inputs(ctx, g, specs, n_specs, &sz, &t_plan, ins);
  nncl_status st = NNCL_OK;
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
    cJSON *e = NULL;
    if (json) {
      e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "name", nncl_graph_output_name(g, i));
      cJSON_AddStringToObject(e, "dtype", nncl_dtype_name(a.dtype));
      cJSON_AddItemToObject(e, "shape", shape_json(&a.shape));
      cJSON_AddItemToArray(outs, e);
    } else {
      printf("output %-20s %s %s\n", nncl_graph_output_name(g, i), nncl_dtype_name(a.dtype),
             nncl_shape_format(&a.shape, sb, sizeof sb));
    }
    summarize(&a, e);
    if (outdir) {
      char pb[4096], npy[4096];
      snprintf(pb, sizeof pb, "%s/output_%d.pb", outdir, i);
      npy_path(npy, sizeof npy, outdir, nncl_graph_output_name(g, i));
      st = nncl_onnx_save_tensor(ctx, pb, &a, nncl_graph_output_name(g, i));
      if (st != NNCL_OK)
        rc = cli_fail(ctx, st, pb);
      else if ((st = save_npy(ctx, npy, &a)) != NNCL_OK)
        rc = cli_fail(ctx, st, npy);
      else if (e) {
        cJSON_AddStringToObject(e, "file_pb", pb);
        cJSON_AddStringToObject(e, "file_npy", npy);
      } else
        printf("       wrote %s and %s\n", pb, npy);
    }
    nncl_array_free(&a);
  }
  if (!rc && json) {
    cJSON_AddNumberToObject(report, "run_ms", 1e3 * t_again);
    cJSON_AddNumberToObject(report, "load_ms", 1e3 * t_load);
    cJSON_AddNumberToObject(report, "plan_ms", 1e3 * t_plan);
    cJSON_AddNumberToObject(report, "first_run_ms", 1e3 * t_run);
    cli_print_json(report);
    report = NULL;
  } else if (!rc) {
    printf("time   %.2f ms per run (load %.1f ms, plan %.1f ms, first run %.1f ms with kernel "
           "builds)\n",
           1e3 * t_again, 1e3 * t_load, 1e3 * t_plan, 1e3 * t_run);
  }
  cJSON_Delete(report);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  free(specs);
  return rc;
}

const struct cli_command cmd_run = {
    "run", "run an ONNX model once on given or random inputs", run,
    "nncl run MODEL.onnx [options] [FILE...]\n"
    "  Runs the model once (then once more for the steady-state time) and prints each output's\n"
    "  shape, min/mean/max and, for [N, classes] outputs, the top 5.\n"
    "  --input [NAME=]FILE     an input from .npy (float32/64, int8/32/64, uint8, bool; converted\n"
    "                          to the input's type) or ONNX TensorProto .pb; a bare FILE binds "
    "the\n"
    "                          next unbound input. Inputs without a file get random data.\n"
    "  --shape NAME=D0,D1,...  the shape of a generated input (default: the model's own dims)\n"
    "  --batch N               the batch dim of generated inputs where the model leaves it open:\n"
    "                          dim 0, else the first open dim (1)\n"
    "  --output-dir DIR        writes output K as DIR/output_K.pb and DIR/NAME.npy\n"
    "  --json                  inputs, outputs (shape, min/mean/max, top-5, files) and times as "
    "JSON\n"
    "  --option KEY=VALUE      a tuning or forcing switch, repeatable (nncl options lists them)\n"
    "  --device D              gpu, cpu, P:D or part of a device name (default: NNCL_DEVICE)\n"
    "  --verbose               shows kernel builds and the compiler's logs"};
