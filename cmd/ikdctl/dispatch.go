package main

import "context"

func runQR(ctx context.Context, e env) error {
	return subcommand(ctx, e, "qr", map[string]func(context.Context, env) error{
		"make":   qrMake,
		"decode": qrDecode,
	})
}

func runFace(ctx context.Context, e env) error {
	return subcommand(ctx, e, "face", map[string]func(context.Context, env) error{
		"eval":   faceEval,
		"verify": faceVerify,
	})
}

func runBench(ctx context.Context, e env) error {
	return subcommand(ctx, e, "bench", map[string]func(context.Context, env) error{
		"store": benchStore,
		"qr":    benchQR,
		"face":  benchFace,
		"sync":  benchSync,
		"kiosk": benchKiosk,
	})
}
