/* cmd_classify.c: `nncl classify MODEL.onnx IMAGE...`: the top classes of an image classifier for
   the user's own pictures (PNG, JPEG, BMP, ...). Input size and channels come from the model
   ([N, C, H, W], C 1 or 3); pictures are resized (centre-crop, letterbox or stretch) and
   normalised with --mean/--std. A 28x28 grey model without those options gets the Fashion-MNIST
   treatment (pad to square, invert light backgrounds, class names), the demo's default. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stb/stb_image.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "demo_eval.h"
#include "demo_idx.h"
#include "image_input.h"

#define MAX_LABELS 100000

struct opts {
  const char *device, *model, *labels, *save_input;
  int invert, top, json, fashion_off;
  image_fit fit;
  float mean[3], std[3];
  int mean_given, std_given;
};

/* "a" or "a,b,c" into v[3] (one value repeats); -1 when malformed. */
static int parse_triple(const char *s, float v[3]) {
  char *end;
  for (int i = 0; i < 3; i++) {
    v[i] = strtof(s, &end);
    if (end == s) return -1;
    if (*end == 0 && i == 0) {
      v[1] = v[2] = v[0];
      return 0;
    }
    if (i < 2 && *end != ',') return -1;
    s = end + 1;
  }
  return *end == 0 ? 0 : -1;
}

/* One label per line; returns the count (0 when unreadable), *out malloc'ed. */
static int read_labels(const char *path, char ***out) {
  FILE *f = fopen(path, "r");
  *out = NULL;
  if (!f) return 0;
  char line[1024];
  int n = 0, cap = 0;
  char **v = NULL;
  while (n < MAX_LABELS && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nv = realloc(v, (size_t)cap * sizeof *nv);
      if (!nv) break;
      v = nv;
    }
    if (!(v[n] = strdup(line))) break;
    n++;
  }
  fclose(f);
  *out = v;
  return n;
}

static int parse(int argc, char **argv, struct opts *o, const char **paths, int *n_images) {
  for (int i = 1; i < argc; i++) {
    const char *v;
    if ((v = cli_value(argc, argv, &i, "--device"))) {
      o->device = v;
    } else if ((v = cli_value(argc, argv, &i, "--invert"))) {
      o->invert = strcmp(v, "auto") == 0  ? -1
                  : strcmp(v, "yes") == 0 ? 1
                  : strcmp(v, "no") == 0  ? 0
                                          : 2;
      if (o->invert == 2) {
        fprintf(stderr, "nncl classify: --invert takes auto, yes or no, not \"%s\"\n", v);
        return 2;
      }
    } else if ((v = cli_value(argc, argv, &i, "--fit"))) {
      o->fashion_off = 1;
      if (strcmp(v, "crop") == 0)
        o->fit = IMAGE_FIT_CROP;
      else if (strcmp(v, "letterbox") == 0)
        o->fit = IMAGE_FIT_LETTERBOX;
      else if (strcmp(v, "stretch") == 0)
        o->fit = IMAGE_FIT_STRETCH;
      else {
        fprintf(stderr, "nncl classify: --fit takes crop, letterbox or stretch, not \"%s\"\n", v);
        return 2;
      }
    } else if ((v = cli_value(argc, argv, &i, "--mean")) ||
               (v = cli_value(argc, argv, &i, "--std"))) {
      int is_mean = strncmp(argv[i - (argv[i] == v ? 1 : 0)], "--mean", 6) == 0;
      if (parse_triple(v, is_mean ? o->mean : o->std) != 0 ||
          (!is_mean && (o->std[0] == 0 || o->std[1] == 0 || o->std[2] == 0))) {
        fprintf(stderr, "nncl classify: %s takes V or V1,V2,V3 (std non-zero), not \"%s\"\n",
                is_mean ? "--mean" : "--std", v);
        return 2;
      }
      *(is_mean ? &o->mean_given : &o->std_given) = 1;
      o->fashion_off = 1;
    } else if ((v = cli_value(argc, argv, &i, "--labels"))) {
      o->labels = v;
    } else if ((v = cli_value(argc, argv, &i, "--save-input"))) {
      o->save_input = v;
    } else if ((v = cli_value(argc, argv, &i, "--top"))) {
      long long t;
      if (cli_long("classify", "--top", v, 1, 1000000, &t)) return 2;
      o->top = (int)t;
    } else if (cli_is(argv[i], "--json")) {
      o->json = 1;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cli_unknown_option("classify", argv[i]);
    } else if (!o->model) {
      o->model = argv[i];
    } else {
      paths[(*n_images)++] = argv[i];
    }
  }
  if (!o->model || *n_images == 0) return cli_usage(&cmd_classify);
  return 0;
}

