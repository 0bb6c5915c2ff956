package camera

import (
	"errors"
	"testing"
)

func TestChooseFormat(t *testing.T) {
	h264 := fourCC('H', '2', '6', '4')
	nv12 := fourCC('N', 'V', '1', '2')
	tests := []struct {
		name    string
		offered []PixelFormat
		want    PixelFormat
		wantErr bool
	}{
		{"MJPEGPreferredOverYUYV", []PixelFormat{FormatYUYV, FormatMJPEG}, FormatMJPEG, false},
		{"YUYVWhenNoMJPEG", []PixelFormat{h264, FormatYUYV}, FormatYUYV, false},
		{"OldDriverJPEGCode", []PixelFormat{FormatYUYV, FormatJPEG}, FormatJPEG, false},
		{"MJPEGBeatsOldJPEGCode", []PixelFormat{FormatJPEG, FormatMJPEG}, FormatMJPEG, false},
		{"OnlyUnsupported", []PixelFormat{h264, nv12}, 0, true},
		{"NothingOffered", nil, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseFormat(tc.offered)
			if tc.wantErr {
				if !errors.Is(err, ErrUnsupportedCamera) {
					t.Fatalf("err = %v, want ErrUnsupportedCamera", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ChooseFormat = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestPixelFormatString(t *testing.T) {
	for f, want := range map[PixelFormat]string{
		FormatMJPEG:                "MJPG",
		FormatYUYV:                 "YUYV",
		fourCC('Y', '1', '6', ' '): "Y16",
		PixelFormat(0x0001ff41):    "A???",
	} {
		if got := f.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint32(f), got, want)
		}
	}
}

func TestClosestSize(t *testing.T) {
	c270 := []SizeRange{fixed(640, 480), fixed(160, 120), fixed(320, 240), fixed(1280, 720), fixed(1280, 960), fixed(800, 600)}
	tests := []struct {
		name   string
		ranges []SizeRange
		want   Size
		got    Size
	}{
		{"ExactMatch", c270, Size{1280, 720}, Size{1280, 720}},
		{"ExactSmall", c270, Size{640, 480}, Size{640, 480}},
		{"NearestBelow", c270, Size{1920, 1080}, Size{1280, 960}},
		{"NearestAbove", c270, Size{100, 100}, Size{160, 120}},
		{"TiePrefersLargerPicture", []SizeRange{fixed(600, 400), fixed(800, 600)}, Size{700, 500}, Size{800, 600}},
		{"TieSameAreaPrefersNarrower", []SizeRange{fixed(400, 600), fixed(600, 400)}, Size{500, 500}, Size{400, 600}},
		{"OrderDoesNotMatter", []SizeRange{fixed(1280, 720), fixed(640, 480)}, Size{650, 490}, Size{640, 480}},
		{"StepwiseSnapsToStep", []SizeRange{{Min: Size{160, 120}, Max: Size{1920, 1080}, Step: Size{16, 8}}}, Size{1000, 701}, Size{1008, 704}},
		{"StepwiseClampsAbove", []SizeRange{{Min: Size{160, 120}, Max: Size{640, 480}, Step: Size{16, 8}}}, Size{1280, 720}, Size{640, 480}},
		{"StepwiseStepNotReachingMax", []SizeRange{{Min: Size{100, 100}, Max: Size{250, 250}, Step: Size{100, 100}}}, Size{260, 260}, Size{200, 200}},
		{"ContinuousTakesWantInside", []SizeRange{{Min: Size{2, 2}, Max: Size{4000, 3000}, Step: Size{1, 1}}}, Size{1234, 567}, Size{1234, 567}},
		{"ZeroRangeFromLibrarySkipped", []SizeRange{{}, fixed(320, 240)}, Size{1280, 720}, Size{320, 240}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ClosestSize(tc.ranges, tc.want)
			if err != nil || got != tc.got {
				t.Fatalf("ClosestSize(%v) = %v, %v; want %v", tc.want, got, err, tc.got)
			}
		})
	}
}

func TestClosestSizeErrors(t *testing.T) {
	tests := []struct {
		name   string
		ranges []SizeRange
		want   Size
		is     error
	}{
		{"NoSizes", nil, Size{640, 480}, ErrUnsupportedCamera},
		{"OnlyInvalidSizes", []SizeRange{{}, {Min: Size{640, 480}, Max: Size{320, 240}}}, Size{640, 480}, ErrUnsupportedCamera},
		{"ZeroWanted", []SizeRange{fixed(640, 480)}, Size{}, nil},
		{"NegativeWanted", []SizeRange{fixed(640, 480)}, Size{-1, 480}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ClosestSize(tc.ranges, tc.want)
			if err == nil {
				t.Fatalf("ClosestSize = %v, want an error", got)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestSizeRangeString(t *testing.T) {
	for r, want := range map[SizeRange]string{
		fixed(640, 480): "640x480",
		{Min: Size{160, 120}, Max: Size{1920, 1080}, Step: Size{16, 8}}: "160x120..1920x1080/step 16x8",
	} {
		if got := r.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
