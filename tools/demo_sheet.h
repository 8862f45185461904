/* demo_sheet.h: the demo's PNG files: one picture per class activation map and a contact sheet of
   them with the label, prediction and confidence under each tile. */
#ifndef NNCL_DEMO_SHEET_H
#define NNCL_DEMO_SHEET_H

#include <stdint.h>

#define DEMO_SIDE 28 /* Fashion-MNIST images are 28 x 28 */

typedef struct demo_tile {
  const uint8_t *grey; /* DEMO_SIDE x DEMO_SIDE image */
  const float *cam;    /* DEMO_SIDE x DEMO_SIDE map in [0, 1] of the predicted class */
  const char *label;   /* true class name */
  const char *pred;    /* predicted class name */
  float confidence;    /* softmax probability of the prediction */
  int correct;         /* prediction equals label (drawn green, else red) */
} demo_tile;

/* Writes the image, the heat map over it, and the heat map alone side by side, each pixel drawn
   `zoom` times larger. Returns 0 or -1. */
int demo_write_cam_png(const char *path, const demo_tile *t, int zoom);
/* Writes n tiles in rows of `cols` under a title line. Returns 0 or -1. */
int demo_write_contact_sheet(const char *path, const demo_tile *tiles, int n, int cols,
                             const char *title);

#endif
