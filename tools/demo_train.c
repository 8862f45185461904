/* demo_train.c: `nncl demo --train`: runs `nncl train` on the demo's CNN architecture (with its
   BatchNorms, untrained) with a fixed recipe and reports the test accuracy it reaches. */
#include "demo_train.h"

#include <limits.h>
#include <stdio.h>

#include "train_cli.h"

int demo_train(const char *models_dir, const char *data_dir, const char *device, int epochs) {
  char model[PATH_MAX + 64], n_epochs[24];
  snprintf(model, sizeof model, "%s/%s", models_dir, DEMO_TRAIN_MODEL);
  snprintf(n_epochs, sizeof n_epochs, "%d", epochs);
  /* Batches in file order (--no-shuffle) so that tools/torch_train_fashion.py takes the same
     ones; the cosine schedule anneals the rate to zero at the end, which keeps the final accuracy
     from jumping with the last few batches (both runs then end near the same optimum). */
  char *argv[32] = {"train",          model,     "--data",         "fashion-mnist", "--data-dir",
                    (char *)data_dir, "--init",  "kaiming",        "--seed",        DEMO_TRAIN_SEED,
                    "--optimizer",    "adam",    "--lr",           DEMO_TRAIN_LR,   "--lr-schedule",
                    "cosine",         "--batch", DEMO_TRAIN_BATCH, "--epochs",      n_epochs,
                    "--no-shuffle"};
  int argc = 21;
  if (device) {
    argv[argc++] = "--device";
    argv[argc++] = (char *)device;
  }
  printf("Training %s from scratch (Kaiming initialisation, seed " DEMO_TRAIN_SEED
         ") on the 60,000 Fashion-MNIST\ntraining images: Adam, lr " DEMO_TRAIN_LR
         " with cosine annealing, batches of " DEMO_TRAIN_BATCH " in file order, %d epoch%s;\n"
         "val = the 10,000 test images.\n\n",
         DEMO_TRAIN_MODEL, epochs, epochs == 1 ? "" : "s");
  fflush(stdout);
  double acc = -1.0;
  int rc = train_cli_run(argc, argv, &acc);
  if (rc == 0 && acc >= 0)
    printf("\nTest accuracy after %d epoch%s: %.2f%% (10,000 images)\n", epochs,
           epochs == 1 ? "" : "s", acc);
  return rc;
}
