package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/jackc/pgx/v5"
)

// A Lease is one owner's claim to drive a run until Expires. Leases are
// opt-in: appending never requires one. A fleet of workers that wants one
// worker per run acquires the run's lease before driving it, renews it
// while it works, and releases it when done; a lease that was not renewed
// in time expires and another worker can take the run over.
//
// Expiry is decided by the database server's clock, so the hosts' clocks
// need not agree. Token grows by one at every change of owner: it is a
// fencing token, which a worker can log or compare to tell whether it was
// taken over.
type Lease struct {
	RunID   string
	Owner   string
	Token   int64
	Expires time.Time // by the server's clock
}

// AcquireLease gives owner the run's lease for ttl. It succeeds if the run
// has no lease, if its lease has expired (a takeover: Token grows), or if
// owner already holds it (the expiry is extended, Token kept). Otherwise it
// fails with an error matching ErrLeaseHeld that names the holder and its
// expiry. Owner names one worker: give every worker its own.
func (s *Store) AcquireLease(ctx context.Context, runID, owner string, ttl time.Duration) (Lease, error) {
	fail := func(err error) (Lease, error) {
		return Lease{}, &Error{Op: "acquire lease on", Ledger: s.ledger, RunID: runID, Err: err}
	}
	if err := s.leaseArgs(runID, owner, ttl); err != nil {
		return fail(err)
	}
	l := Lease{RunID: runID, Owner: owner}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO kernel_run_leases AS k (run_id, owner, token, expires_at)
		VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 microsecond')
		ON CONFLICT (run_id) DO UPDATE SET
			owner = EXCLUDED.owner,
			token = CASE WHEN k.owner = EXCLUDED.owner AND k.expires_at > clock_timestamp() THEN k.token ELSE k.token + 1 END,
			expires_at = EXCLUDED.expires_at
		WHERE k.expires_at <= clock_timestamp() OR k.owner = EXCLUDED.owner
		RETURNING token, expires_at`, runID, owner, ttl.Microseconds()).Scan(&l.Token, &l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		var holder string
		var until time.Time
		err = s.pool.QueryRow(ctx, `SELECT owner, expires_at FROM kernel_run_leases WHERE run_id = $1`, runID).Scan(&holder, &until)
		if errors.Is(err, pgx.ErrNoRows) { // released meanwhile
			return s.AcquireLease(ctx, runID, owner, ttl)
		}
		if err != nil {
			return fail(connErr(err))
		}
		return fail(fmt.Errorf("%w: %q holds it until %s (server time); try again after that, or wait for its release",
			ErrLeaseHeld, holder, until.UTC().Format(time.RFC3339Nano)))
	}
	if err != nil {
		return fail(connErr(err))
	}
	l.Expires = l.Expires.UTC()
	return l, nil
}

// RenewLease extends a held lease to ttl from now. It fails with an error
// matching ErrLeaseLost if the lease expired, was released or was taken
// over: the worker must then stop driving the run.
func (s *Store) RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	fail := func(err error) (Lease, error) {
		return Lease{}, &Error{Op: "renew lease on", Ledger: s.ledger, RunID: l.RunID, Err: err}
	}
	if err := s.leaseArgs(l.RunID, l.Owner, ttl); err != nil {
		return fail(err)
	}
	err := s.pool.QueryRow(ctx, `
		UPDATE kernel_run_leases SET expires_at = clock_timestamp() + $4 * interval '1 microsecond'
		WHERE run_id = $1 AND owner = $2 AND token = $3 AND expires_at > clock_timestamp()
		RETURNING expires_at`, l.RunID, l.Owner, l.Token, ttl.Microseconds()).Scan(&l.Expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return fail(fmt.Errorf("%w: %q's lease (token %d) expired or was taken over; stop driving the run, or acquire it again",
			ErrLeaseLost, l.Owner, l.Token))
	}
	if err != nil {
		return fail(connErr(err))
	}
	l.Expires = l.Expires.UTC()
	return l, nil
}

// ReleaseLease gives the lease up, so that another worker can acquire the
// run at once. Releasing a lease that was already taken over fails with
// an error matching ErrLeaseLost and leaves the new holder's lease alone.
func (s *Store) ReleaseLease(ctx context.Context, l Lease) error {
	fail := func(err error) error {
		return &Error{Op: "release lease on", Ledger: s.ledger, RunID: l.RunID, Err: err}
	}
	if err := s.leaseArgs(l.RunID, l.Owner, time.Second); err != nil {
		return fail(err)
	}
	// The row stays, expired, so that the next holder's token is larger.
	tag, err := s.pool.Exec(ctx, `UPDATE kernel_run_leases SET expires_at = '-infinity'
		WHERE run_id = $1 AND owner = $2 AND token = $3 AND expires_at > clock_timestamp()`,
		l.RunID, l.Owner, l.Token)
	if err != nil {
		return fail(connErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fail(fmt.Errorf("%w: %q's lease (token %d) expired, was taken over or was already released", ErrLeaseLost, l.Owner, l.Token))
	}
	return nil
}

func (s *Store) leaseArgs(runID, owner string, ttl time.Duration) error {
	switch {
	case s.closed.Load():
		return ledger.ErrClosed
	case s.readOnly:
		return ErrReadOnly
	case runID == "":
		return errors.New("empty run id")
	case owner == "":
		return errors.New("empty owner; name the worker that takes the lease")
	case ttl < time.Millisecond:
		return fmt.Errorf("lease duration %v is less than a millisecond", ttl)
	}
	return nil
}
