package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/ikd-field/ikd/kiosk"
	"github.com/ikd-field/ikd/sync/registry"
)

// The officer list and the deactivation tombstones: who may sign records, and the NIKs a lost
// phone locked out.

const (
	officersUsage   = "usage: ikd-registry officers add|put|list|disable --db DB [--id ID --name NAME --area KECAMATAN[,KECAMATAN] --role officer|supervisor]"
	tombstonesUsage = "usage: ikd-registry tombstones list|lift --db DB --nik NIK [--by SUPERVISOR_ID --reason TEXT]"
)

func officers(ctx context.Context, cmd string, args []string, out io.Writer) error {
	switch cmd {
	case "add", "put":
		return officersPut(ctx, cmd, args, out)
	case "list":
		return officersList(ctx, args, out)
	case "disable":
		return officersDisable(ctx, args, out)
	}
	return errors.New(officersUsage)
}

// officersPut adds an officer (add refuses an id that exists) or replaces one (put).
func officersPut(ctx context.Context, cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("officers "+cmd, flag.ContinueOnError)
	id := fs.String("id", "", "officer id (NIP)")
	name := fs.String("name", "", "officer name")
	role := fs.String("role", string(kiosk.RoleOfficer), "officer or supervisor")
	area := fs.String("area", "", "the kecamatan the officer serves, or a comma-separated list (empty: every area)")
	disabled := fs.Bool("disabled", false, "the officer may no longer log in or sign records")
	st, _, err := openDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	o := registry.OfficerRow{ID: *id, Name: *name, Role: kiosk.Role(*role), Area: *area, Disabled: *disabled}
	if cmd == "add" {
		err = registry.AddOfficer(ctx, st, o)
	} else {
		err = registry.PutOfficer(ctx, st, o)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "officer %s saved\n", *id)
	return nil
}

func officersList(ctx context.Context, args []string, out io.Writer) error {
	st, _, err := openDB(ctx, flag.NewFlagSet("officers list", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := registry.ListOfficers(ctx, st)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tAREA\tSTATUS")
	for _, o := range list {
		area, status := o.Area, "active"
		if area == "" {
			area = "(every area)"
		}
		if o.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Name, o.Role, area, status)
	}
	return tw.Flush()
}

func officersDisable(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("officers disable", flag.ContinueOnError)
	id := fs.String("id", "", "officer id (NIP)")
	st, _, err := openDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := registry.DisableOfficer(ctx, st, *id); err != nil {
		return err
	}
	fmt.Fprintf(out, "officer %s disabled\n", *id)
	return nil
}

func tombstones(ctx context.Context, cmd string, args []string, out io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("tombstones "+cmd, flag.ContinueOnError)
	nik := fs.String("nik", "", "the NIK")
	by := fs.String("by", "", "lift: the id of the supervisor who decides")
	reason := fs.String("reason", "", "lift: why the deactivation was wrongful")
	if cmd != "list" && cmd != "lift" {
		return errors.New(tombstonesUsage)
	}
	st, _, err := openDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := kiosk.ParseNIK(*nik)
	if err != nil {
		return fmt.Errorf("--nik: %w", err)
	}
	if cmd == "lift" {
		lifted, err := registry.LiftTombstone(ctx, st, string(n), *by, *reason, time.Now())
		if err != nil {
			return err
		}
		log.Warn("tombstone lifted", "nik", n.Masked(), "by", *by, "reason", *reason, "tombstones", lifted)
		fmt.Fprintf(out, "lifted %d tombstone(s) of %s\n", lifted, n.Masked())
		return nil
	}
	ts, err := registry.ListTombstones(ctx, st, string(n))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEACTIVATED\tRECORD\tLIFTED\tBY\tREASON")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", when(t.At), t.RecordID, when(t.LiftedAt), dash(t.LiftedBy), dash(t.LiftReason))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
