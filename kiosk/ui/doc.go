// Package ui is the kiosk's fyne window: the officer's screens from unlock to receipt, the
// deactivation, sync panel, statistics and settings. Screens are structs of widgets built by a
// constructor and laid out separately, so that tests drive them with fyne's test package and
// no display; every decision (token validity, face band, permissions, bounds) is the core's,
// reached through the interfaces of kiosk/app. app.New() is called by cmd/ikd-kiosk only.
//
// All text comes from assets' catalogs. Every literal in this package that starts with "ui."
// is a message key, which is how the test finds the keys to check in both languages.
package ui
