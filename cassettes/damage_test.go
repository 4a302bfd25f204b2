package cassettes_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/artana-go/go-artana/cassettes"
)

// payloadEdits are hand edits of small_run.golden.jsonl that leave every
// event hash valid (the hash covers the decoded payload, and the decoder
// ignores unknown keys and fills in defaults): the line, the edit and what
// the reader must name.
var payloadEdits = []struct {
	name     string
	line     int
	old, new string
	want     string
}{
	{"added_key", 4, `"payload":{"completion_tokens"`, `"payload":{"approved_by":"cfo@example.com","completion_tokens"`,
		`run "golden/run ü" seq 3: stored payload is not the canonical text of what it decodes to: unknown key "approved_by"`},
	{"renamed_key", 5, `"tool_version"`, `"tool_versioo"`, `seq 4: stored payload is not the canonical text of what it decodes to: key "tool_version" renamed to "tool_versioo"`},
	{"deleted_key", 6, `"effect_id":null,`, ``, `seq 5: stored payload is not the canonical text of what it decodes to: missing key "effect_id"`},
}

// TestGenerateDamagedCassettes writes testdata/damaged/*.jsonl from the
// golden cassette when ARTANA_GEN_FIXTURES is set, and otherwise checks that
// the committed files are what it would write:
//
//	ARTANA_GEN_FIXTURES=1 go test ./cassettes -run '^TestGenerateDamagedCassettes$'
func TestGenerateDamagedCassettes(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "small_run.golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range payloadEdits {
		lines := bytes.SplitAfter(src, []byte("\n"))
		if !bytes.Contains(lines[c.line-1], []byte(c.old)) {
			t.Fatalf("%s: line %d holds no %s", c.name, c.line, c.old)
		}
		lines[c.line-1] = bytes.Replace(lines[c.line-1], []byte(c.old), []byte(c.new), 1)
		got := bytes.Join(lines, nil)
		path := filepath.Join("testdata", "damaged", c.name+".jsonl")
		if os.Getenv("ARTANA_GEN_FIXTURES") != "" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or differs from what the generator writes (%v); rewrite it with: ARTANA_GEN_FIXTURES=1 go test ./cassettes -run '^TestGenerateDamagedCassettes$'", path, err)
		}
	}
}

// TestReaderNamesPayloadKey: a payload text that decodes to the same
// payload is reported with its line, seq and key.
func TestReaderNamesPayloadKey(t *testing.T) {
	for _, c := range payloadEdits {
		path := filepath.Join("testdata", "damaged", c.name+".jsonl")
		_, _, err := cassettes.ReadEvents(path)
		var ce *cassettes.Error
		if !errors.As(err, &ce) || !errors.Is(err, cassettes.ErrNotCanonical) {
			t.Errorf("%s: ReadEvents = %v, want a *cassettes.Error matching ErrNotCanonical", c.name, err)
			continue
		}
		if d := cmp.Diff(cassettes.Error{Path: path, Line: c.line, Err: ce.Err}, *ce, cmpopts.EquateErrors()); d != "" {
			t.Errorf("%s: ReadEvents = %v (-want +got):\n%s", c.name, err, d)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: ReadEvents = %v, want it to name %s", c.name, err, c.want)
		}
	}
}