static int run(int argc, char **argv) {
  struct opts o = {.invert = -1, .top = 3, .fit = IMAGE_FIT_CROP};
  int n_images = 0, rc = 1;
  const char **paths = calloc((size_t)argc, sizeof *paths);
  if (!paths) return 1;
  int prc = parse(argc, argv, &o, paths, &n_images);
  if (prc) {
    free(paths);
    return prc;
  }
  nncl_context *ctx = NULL;
  nncl_graph *g = NULL;
  nncl_array all, in, logits;
  memset(&all, 0, sizeof all);
  memset(&in, 0, sizeof in);
  memset(&logits, 0, sizeof logits);
  char **labels = NULL;
  int n_labels = 0;
  cJSON *json = o.json ? cJSON_CreateArray() : NULL;
  if (o.labels && (n_labels = read_labels(o.labels, &labels)) == 0) {
    fprintf(stderr, "nncl classify: cannot read labels from %s (one per line)\n", o.labels);
    goto done;
  }
  if (!(ctx = cli_open_context(o.device))) goto done;
  nncl_status st = nncl_onnx_load(ctx, o.model, &g);
  if (st != NNCL_OK) {
    cli_fail(ctx, st, o.model);
    goto done;
  }
  image_input ii;
  if (image_input_of(g, "classify", o.model, &ii) != 0) goto done;
  ii.fashion &= !o.fashion_off;
  if (o.mean_given) memcpy(ii.mean, o.mean, sizeof ii.mean);
  if (o.std_given) memcpy(ii.std, o.std, sizeof ii.std);
  const int c = ii.c, oh = ii.h, ow = ii.w, fashion = ii.fashion;
  const nncl_shape one = {4, {1, c, oh, ow}}, every = {4, {n_images, c, oh, ow}};
  if ((st = nncl_array_alloc(&in, NNCL_FLOAT32, &one)) != NNCL_OK ||
      (o.save_input && (st = nncl_array_alloc(&all, NNCL_FLOAT32, &every)) != NNCL_OK)) {
    cli_fail(ctx, st, "input");
    goto done;
  }
  const size_t per = (size_t)c * (size_t)oh * (size_t)ow;
  for (int i = 0; i < n_images; i++) {
    int w, h, got, inverted = 0;
    unsigned char *img = stbi_load(paths[i], &w, &h, &got, c);
    if (!img) {
      fprintf(stderr, "nncl classify: cannot read %s: %s\n", paths[i], stbi_failure_reason());
      goto done;
    }
    int fill = image_input_fill(&ii, img, w, h, c, o.fit, o.invert, in.data, NULL, &inverted);
    stbi_image_free(img);
    if (fill != 0) {
      fprintf(stderr, "nncl classify: out of memory preparing %s\n", paths[i]);
      goto done;
    }
    if (all.data) memcpy((float *)all.data + (size_t)i * per, in.data, per * sizeof(float));
    nncl_array_free(&logits);
    if ((st = nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &in)) != NNCL_OK ||
        (st = nncl_graph_run(g)) != NNCL_OK ||
        (st = nncl_graph_get_output(g, 0, &logits)) != NNCL_OK) {
      cli_fail(ctx, st, o.model);
      goto done;
    }
    if (logits.dtype != NNCL_FLOAT32 || logits.shape.rank != 2 || logits.shape.dims[0] != 1 ||
        logits.shape.dims[1] < 1) {
      char got_s[96];
      fprintf(stderr, "nncl classify: %s: output 0 is %s, expected scores [1, classes]\n", o.model,
              nncl_shape_format(&logits.shape, got_s, sizeof got_s));
      goto done;
    }
    const int k = (int)logits.shape.dims[1];
    const float *l = logits.data;
    float best_prob;
    int best = demo_argmax_softmax(l, k, &best_prob), taken[16];
    double sum = 0.0;
    for (int j = 0; j < k; j++) sum += exp((double)l[j] - (double)l[best]);
    cJSON *item = json ? cJSON_CreateObject() : NULL, *top = json ? cJSON_CreateArray() : NULL;
    if (json) {
      cJSON_AddStringToObject(item, "image", paths[i]);
      cJSON_AddBoolToObject(item, "inverted", inverted);
      cJSON_AddItemToObject(item, "top", top);
      cJSON_AddItemToArray(json, item);
    } else {
      printf("%s%s:", paths[i], inverted ? " (inverted)" : "");
    }
    for (int t = 0; t < o.top && t < k && t < 16; t++) {
      int arg = -1;
      for (int j = 0; j < k; j++) {
        int used = 0;
        for (int u = 0; u < t; u++) used |= taken[u] == j;
        if (!used && (arg < 0 || l[j] > l[arg])) arg = j;
      }
      taken[t] = arg;
      double p = exp((double)l[arg] - (double)l[best]) / sum;
      const char *name = arg < n_labels                                ? labels[arg]
                         : fashion && k == DEMO_NUM_CLASSES && !labels ? demo_class_names[arg]
                                                                       : NULL;
      if (json) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "class", arg);
        if (name) cJSON_AddStringToObject(e, "label", name);
        cJSON_AddNumberToObject(e, "probability", p);
        cJSON_AddItemToArray(top, e);
      } else if (name) {
        printf("%s %s %.1f%%", t ? "," : "", name, 100.0 * p);
      } else {
        printf("%s class %d %.1f%%", t ? "," : "", arg, 100.0 * p);
      }
    }
    if (!json) printf("\n");
  }
  if (o.save_input && (st = nncl_npy_save(ctx, o.save_input, &all)) != NNCL_OK) {
    cli_fail(ctx, st, o.save_input);
    goto done;
  }
  if (json) {
    cli_print_json(json);
    json = NULL;
  }
  rc = 0;
