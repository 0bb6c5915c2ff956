// Command ikd-registry is the reference central registry the kiosks sync with (DESIGN.md §8).
//
//	ikd-registry [serve] --key FILE --data-key-file FILE [--db sqlite:PATH|postgres://...] [--smtp HOST:PORT ...]
//	    [--metrics-addr 127.0.0.1:9090] [--citizen-token-file FILE] [--citizen-rate R --citizen-burst B]
//	ikd-registry enroll-code --db DB --area KECAMATAN[,KECAMATAN...] [--ttl 24h]
//	ikd-registry devices list|revoke --db DB [KIOSK_ID]
//	ikd-registry residents import --db DB [--models DIR [--workers N]] FILE.ndjson
//	ikd-registry officers add|put --db DB --id ID --name NAME --role officer|supervisor [--area A[,B]] [--disabled]
//	ikd-registry officers list|disable --db DB [--id ID]
//	ikd-registry tombstones list|lift --db DB --nik NIK [--by SUPERVISOR_ID --reason TEXT]
//	ikd-registry registrations revoke --db DB REGISTRATION_ID
//	ikd-registry stats --db DB
//	ikd-registry keys new-data-key --out FILE
//	ikd-registry keys rotate-data-key --file FILE
//	ikd-registry bundle import --db DB --key FILE --in BUNDLE --answers OUT
//	ikd-registry bundle changes --db DB --key FILE --area KECAMATAN [--since CURSOR] --out FILE
//
// Every command that opens the database needs --data-key-file: the registry seals personal
// data and activation codes at rest (see README, "Data keys").
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	gosync "sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ikd-field/ikd/internal/secretfile"
	"github.com/ikd-field/ikd/kiosk/token"
	"github.com/ikd-field/ikd/sync/registry"
	"github.com/ikd-field/ikd/sync/registry/mail"
	"github.com/ikd-field/ikd/sync/registry/storeopen"
)

const defaultDB = "sqlite:registry.db"

const residentsImportUsage = "usage: ikd-registry residents import --db DB [--models DIR [--workers N]] FILE.ndjson"

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := dispatch(ctx, os.Args[1:], os.Stdout, log)
	stop()
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "ikd-registry:", err)
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	sub := func() (string, []string) {
		if len(args) == 0 {
			return "", nil
		}
		return args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, log)
	case "enroll-code":
		return enrollCode(ctx, args, out)
	case "devices":
		switch s, rest := sub(); s {
		case "list":
			return devicesList(ctx, rest, out)
		case "revoke":
			return devicesRevoke(ctx, rest, out)
		}
		return errors.New("usage: ikd-registry devices list|revoke --db DB [KIOSK_ID]")
	case "residents":
		if s, rest := sub(); s == "import" {
			return residentsImport(ctx, rest, out, log)
		}
		return errors.New(residentsImportUsage)
	case "officers":
		s, rest := sub()
		return officers(ctx, s, rest, out)
	case "tombstones":
		s, rest := sub()
		return tombstones(ctx, s, rest, out, log)
	case "registrations":
		if s, rest := sub(); s == "revoke" {
			return registrationsRevoke(ctx, rest, out)
		}
		return errors.New("usage: ikd-registry registrations revoke --db DB REGISTRATION_ID")
	case "stats":
		return stats(ctx, args, out)
	case "keys":
		return keysCmd(args, out)
	case "bundle":
		s, rest := sub()
		return bundleCmd(ctx, s, rest, out, log)
	}
	return fmt.Errorf("unknown command %q (serve, enroll-code, devices, residents, officers, tombstones, registrations, stats, keys, bundle)", cmd)
}

// serveConfig is what `serve` runs with.
type serveConfig struct {
	addr, keyFile, db        string
	dataKeyFile              string
	tokenTTL, codeTTL        time.Duration
	codeTries, dedupDays     int
	retention                registry.Retention
	smtp, smtpFrom, smtpUser string
	smtpPasswordFile         string
	shutdownGrace            time.Duration
	mailLease                time.Duration
	metricsAddr              string
	citizenTokenFile         string
	limits                   registry.Limits
}

