// Calls dlib's landmark model and face descriptor network directly, one at a time, so the
// benchmark can time each stage alone: go-face only offers detection, landmarks and
// descriptor in one call. The network type is go-face's (and dlib's example's) exactly.
#include <cstring>
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include "dlibstages.h"

using namespace dlib;

template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual = add_prev1<block<N,BN,1,tag1<SUBNET>>>;
template <template <int,template<typename>class,int,typename> class block, int N, template<typename>class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,BN,2,tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>;
template <int N, typename SUBNET> using ares = relu<residual<block,N,affine,SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block,N,affine,SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256,SUBNET>;
template <typename SUBNET> using alevel1 = ares<256,ares<256,ares_down<256,SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128,ares<128,ares_down<128,SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64,ares<64,ares<64,ares_down<64,SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32,ares<32,ares<32,SUBNET>>>;
using anet_type = loss_metric<fc_no_bias<128,avg_pool_everything<
	alevel0<alevel1<alevel2<alevel3<alevel4<
	max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,input_rgb_image_sized<150>>>>>>>>>>>>>;

struct stages {
	shape_predictor sp;
	anet_type net;
	matrix<rgb_pixel> img;
};

static void set_err(char** err, const char* msg) { if (err) *err = strdup(msg); }

stages* stages_load(const char* sp_path, const char* net_path, char** err) {
	stages* s = new stages();
	try {
		deserialize(sp_path) >> s->sp;
		deserialize(net_path) >> s->net;
	} catch (std::exception& e) {
		set_err(err, e.what());
		delete s;
		return NULL;
	}
	return s;
}

void stages_set_image(stages* s, const uint8_t* rgb, int w, int h) {
	s->img.set_size(h, w);
	memcpy(&s->img(0, 0), rgb, (size_t)w * h * 3);
}

int stages_landmarks(stages* s, long l, long t, long r, long b, long* out, int* n, char** err) {
	try {
		full_object_detection shape = s->sp(s->img, rectangle(l, t, r, b));
		if (shape.num_parts() != 5 && shape.num_parts() != 68) { set_err(err, "landmark model gives neither 5 nor 68 points"); return -1; }
		*n = (int)shape.num_parts();
		for (unsigned long i = 0; i < shape.num_parts(); i++) { out[2*i] = shape.part(i).x(); out[2*i+1] = shape.part(i).y(); }
	} catch (std::exception& e) { set_err(err, e.what()); return -1; }
	return 0;
}

int stages_descriptor(stages* s, const long* pts, int n, float* out, char** err) {
	try {
		std::vector<point> parts;
		for (int i = 0; i < n; i++) parts.push_back(point(pts[2*i], pts[2*i+1]));
		full_object_detection shape(rectangle(0, 0, (long)s->img.nc() - 1, (long)s->img.nr() - 1), parts);
		matrix<rgb_pixel> chip;
		extract_image_chip(s->img, get_face_chip_details(shape, 150, 0.25), chip);
		matrix<float, 0, 1> d = s->net(chip);
		for (int i = 0; i < 128; i++) out[i] = d(i);
	} catch (std::exception& e) { set_err(err, e.what()); return -1; }
	return 0;
}

void stages_free(stages* s) { delete s; }
