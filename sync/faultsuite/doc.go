// Package faultsuite drives the real registry and kiosk sync processes through a faulty link
// (cuts, resets, stalls, throttling), SIGKILLs of both, and replayed batches, and then checks
// that nothing was lost or applied twice and that each accepted activation sent exactly one
// e-mail. Its tests need the faults build tag: `make check-faults`.
package faultsuite
