// Command ikd-registry is the reference central registry the kiosks sync with. For now it
// publishes its token-signing keys and issues activation QR tokens to registering citizens.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ikd-field/ikd/kiosk/token"
	"github.com/ikd-field/ikd/sync/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	keyFile := flag.String("key", "", "registry signing key (PEM, from `ikdctl keys new`)")
	ttl := flag.Duration("token-ttl", 10*time.Minute, "lifetime of issued activation QR tokens")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(*addr, *keyFile, *ttl, log); err != nil {
		log.Error("ikd-registry stopped", "err", err)
		os.Exit(1)
	}
}

func run(addr, keyFile string, ttl time.Duration, log *slog.Logger) error {
	if keyFile == "" {
		return errors.New("--key is required (make one with: ikdctl keys new --out DIR)")
	}
	kid, key, err := token.ReadPrivateKeyFile(keyFile)
	if err != nil {
		return err
	}
	pub := key.Public().(ed25519.PublicKey)
	if kid == "" {
		kid = token.DefaultKeyID(pub)
	}
	signer, err := token.NewSigner(kid, key)
	if err != nil {
		return err
	}
	srv := &registry.Server{Signer: signer, PublicKey: pub, TokenTTL: ttl, Now: time.Now, Log: log}
	hs := newHTTPServer(addr, srv.Handler(), log)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("ikd-registry listening", "addr", addr, "kid", kid)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
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
