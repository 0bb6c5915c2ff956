package main

import (
	"fmt"
	"io"

	"github.com/ikd-field/ikd/kiosk/face/match"
)

func report(w io.Writer, samples []sample) error {
	c, err := match.Default()
	if err != nil {
		return err
	}
	ps, err := pairs(c, samples)
	if err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(w, "%s,%s,%s,%t,%.5f,%.5f,%.5f\n", p.set, p.a, p.b, p.genuine, p.dlibScore, p.raw, p.cosine)
	}
	return nil
}
