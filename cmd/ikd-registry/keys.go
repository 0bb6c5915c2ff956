package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/ikd-field/ikd/sync/registry"
)

const keysUsage = "usage: ikd-registry keys new-data-key --out FILE | rotate-data-key --file FILE"

// keysCmd manages the data key file (see registry.ReadDataKeys for its format).
func keysCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(keysUsage)
	}
	switch args[0] {
	case "new-data-key":
		fs := flag.NewFlagSet("keys new-data-key", flag.ContinueOnError)
		file := fs.String("out", "", "the data key file to create (mode 600; an existing file is never replaced)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *file == "" || fs.NArg() != 0 {
			return errors.New(keysUsage)
		}
		if err := registry.CreateDataKeyFile(*file); err != nil {
			return err
		}
		fmt.Fprintf(out, "wrote %s; back it up: without it the registry's personal data cannot be read\n", *file)
		return nil
	case "rotate-data-key":
		fs := flag.NewFlagSet("keys rotate-data-key", flag.ContinueOnError)
		file := fs.String("file", "", "the data key file to add a new current key to")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *file == "" || fs.NArg() != 0 {
			return errors.New(keysUsage)
		}
		id, err := registry.RotateDataKeyFile(*file)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "data key %d is current in %s; restart every registry process with it, keep the old keys\n", id, *file)
		return nil
	}
	return errors.New(keysUsage)
}