func serve(ctx context.Context, args []string, log *slog.Logger) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var c serveConfig
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.keyFile, "key", "", "registry signing key (PEM, from `ikdctl keys new`)")
	fs.StringVar(&c.db, "db", defaultDB, "database: sqlite:PATH or postgres://...")
	fs.StringVar(&c.dataKeyFile, "data-key-file", "", dataKeyFileUsage)
	fs.DurationVar(&c.tokenTTL, "token-ttl", 10*time.Minute, "lifetime of issued activation QR tokens")
	fs.DurationVar(&c.codeTTL, "code-ttl", registry.DefaultCodeTTL, "lifetime of e-mailed activation codes")
	fs.IntVar(&c.codeTries, "code-tries", registry.DefaultCodeMaxTries, "wrong tries allowed per activation code")
	fs.IntVar(&c.dedupDays, "dedup-days", int(registry.DefaultDedupWindow/(24*time.Hour)), "days a record id is remembered")
	fs.DurationVar(&c.retention.Mails, "mail-retention", registry.DefaultMailRetention, "how long a sent or failed activation mail is kept")
	fs.DurationVar(&c.retention.Registrations, "registration-retention", registry.DefaultRegistrationRetention,
		"how long a registration is kept after it ended (confirmed, deactivated, revoked, expired)")
	fs.StringVar(&c.smtp, "smtp", "", "SMTP server HOST:PORT for activation e-mails (empty: mails stay queued)")
	fs.StringVar(&c.smtpFrom, "smtp-from", "IKD Dukcapil <no-reply@ikd.invalid>", "sender address of activation e-mails")
	fs.StringVar(&c.smtpUser, "smtp-user", "", "SMTP user name (AUTH PLAIN, only over TLS)")
	fs.StringVar(&c.smtpPasswordFile, "smtp-password-file", "", "file holding the SMTP password (mode 600)")
	fs.DurationVar(&c.mailLease, "mail-lease", mail.DefaultLease,
		"how long a claimed mail is reserved for this process without renewal (it renews it while it sends); a process that dies holding one delays it by at most this much")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 30*time.Second, "how long a shutdown waits for batches in flight")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "127.0.0.1:9090",
		"listen address of /metrics, apart from the API because it names every kiosk (empty: no metrics)")
	fs.StringVar(&c.citizenTokenFile, "citizen-token-file", "",
		"file (mode 600) holding the bearer token the citizen API requires (none: the citizen API is off)")
	fs.Float64Var(&c.limits.Citizen.PerSecond, "citizen-rate", registry.DefaultCitizenRate.PerSecond,
		"citizen API requests per second per client address")
	fs.IntVar(&c.limits.Citizen.Burst, "citizen-burst", registry.DefaultCitizenRate.Burst,
		"citizen API requests per client address at once")
	fs.IntVar(&c.limits.OpenRegistrations, "max-open-registrations", registry.DefaultOpenRegistrations,
		"open registrations (QR or code still valid) one NIK may have")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var metricsLn net.Listener
	if c.metricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", c.metricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
	}
	return run(ctx, c, ln, metricsLn, log)
}

