/* cmd_demo.c: `nncl demo`: classifies the 10,000 Fashion-MNIST test images with a CNN and a GRU
   on the device, checks the accuracies against the model cards, and draws class activation maps
   (computed on the device) of the first test images as PNG files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "demo_cam.h"
#include "demo_eval.h"
#include "demo_idx.h"
#include "demo_sheet.h"
#include "demo_train.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
#define NUM_CAMS 16
#define CARD_TOLERANCE 0.1 /* percentage points between nncl's and PyTorch's accuracy */

typedef struct demo_model {
  const char *file;  /* under the models folder */
  const char *label; /* progress bar and tables */
  demo_eval eval;
  double card_accuracy;  /* percent from the model card, < 0 when unknown */
  double flop_per_image; /* from the planned graph; 0 when unknown */
} demo_model;

/* The models folder: --models, else ./models, else next to the source tree the binary was built
   in (build-x/tools/nncl -> models), else the installed share folder. */
static int find_models(const char *given, char *dir, size_t len) {
  struct stat sb;
  if (given) {
    snprintf(dir, len, "%s", given);
    return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
  }
  char exe[PATH_MAX - 32]; /* leaves room for the candidates below */
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = 0;
  char *slash = strrchr(exe, '/');
  if (slash) *slash = 0;
  const char *candidates[] = {"models", "../../models", "../share/nncl/models"};
  for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
    if (i == 0)
      snprintf(dir, len, "%s", candidates[i]);
    else if (*exe)
      snprintf(dir, len, "%s/%s", exe, candidates[i]);
    else
      continue;
    char probe[PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/fashion_cnn.onnx", dir);
    if (stat(probe, &sb) == 0) return 0;
  }
  return -1;
}

/* The "PyTorch test accuracy: 90.12%" line of MODEL.md next to MODEL.onnx; -1 when absent. */
static double card_accuracy(const char *dir, const char *onnx_file) {
  char path[PATH_MAX + 64], line[512];
  snprintf(path, sizeof path, "%s/%.*s.md", dir, (int)(strlen(onnx_file) - strlen(".onnx")),
           onnx_file);
  FILE *f = fopen(path, "r");
  if (!f) return -1.0;
  double acc = -1.0;
  const char *key = "PyTorch test accuracy:";
  while (fgets(line, sizeof line, f)) {
    char *p = strstr(line, key);
    if (p && sscanf(p + strlen(key), " %lf", &acc) == 1) break;
  }
  fclose(f);
  return acc;
}

static int make_dir(const char *dir) {
  if (mkdir(dir, 0755) == 0 || errno == EEXIST) return 0;
  fprintf(stderr, "nncl demo: cannot create %s: %s\n", dir, strerror(errno));
  return -1;
}

