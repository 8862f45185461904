/* test_image_prepare.c: `nncl classify`'s resizing and normalisation against hand-worked cases
   (exact: every expected value is a pixel or a midpoint of two, representable in float). */
#include <criterion/criterion.h>
#include <stdint.h>

#include "../tools/image_prepare.h"

static const float mean0[3] = {0, 0, 0}, std1[3] = {1, 1, 1};

Test(image_prepare, stretch_to_the_same_size_is_identity_over_255) {
  const uint8_t src[6] = {0, 51, 102, 153, 204, 255}; /* 3 x 2, grey */
  float out[6];
  image_prepare(src, 3, 2, 1, 3, 2, IMAGE_FIT_STRETCH, mean0, std1, out);
  for (int i = 0; i < 6; i++) cr_assert_float_eq(out[i], src[i] / 255.0f, 1e-7, "pixel %d", i);
}

Test(image_prepare, crop_takes_the_centre_of_the_longer_side) {
  const uint8_t src[8] = {10, 20, 30, 40, 50, 60, 70, 80}; /* 4 x 2: rows 10..40, 50..80 */
  float out[4];
  image_prepare(src, 4, 2, 1, 2, 2, IMAGE_FIT_CROP, mean0, std1, out);
  const float want[4] = {20, 30, 60, 70};
  for (int i = 0; i < 4; i++) cr_assert_float_eq(out[i], want[i] / 255.0f, 1e-6, "pixel %d", i);
}

Test(image_prepare, letterbox_pads_with_the_mean_and_normalises_per_channel) {
  /* a 2 x 1 colour picture into 2 wide x 4 high keeps scale 1 and sits in rows 1..2 (centred);
     rows 0 and 3 are padding: the mean colour, 0 after normalisation */
  const uint8_t src[6] = {255, 0, 51, 255, 0, 51}; /* 2 x 1, RGB */
  const float mean[3] = {0.5f, 0.25f, 0.1f}, std[3] = {0.5f, 0.25f, 0.5f};
  float out[3 * 4 * 2];
  image_prepare(src, 2, 1, 3, 2, 4, IMAGE_FIT_LETTERBOX, mean, std, out);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 4; i++)
      for (int j = 0; j < 2; j++) {
        float v = out[(c * 4 + i) * 2 + j];
        int inside = i == 1 || i == 2;
        float px = src[j * 3 + c] / 255.0f;
        float want = inside ? (px - mean[c]) / std[c] : 0.0f;
        cr_assert_float_eq(v, want, 1e-6, "channel %d row %d col %d: %g, want %g", c, i, j, v,
                           want);
      }
}
