// Package mail sends the activation-code e-mails of the central registry over SMTP from a
// durable queue.
//
// The registry queues one Mail per activation code (the queue is a database table, see Queue)
// and a Worker drains it: it claims due mails under a lease, hands each to a Sender (normally
// an SMTPSender talking to the registry's relay) and records the outcome with Queue.Sent or
// Queue.Failed. Several registry processes may run a Worker on the same table; the lease is
// what keeps two of them from sending the same mail at the same time.
//
// # The lease is short and renewed
//
// A claimed mail is leased for a short time (DefaultLease, seconds) and the Worker renews the
// lease of its unsent mails while it works (Queue.Renew moves a lease only from the value the
// Worker holds, so it never takes back a mail another Worker claimed after the lease ran out).
// A process killed while it holds mails therefore delays them by one short lease, not by the
// longest send. A Worker whose renewals fail stops sending before its lease may end, and a
// mail whose lease it lost is left, unrecorded, to whoever claims it next.
//
// # Delivery is at-least-once
//
// A mail is marked sent only after the SMTP server has accepted it (its 250 reply to the end
// of DATA) and Queue.Sent has returned. Between those two moments the mail is delivered but
// the queue does not know it: if the process crashes, the database is unreachable or the lease
// runs out there, the mail is claimed again when its lease ends and sent a second time. The
// opposite choice, marking before sending, would lose mails on a crash instead, and a citizen
// waiting at a kiosk is better served by two identical mails than by none. The duplicate is
// recognisable: the Message-ID is derived from the queue id alone (<ID@host>), so both copies
// carry the same Message-ID and mail clients and relays that de-duplicate on it show one.
// A send that fails is never dropped: it is recorded with Queue.Failed and a next attempt
// time (capped exponential backoff with jitter) until it succeeds or is refused permanently
// (a 5xx reply in the mail transaction, an invalid address, or MaxAttempts exhausted), which
// leaves it in the queue with its error for an operator.
//
// # Why the code is kept only until sent
//
// The activation code is a credential: whoever holds it can finish someone's IKD activation
// while it is valid. The queue has to keep it, because it must be able to send it again after
// a failure, but never in clear text: the registry's queue (registry.Seal) holds the code and
// the address sealed under a key only the registry process has and opens them in Claim. Once
// the relay has accepted the mail, or refused it for good, the queue has no further use for
// the code, so Queue.Sent and a permanent Queue.Failed forget it (the registry keeps only its
// own hash to check the code the citizen types). For the same reason this package never logs
// a code nor puts it into an error, and masks addresses in the errors it logs and records
// (MaskAddresses): a relay's refusal usually quotes the recipient.
package mail
