/* demo_prepare.h: turns a user's grey picture of any size into a Fashion-MNIST-like 28x28 image. */
#ifndef NNCL_DEMO_PREPARE_H
#define NNCL_DEMO_PREPARE_H

#include <stdint.h>

/* Pads src (w x h grey bytes) to a square with its border's mean grey, averages it down (or
   repeats pixels up) to 28 x 28, and inverts it when asked: invert 1 always, 0 never, -1 when
   the border is brighter than mid-grey (Fashion-MNIST shows light clothes on black, photos are
   usually dark things on white). *inverted (may be NULL) tells whether it did. */
void demo_prepare_image(const uint8_t *src, int w, int h, int invert, uint8_t out[28 * 28],
                        int *inverted);

#endif
