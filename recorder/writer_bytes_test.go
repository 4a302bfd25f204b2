package recorder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/pyjson"
)

// oldMarshal is how the recorder encoded bodies and requests before
// pyjson.Marshal became the type-driven encoder: encoding/json, then
// Canonicalize.
func oldMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return pyjson.Canonicalize(b)
}

// TestCommittedCassettesUnchanged: every interaction and tool record of
// the committed interactions cassettes decodes and encodes back to its
// body byte for byte, through the encoder of today and the one before, and
// the fingerprint of each request is the hash of its text in the cassette
// (so matching and the cassettes' names are unchanged).
func TestCommittedCassettesUnchanged(t *testing.T) {
	var paths []string
	for _, g := range []string{"../examples/*/testdata/cassettes/*.cassette", "testdata/cassettes/*.cassette", "../cmd/artana-replay/testdata/*.cassette"} {
		m, _ := filepath.Glob(g)
		paths = append(paths, m...)
	}
	n := 0
	for _, p := range paths {
		hdr, recs, err := cassettes.ReadAll(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if hdr.Kind != cassettes.KindInteractions {
			continue
		}
		for _, rec := range recs {
			var got, old []byte
			switch rec.Type {
			case recordType:
				in, err := decodeInteraction(rec.Body)
				if err != nil {
					t.Fatalf("%s:%d: %v", p, rec.Line, err)
				}
				if got, err = encodeInteraction(&in); err != nil {
					t.Fatalf("%s:%d: %v", p, rec.Line, err)
				}
				if old, err = oldMarshal(toWire(&in)); err != nil {
					t.Fatalf("%s:%d: %v", p, rec.Line, err)
				}
				fp, err := fingerprintCall(&in.Request, in.HTTP)
				raw, ok := requestText(rec.Body)
				sum := sha256.Sum256(raw)
				if err != nil || !ok || fp != hex.EncodeToString(sum[:]) {
					t.Errorf("%s:%d: fingerprint %s (%v) is not the hash of the recorded request text", p, rec.Line, fp, err)
				}
				n++
			case toolRecordType:
				tl, err := decodeTool(rec.Body)
				if err != nil {
					t.Fatalf("%s:%d: %v", p, rec.Line, err)
				}
				if got, err = encodeTool(&tl); err != nil {
					t.Fatalf("%s:%d: %v", p, rec.Line, err)
				}
				old = got
			}
			if !bytes.Equal(got, rec.Body) || !bytes.Equal(old, rec.Body) {
				t.Errorf("%s:%d: re-encoded body differs:\nstored %s\n   now %s\nbefore %s", p, rec.Line, rec.Body, got, old)
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d committed interactions found", n)
	}
}
