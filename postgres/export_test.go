package postgres

// AlwaysLock makes every append of s take the locked transaction (read
// the last event under the run's lock, insert, commit), the Python
// store's way, so that benchmarks can compare it with the one-statement
// path.
func AlwaysLock(s *Store) { s.alwaysLock = true }
