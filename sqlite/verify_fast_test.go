package sqlite

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"path/filepath"
	"strings"
	"testing"
)

// TestRowDigestIsFNV checks the written-out FNV-1a against hash/fnv.
func TestRowDigestIsFNV(t *testing.T) {
	for _, c := range []struct {
		rowid, seq int64
		hash       string
	}{{1, 1, ""}, {7, 3, strings.Repeat("ab", 32)}, {-1, 1 << 40, "é"}} {
		var d rowDigest
		d.add(c.rowid, c.seq, c.hash)
		h := fnv.New64a()
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(c.rowid))
		binary.BigEndian.PutUint64(b[8:], uint64(c.seq))
		h.Write(b[:])
		h.Write([]byte(c.hash))
		if d.sum != h.Sum64() || d.n != 1 {
			t.Errorf("add(%d, %d, %q) = %x, hash/fnv %x", c.rowid, c.seq, c.hash, d.sum, h.Sum64())
		}
	}
}

// TestSeedRunsVerifyFromStoredText checks that every run the Python
// original wrote verifies from its stored text, without the decoding
// path, and that the tampered one is left to it.
func TestSeedRunsVerifyFromStoredText(t *testing.T) {
	ctx := context.Background()
	paths, err := filepath.Glob(filepath.Join("testdata", "seed", "*.db"))
	if err != nil || len(paths) < 8 {
		t.Fatalf("seed ledgers: %v, %v", paths, err)
	}
	for _, path := range paths {
		s, err := Open(ctx, path, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		table, err := s.tableDigests(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for run, want := range table {
			n, ok, err := s.verifyRunStored(ctx, run, want, nil)
			tampered := strings.Contains(path, "tampered") && run == "chat_run_1"
			if ok == tampered || err != nil {
				t.Errorf("%s run %q: verifyRunStored = %d, %v, ok %v", filepath.Base(path), run, n, err, ok)
			}
		}
		s.Close()
	}
}
