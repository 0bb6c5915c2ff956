// dlib's HOG face detector alone: go-face runs the detector, the landmark model and the
// descriptor network in one call, so a frame whose face must be described from another image
// would pay for a descriptor it throws away. It detects on RGB as go-face does: on grey alone
// it misses faces that colour edges give away (a shared photo at full size, for one).
#include <cstring>
#include <mutex>
#include <dlib/image_processing/frontal_face_detector.h>
#include "hogdetect.h"

struct hog_detector {
	dlib::frontal_face_detector det = dlib::get_frontal_face_detector();
	std::mutex mu; // object_detector's operator() keeps scratch state
	dlib::array2d<dlib::rgb_pixel> img;
};

hog_detector* hog_new(void) {
	try {
		return new hog_detector();
	} catch (...) {
		return NULL;
	}
}

static inline unsigned char clamp16(int v) { return v < 0 ? 0 : v > 0xffffff ? 255 : (unsigned char)(v >> 16); }

void ycbcr_to_rgb(const ycbcr* m, uint8_t* rgb) {
	const int cx0 = m->ox >> m->cshift_x, cy0 = m->oy >> m->cshift_y;
	for (int y = 0; y < m->h; y++) {
		const uint8_t* yrow = m->y + (size_t)y * m->y_stride;
		const size_t crow = (size_t)(((y + m->oy) >> m->cshift_y) - cy0) * m->c_stride;
		const uint8_t* cbrow = m->cb + crow;
		const uint8_t* crrow = m->cr + crow;
		uint8_t* o = rgb + (size_t)y * m->w * 3;
		for (int x = 0; x < m->w; x++) {
			const int c = ((x + m->ox) >> m->cshift_x) - cx0;
			int yy = yrow[x] * 0x10101, cb = cbrow[c] - 128, cr = crrow[c] - 128;
			o[3*x] = clamp16(yy + 91881 * cr);
			o[3*x+1] = clamp16(yy - 22554 * cb - 46802 * cr);
			o[3*x+2] = clamp16(yy + 116130 * cb);
		}
	}
}

int hog_detect(hog_detector* d, const ycbcr* img, long* out, int max, int* n, char** err) {
	try {
		std::lock_guard<std::mutex> lock(d->mu);
		d->img.set_size(img->h, img->w);
		static_assert(sizeof(dlib::rgb_pixel) == 3, "rgb_pixel is packed");
		ycbcr_to_rgb(img, reinterpret_cast<uint8_t*>(&d->img[0][0]));
		std::vector<dlib::rectangle> rects = d->det(d->img);
		*n = (int)rects.size();
		for (int i = 0; i < (int)rects.size() && i < max; i++) {
			out[4*i] = rects[i].left();
			out[4*i+1] = rects[i].top();
			out[4*i+2] = rects[i].right();
			out[4*i+3] = rects[i].bottom();
		}
	} catch (std::exception& e) {
		if (err) *err = strdup(e.what());
		return -1;
	}
	return 0;
}

void hog_free(hog_detector* d) { delete d; }