static void print_confusion(demo_model *models, int n_models, const demo_idx *labels) {
  long per_class[DEMO_NUM_CLASSES] = {0};
  for (size_t i = 0; i < labels->count; i++) per_class[labels->data[i]]++;
  printf("\nPer-class accuracy (%%):\n  %-12s", "class");
  for (int m = 0; m < n_models; m++) printf(" %7s", models[m].label);
  printf("\n");
  for (int c = 0; c < DEMO_NUM_CLASSES; c++) {
    printf("  %-12s", demo_class_names[c]);
    for (int m = 0; m < n_models; m++)
      printf(" %7.1f", per_class[c]
                           ? 100.0 * (double)models[m].eval.confusion[c][c] / (double)per_class[c]
                           : 0.0);
    printf("\n");
  }
  for (int m = 0; m < n_models; m++) {
    /* The three largest off-diagonal cells of the confusion matrix. */
    printf("Most confused (%s):", models[m].label);
    long taken[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    for (int k = 0; k < 3; k++) {
      long best = 0;
      int bt = -1, bp = -1;
      for (int t = 0; t < DEMO_NUM_CLASSES; t++)
        for (int p = 0; p < DEMO_NUM_CLASSES; p++) {
          int used = 0;
          for (int j = 0; j < k; j++) used |= taken[j][0] == t && taken[j][1] == p;
          if (t != p && !used && models[m].eval.confusion[t][p] > best) {
            best = models[m].eval.confusion[t][p];
            bt = t;
            bp = p;
          }
        }
      if (bt < 0) break;
      taken[k][0] = bt;
      taken[k][1] = bp;
      printf("%s %s as %s (%ld)", k ? "," : "", demo_class_names[bt], demo_class_names[bp], best);
    }
    printf("\n");
  }
}

/* CAMs of the first images: the CNN again, with the CAM nodes added after its feature maps. */
static int write_cams(nncl_context *ctx, const char *model_path, const demo_idx *images,
                      const demo_idx *labels, const char *out_dir) {
  nncl_graph *g = NULL;
  nncl_array in, logits, cams;
  memset(&in, 0, sizeof in);
  memset(&logits, 0, sizeof logits);
  memset(&cams, 0, sizeof cams);
  const int n = images->count < NUM_CAMS ? (int)images->count : NUM_CAMS;
  const nncl_shape shape = {4, {n, 1, DEMO_SIDE, DEMO_SIDE}};
  /* Two 2x2 max-pools take 28 x 28 to 7 x 7 feature maps: a 4x linear upsampling restores 28. */
  const float scale = 4.0f;
  nncl_status st;
  int rc = 1;
  if ((st = nncl_onnx_load(ctx, model_path, &g)) != NNCL_OK) {
    cli_fail(ctx, st, model_path);
    goto done;
  }
  if ((st = demo_cam_add(g, "features", "fc.weight", scale, "cam")) != NNCL_OK) {
    cli_fail(ctx, st, "adding the class-activation-map nodes");
    goto done;
  }
  if ((st = nncl_array_alloc(&in, NNCL_FLOAT32, &shape)) != NNCL_OK) goto done;
  demo_pixels_to_input(images->data, (size_t)n * images->item_size, in.data);
  if ((st = nncl_graph_set_input(g, nncl_graph_input_name(g, 0), &in)) != NNCL_OK ||
      (st = nncl_graph_run(g)) != NNCL_OK ||
      (st = nncl_graph_get_output(g, 0, &logits)) != NNCL_OK ||
      (st = nncl_graph_get_output_by_name(g, "cam", &cams)) != NNCL_OK) {
    cli_fail(ctx, st, "computing class activation maps");
    goto done;
  }
  if (cams.shape.rank != 4 || cams.shape.dims[0] != n || cams.shape.dims[1] != DEMO_NUM_CLASSES ||
      cams.shape.dims[2] != DEMO_SIDE || cams.shape.dims[3] != DEMO_SIDE) {
    char got[96];
    fprintf(stderr, "nncl demo: class activation maps are %s, expected [%d, %d, %d, %d]\n",
            nncl_shape_format(&cams.shape, got, sizeof got), n, DEMO_NUM_CLASSES, DEMO_SIDE,
            DEMO_SIDE);
    goto done;
  }
  demo_tile tiles[NUM_CAMS];
  const size_t map = DEMO_SIDE * DEMO_SIDE;
  for (int i = 0; i < n; i++) {
    float conf;
    int pred = demo_argmax_softmax((const float *)logits.data + i * DEMO_NUM_CLASSES,
                                   DEMO_NUM_CLASSES, &conf);
    int label = labels->data[i];
    tiles[i] =
        (demo_tile){images->data + (size_t)i * map,
                    (const float *)cams.data + ((size_t)i * DEMO_NUM_CLASSES + (size_t)pred) * map,
                    demo_class_names[label],
                    demo_class_names[pred],
                    conf,
                    pred == label};
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cam_%02d.png", out_dir, i);
    if (demo_write_cam_png(path, &tiles[i], 8) != 0) {
      fprintf(stderr, "nncl demo: cannot write %s\n", path);
      goto done;
    }
  }
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/contact_sheet.png", out_dir);
  if (demo_write_contact_sheet(path, tiles, n, 4, "nncl: class activation maps, fashion_cnn") !=
      0) {
    fprintf(stderr, "nncl demo: cannot write %s\n", path);
    goto done;
  }
  printf("\nClass activation maps of the first %d test images (predicted class, computed on the "
         "device):\n"
         "  %s/cam_00.png ... cam_%02d.png (image | map over image | map) and %s\n",
         n, out_dir, n - 1, path);
  rc = 0;
done:
  if (st == NNCL_ERR_OUT_OF_HOST_MEMORY) fprintf(stderr, "nncl demo: out of host memory\n");
  nncl_array_free(&in);
  nncl_array_free(&logits);
  nncl_array_free(&cams);
  nncl_graph_destroy(g);
  return rc;
}

static int run(int argc, char **argv) {
  const char *device = NULL, *data = DEFAULT_DATA, *out_dir = "demo-out", *models_opt = NULL;
  int batch = 1000, train = 0, epochs = DEMO_TRAIN_EPOCHS;
  for (int i = 1; i < argc; i++) {
    const char *v;
    if (cli_is(argv[i], "--train"))
      train = 1;
    else if ((v = cli_value(argc, argv, &i, "--epochs"))) {
      long long e;
      if (cli_long("demo", "--epochs", v, 1, 1000000, &e)) return 2;
      epochs = (int)e;
    } else if ((v = cli_value(argc, argv, &i, "--device")))
      device = v;
    else if ((v = cli_value(argc, argv, &i, "--data")))
      data = v;
    else if ((v = cli_value(argc, argv, &i, "--out")))
      out_dir = v;
    else if ((v = cli_value(argc, argv, &i, "--models")))
      models_opt = v;
    else if ((v = cli_value(argc, argv, &i, "--batch"))) {
      long long b;
      if (cli_long("demo", "--batch", v, 1, 1 << 30, &b)) return 2;
      batch = (int)b;
    } else {
      cli_unknown_option("demo", argv[i]);
      return 2;
    }
  }
  char models_dir[PATH_MAX];
  if (find_models(models_opt, models_dir, sizeof models_dir) != 0) {
    fprintf(stderr, "nncl demo: cannot find the models folder%s%s (give it with --models DIR)\n",
            models_opt ? " " : "", models_opt ? models_opt : "");
    return 1;
  }
  if (train) return demo_train(models_dir, data, device, epochs);
  demo_idx images, labels;
  char err[4096];
  if (demo_idx_read_split(data, "t10k", &images, &labels, err, sizeof err) != 0) {
    fprintf(stderr,
            "nncl demo: %s\n(Debian: apt install dataset-fashion-mnist, or give --data DIR)\n",
            err);
    return 1;
  }
  nncl_context *ctx = cli_open_context(device);
  if (!ctx) {
    demo_idx_free(&images);
    demo_idx_free(&labels);
    return 1;
  }
  printf("Fashion-MNIST test set: %zu images of 28x28 from %s\n", images.count, data);
  printf("Device: %s (%s)\n", nncl_context_device(ctx)->name,
         nncl_context_device(ctx)->platform_name);
  printf("Models: %s, batches of %d\n\n", models_dir, batch);

  demo_model models[] = {{"fashion_cnn.onnx", "CNN", {0}, -1.0, 0.0},
                         {"fashion_gru.onnx", "GRU", {0}, -1.0, 0.0}};
  const int n_models = (int)(sizeof models / sizeof *models);
  int rc = 0, evaluated = 0;
  char path[PATH_MAX + 64];
  for (int m = 0; m < n_models && rc == 0; m++) {
    snprintf(path, sizeof path, "%s/%s", models_dir, models[m].file);
    models[m].card_accuracy = card_accuracy(models_dir, models[m].file);
    nncl_graph *g = NULL;
    nncl_status st = nncl_onnx_load(ctx, path, &g);
    if (st != NNCL_OK) {
      rc = cli_fail(ctx, st, path);
    } else if (demo_eval_run(g, &images, &labels, batch, models[m].label, &models[m].eval) !=
               NNCL_OK) {
      rc = 1;
    } else {
      /* The plan holds the last batch's shape. */
      long last = (long)images.count - (long)(images.count - 1) / batch * batch;
      nncl_graph_summary sum;
      if (nncl_graph_summarize(g, &sum) == NNCL_OK && sum.flops > 0)
        models[m].flop_per_image = sum.flops / (double)last;
      evaluated++;
    }
    nncl_graph_destroy(g);
  }
  if (evaluated > 0) {
    printf("\n  %-5s %9s %9s %10s %10s %8s %12s\n", "model", "accuracy", "PyTorch", "images/s",
           "MFLOP/img", "GFLOP/s", "first batch");
    for (int m = 0; m < evaluated; m++) {
      const demo_eval *e = &models[m].eval;
      double acc = 100.0 * (double)e->correct / (double)e->count;
      double rate = e->steady_images ? (double)e->steady_images / e->steady_s
                                     : (double)e->count / e->first_batch_s;
      char card[32] = "no card";
      if (models[m].card_accuracy >= 0)
        snprintf(card, sizeof card, "%.2f%%", models[m].card_accuracy);
      double mflop = models[m].flop_per_image * 1e-6;
      printf("  %-5s %8.2f%% %9s %10.0f %10.2f %8.1f %10.2f s\n", models[m].label, acc, card, rate,
             mflop, mflop * rate * 1e-3, e->first_batch_s);
      if (models[m].card_accuracy < 0) {
        fflush(stdout);
        fprintf(stderr, "nncl demo: %s has no model card with a \"PyTorch test accuracy:\" line\n",
                models[m].file);
        rc = 1;
      } else if (acc - models[m].card_accuracy > CARD_TOLERANCE ||
                 models[m].card_accuracy - acc > CARD_TOLERANCE) {
        fflush(stdout);
        fprintf(stderr,
                "nncl demo: %s: accuracy %.2f%% differs from the model card's %.2f%% by more than "
                "%.1f points\n",
                models[m].file, acc, models[m].card_accuracy, CARD_TOLERANCE);
        rc = 1;
      }
    }
    printf(
        "  (images/s over all batches after the first; the first includes planning, weight upload\n"
        "   and kernel compilation)\n");
    print_confusion(models, evaluated, &labels);
  }
  /* The maps are worth drawing even when an accuracy is off: they help to see why. */
  if (evaluated > 0) {
    snprintf(path, sizeof path, "%s/%s", models_dir, models[0].file);
    if (make_dir(out_dir) != 0 || write_cams(ctx, path, &images, &labels, out_dir) != 0) rc = 1;
  }
  for (int m = 0; m < n_models; m++) demo_eval_free(&models[m].eval);
  demo_idx_free(&images);
  demo_idx_free(&labels);
  nncl_context_destroy(ctx);
  return rc;
}

const struct cli_command cmd_demo = {
    "demo", "Fashion-MNIST: CNN and GRU accuracy, throughput, class activation maps", run,
    "nncl demo [--device D] [--data DIR] [--out DIR] [--batch N] [--models DIR]\n"
    "nncl demo --train [--epochs N (1)] [--device D] [--data DIR] [--models DIR]\n"
    "  Classifies the 10,000 Fashion-MNIST test images (IDX files in DIR, default " DEFAULT_DATA
    ")\n"
    "  with models/fashion_cnn.onnx and models/fashion_gru.onnx, prints accuracy (checked against\n"
    "  the model cards), throughput and confusions, and writes class activation maps of the first\n"
    "  16 images as PNG files to --out (default ./demo-out). Exit status 1 when an accuracy "
    "differs\n"
    "  from its model card by more than 0.1 points.\n"
    "  --train instead trains the CNN's architecture (models/" DEMO_TRAIN_MODEL ") from scratch\n"
    "  on the 60,000 training images (Kaiming initialisation, Adam, lr " DEMO_TRAIN_LR " cosine, "
    "batch " DEMO_TRAIN_BATCH ",\n"
    "  file order) and prints the test accuracy; one epoch takes a few minutes on 2 CPU cores."};