// run serves the API on ln and the metrics on metricsLn (nil: none) until ctx is cancelled,
// then finishes the batches in flight.
func run(ctx context.Context, c serveConfig, ln, metricsLn net.Listener, log *slog.Logger) error {
	defer ln.Close()
	if metricsLn != nil {
		defer metricsLn.Close()
	}
	if c.keyFile == "" {
		return errors.New("--key is required (make one with: ikdctl keys new --out DIR)")
	}
	var citizenToken []byte
	if c.citizenTokenFile != "" {
		t, err := secretfile.Read(c.citizenTokenFile)
		if err != nil {
			return fmt.Errorf("--citizen-token-file: %w", err)
		}
		if citizenToken = bytes.TrimSpace(t); len(citizenToken) < 16 {
			return fmt.Errorf("--citizen-token-file %s: the token must be at least 16 characters", c.citizenTokenFile)
		}
	}
	kid, key, codeKey, err := readRegistryKey(c.keyFile)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	signer, err := token.NewSigner(kid, key)
	if err != nil {
		return err
	}
	st, err := storeopen.OpenSealed(ctx, c.db, c.dataKeyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := registry.EnsureKey(ctx, st, kid, pub, time.Now()); err != nil {
		return fmt.Errorf("publish signing key: %w", err)
	}

	metrics := registry.NewMetrics(st)
	srv := &registry.Server{Store: st, Signer: signer, PublicKey: pub, TokenTTL: c.tokenTTL, CodeKey: codeKey,
		CodeTTL: c.codeTTL, CodeMaxTries: c.codeTries, Now: time.Now, Log: log, Metrics: metrics,
		CitizenToken: citizenToken, Limits: c.limits, Retention: c.retention}
	if citizenToken == nil {
		log.Info("no --citizen-token-file: the citizen API (/v1/registrations) is off")
	}

	bg, stopBG := context.WithCancel(context.Background())
	var wg gosync.WaitGroup
	defer func() { stopBG(); wg.Wait() }()
	if c.smtp != "" {
		sender, err := smtpSender(c)
		if err != nil {
			return err
		}
		if c.mailLease < mail.MinLease {
			// Renewed every third of it, a shorter lease would be lost to one slow round trip.
			return fmt.Errorf("--mail-lease %v must be at least %v", c.mailLease, mail.MinLease)
		}
		queue, guarded := registry.GuardMail(st, sender)
		w := &mail.Worker{Queue: queue, Sender: guarded, Now: time.Now, Log: log, Observe: metrics.MailResult, Lease: c.mailLease}
		srv.MailQueued = w.Kick
		wg.Go(func() {
			if err := w.Run(bg); err != nil && bg.Err() == nil {
				log.Error("mail worker stopped", "err", err)
			}
		})
	} else {
		log.Warn("no --smtp: activation e-mails are queued in the database and sent once a server is configured")
	}
	wg.Go(func() { srv.Janitor(bg, 10*time.Minute, time.Duration(c.dedupDays)*24*time.Hour) })

	hs := newHTTPServer(ln.Addr().String(), srv.Handler(), log)
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	var ms *http.Server
	if metricsLn != nil {
		ms = newHTTPServer(metricsLn.Addr().String(), metrics.Handler(), log)
		go func() { errc <- ms.Serve(metricsLn) }()
		log.Info("metrics listening", "addr", metricsLn.Addr().String())
	}
	log.Info("ikd-registry listening", "addr", ln.Addr().String(), "kid", kid, "db", storeopen.Redact(c.db))
	var served error
	select {
	case served = <-errc:
	case <-ctx.Done():
		log.Info("shutting down; finishing requests in flight")
	}
	shutdown, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
	defer cancel()
	errs := []error{served, hs.Shutdown(shutdown)}
	if ms != nil {
		errs = append(errs, ms.Shutdown(shutdown))
	}
	return errors.Join(errs...)
}

// readRegistryKey reads the registry signing key file (--key) and derives the key that hashes
// activation codes from it, so every process with the key checks the same codes.
func readRegistryKey(file string) (kid string, key ed25519.PrivateKey, codeKey []byte, err error) {
	kid, key, err = token.ReadPrivateKeyFile(file)
	if err != nil {
		return "", nil, nil, err
	}
	if kid == "" {
		kid = token.DefaultKeyID(key.Public().(ed25519.PublicKey))
	}
	codeKey, err = hkdf.Key(sha256.New, key.Seed(), nil, "IKD registry activation code key v1", 32)
	if err != nil {
		return "", nil, nil, fmt.Errorf("derive code key: %w", err)
	}
	return kid, key, codeKey, nil
}

func smtpSender(c serveConfig) (*mail.SMTPSender, error) {
	if _, _, err := net.SplitHostPort(c.smtp); err != nil {
		return nil, fmt.Errorf("--smtp %q: %w", c.smtp, err)
	}
	s := &mail.SMTPSender{Addr: c.smtp, From: c.smtpFrom, Username: c.smtpUser, Timeout: 30 * time.Second}
	if c.smtpPasswordFile != "" {
		pw, err := secretfile.Read(c.smtpPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("--smtp-password-file: %w", err)
		}
		s.Password = string(pw)
	}
	return s, nil
}

const dataKeyFileUsage = "file of the keys that seal personal data at rest (mode 600, from `ikd-registry keys new-data-key`)"

// openDB opens the --db of an operator subcommand, sealed with --data-key-file.
func openDB(ctx context.Context, fs *flag.FlagSet, args []string) (registry.Store, []string, error) {
	db := fs.String("db", defaultDB, "database: sqlite:PATH or postgres://...")
	dataKeyFile := fs.String("data-key-file", "", dataKeyFileUsage)
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	st, err := storeopen.OpenSealed(ctx, *db, *dataKeyFile)
	return st, fs.Args(), err
}

func enrollCode(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enroll-code", flag.ContinueOnError)
	area := fs.String("area", "", "the kecamatan the kiosk will serve")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the code stays valid")
	st, _, err := openDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	code, err := registry.NewEnrollCode(ctx, st, *area, time.Now(), *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, code)
	return nil
}

func devicesList(ctx context.Context, args []string, out io.Writer) error {
	st, _, err := openDB(ctx, flag.NewFlagSet("devices list", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer st.Close()
	devs, err := registry.ListDevices(ctx, st)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIOSK\tAREA\tENROLLED\tLAST SEEN\tREVOKED")
	for _, d := range devs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.KioskID, d.Area, when(d.EnrolledAt), when(d.LastSeen), when(d.RevokedAt))
	}
	return tw.Flush()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func devicesRevoke(ctx context.Context, args []string, out io.Writer) error {
	st, rest, err := openDB(ctx, flag.NewFlagSet("devices revoke", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(rest) != 1 {
		return errors.New("usage: ikd-registry devices revoke --db DB KIOSK_ID")
	}
	if err := registry.RevokeDevice(ctx, st, rest[0], time.Now()); err != nil {
		return fmt.Errorf("revoke %s: %w", rest[0], err)
	}
	fmt.Fprintf(out, "revoked %s\n", rest[0])
	return nil
}

func residentsImport(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("residents import", flag.ContinueOnError)
	models := fs.String("models", "", "face model directory: describe each reference photo for the kiosks' engines (dlib, and the modern engine when its model is there)")
	workers := fs.Int("workers", 1, "with --models: photos described at once, each worker with its own copy of the models (about 120 MB)")
	st, rest, err := openDB(ctx, fs, args)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(rest) != 1 {
		return errors.New(residentsImportUsage)
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return err
	}
	defer f.Close()
	var faces registry.PhotoDescriber
	if *models != "" {
		p, closer, engines, err := openFaces(*models, *workers, log)
		if err != nil {
			return fmt.Errorf("face models: %w", err)
		}
		defer closer.Close()
		faces = p
		fmt.Fprintf(out, "describing reference photos with %s, %d at a time\n", engines, max(1, *workers))
	}
	rep, err := registry.ImportResidentsDescribed(ctx, st, f, faces, *workers)
	for _, e := range rep.Errors {
		fmt.Fprintln(out, e)
	}
	for _, e := range rep.Undescribed {
		fmt.Fprintln(out, "photo not described:", e)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "imported %d residents\n", rep.Residents)
	if faces != nil {
		fmt.Fprintf(out, "described %d reference photos\n", rep.Described)
	}
	return nil
}

func registrationsRevoke(ctx context.Context, args []string, out io.Writer) error {
	st, rest, err := openDB(ctx, flag.NewFlagSet("registrations revoke", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(rest) != 1 {
		return errors.New("usage: ikd-registry registrations revoke --db DB REGISTRATION_ID")
	}
	if err := registry.RevokeRegistration(ctx, st, rest[0], time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(out, "revoked registration %s\n", rest[0])
	return nil
}

func stats(ctx context.Context, args []string, out io.Writer) error {
	st, _, err := openDB(ctx, flag.NewFlagSet("stats", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "devices %d registrations %d activations-accepted %d deactivations %d emails-sent %d emails-queued %d\n",
		s.Devices, s.Registrations, s.ActivationsAccepted, s.Deactivations, s.MailsSent, s.MailsQueued)
	return nil
}

// newHTTPServer returns the server with limits on every phase of a connection, so a client
// that sends its headers or body slowly, never reads the answer or holds an idle keep-alive
// open is cut off instead of holding a connection (and a goroutine) forever. Requests are
// small (a registration is about 100 bytes, 4 KiB at most); the batch upload of the sync work
// may need a longer deadline on its own route (http.ResponseController).
func newHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // headers and body: 4 KiB even on a slow 2G link
		WriteTimeout:      30 * time.Second, // from the end of the headers to the end of the answer
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10, // net/http's default is 1 MiB
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
