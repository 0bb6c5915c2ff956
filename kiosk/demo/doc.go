// Package demo is the kiosk with everything it talks to in one process, for `ikd-kiosk --demo`
// and tests: the registry on SQLite on a loopback port, its mail worker and an SMTP mailbox,
// a scripted camera playing the citizen's phone and face, and the citizen's side of the IKD
// app (NewDemo, World for the window's demo panel); and the headless demo's story (RunStory).
// The real kiosk (kiosk/app) knows nothing of it.
package demo