done:
  cJSON_Delete(json);
  for (int i = 0; i < n_labels; i++) free(labels[i]);
  free(labels);
  nncl_array_free(&all);
  nncl_array_free(&in);
  nncl_array_free(&logits);
  nncl_graph_destroy(g);
  nncl_context_destroy(ctx);
  free(paths);
  return rc;
}

const struct cli_command cmd_classify = {
    "classify", "top classes of an image classifier for your own pictures", run,
    "nncl classify MODEL.onnx IMAGE... [options]\n"
    "  Input size and channels come from the model ([N, C, H, W], C 1 or 3; unknown sizes 224).\n"
    "  A 28x28 grey model (the demo's Fashion-MNIST CNN) gets the demo's treatment by default:\n"
    "  padded to a square, scaled to 28x28, inverted when its border is light, class names.\n"
    "  --fit crop|letterbox|stretch  resize: centre-crop (default), pad to the aspect, or stretch\n"
    "  --mean V|R,G,B  --std V|R,G,B  normalisation of pixels in [0, 1] (colour models default to\n"
    "                                 ImageNet's 0.485,0.456,0.406 / 0.229,0.224,0.225; grey 0 / "
    "1)\n"
    "  --labels FILE                  class names, one per line\n"
    "  --top K                        classes shown per picture (3, at most 16)\n"
    "  --invert auto|yes|no           Fashion-MNIST treatment: invert light backgrounds (auto)\n"
    "  --save-input FILE.npy          writes the tensor the model saw, [images, C, H, W]\n"
    "  --json                         one object per picture: image, top classes, probabilities\n"
    "  --device D                     gpu, cpu, P:D or part of a device name"};
