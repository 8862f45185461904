/* caption_picture.h: a PNG of one captioned picture: the picture, then one panel per word with the
   decoder's attention over the picture when it chose that word. */
#ifndef NNCL_CAPTION_PICTURE_H
#define NNCL_CAPTION_PICTURE_H

/* pixels [CAPTION_PIXELS] in [0, 1], tokens [steps], attention [steps, CAPTION_GRID^2]. Returns 0,
   or -1 (printed) when the file cannot be written. */
int caption_picture_write(const char *path, const float *pixels, const int *tokens, int steps,
                          const float *attention, const char *title);

#endif
