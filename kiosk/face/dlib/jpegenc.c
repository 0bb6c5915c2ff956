#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include "jpegenc.h"

struct err_mgr {
	struct jpeg_error_mgr pub;
	jmp_buf jump;
};

static void on_error(j_common_ptr cinfo) {
	struct err_mgr* e = (struct err_mgr*)cinfo->err;
	longjmp(e->jump, 1);
}

int ikd_encode_ycbcr(const uint8_t* y, int ystride, const uint8_t* cb, const uint8_t* cr, int cstride,
                     int minx, int miny, int w, int h, int sx, int sy, int quality,
                     unsigned char** out, unsigned long* outlen, char* err, size_t errlen) {
	struct jpeg_compress_struct cinfo;
	struct err_mgr jerr;
	// volatile: modified between setjmp and a possible longjmp.
	unsigned char* volatile row = NULL;
	*out = NULL;
	*outlen = 0;
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = on_error;
	if (setjmp(jerr.jump)) {
		char msg[JMSG_LENGTH_MAX];
		(*cinfo.err->format_message)((j_common_ptr)&cinfo, msg);
		snprintf(err, errlen, "libjpeg: %s", msg);
		jpeg_destroy_compress(&cinfo);
		free(row);
		free(*out);
		*out = NULL;
		return -1;
	}
	jpeg_create_compress(&cinfo);
	jpeg_mem_dest(&cinfo, out, outlen);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = 3;
	cinfo.in_color_space = JCS_YCbCr; // no colour conversion: the planes are already YCbCr
	jpeg_set_defaults(&cinfo);        // 4:2:0 output, like Go's encoder
	jpeg_set_quality(&cinfo, quality, TRUE);
	cinfo.dct_method = JDCT_ISLOW;
	jpeg_start_compress(&cinfo, TRUE);
	row = malloc((size_t)w * 3);
	if (!row) {
		snprintf(err, errlen, "out of memory");
		jpeg_destroy_compress(&cinfo);
		free(*out);
		*out = NULL;
		return -1;
	}
	while (cinfo.next_scanline < cinfo.image_height) {
		int py = miny + (int)cinfo.next_scanline;
		const uint8_t* yr = y + (size_t)(py - miny) * ystride;
		size_t crow = (size_t)((py >> sy) - (miny >> sy)) * cstride;
		for (int x = 0; x < w; x++) {
			int px = minx + x;
			size_t ci = crow + (size_t)((px >> sx) - (minx >> sx));
			row[3 * x] = yr[x];
			row[3 * x + 1] = cb[ci];
			row[3 * x + 2] = cr[ci];
		}
		JSAMPROW rows[1] = {row};
		jpeg_write_scanlines(&cinfo, rows, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	free(row);
	return 0;
}
