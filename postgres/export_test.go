package postgres

// AlwaysLock makes every append of s take the locked transaction (BEGIN,
// the run's lock and the read of its last event, then insert and commit),
// as the Python store appends, so that benchmarks can compare it with the
// one-statement path.
func AlwaysLock(s *Store) { s.alwaysLock = true }
