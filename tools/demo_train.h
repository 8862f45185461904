/* demo_train.h: `nncl demo --train`: the demo's CNN trained from scratch on Fashion-MNIST. */
#ifndef NNCL_DEMO_TRAIN_H
#define NNCL_DEMO_TRAIN_H

/* The recipe, shared with tools/torch_train_fashion.py's defaults (keep them equal). */
#define DEMO_TRAIN_MODEL "train/fashion_cnn_train.onnx"
#define DEMO_TRAIN_LR "0.003"
#define DEMO_TRAIN_BATCH "64"
#define DEMO_TRAIN_EPOCHS 1
#define DEMO_TRAIN_SEED "1"

/* Trains models_dir/DEMO_TRAIN_MODEL (Kaiming initialisation, Adam, cosine learning rate, batches
   in file order) on the 60,000 training images of data_dir for `epochs` epochs, evaluates it on the
   10,000 test images after each and prints the final test accuracy; device may be NULL. Returns
   the exit status. */
int demo_train(const char *models_dir, const char *data_dir, const char *device, int epochs);

#endif
