package recorder

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/internal/gotestcmd"
)

// FlagName is the test flag that turns recording on: -artana.record=REGEXP
// records the tests whose name matches REGEXP.
const FlagName = "artana.record"

// EnvVar is the environment variable read when -artana.record is not
// given: ARTANA_RECORD=REGEXP. It suits "go test ./...", where packages
// that do not import recorder would reject the flag.
const EnvVar = "ARTANA_RECORD"

// recordFlag is -artana.record; it exists only in test binaries.
var recordFlag = testFlag()

func testFlag() *string {
	if !testing.Testing() {
		return nil
	}
	return flag.String(FlagName, "", "re-record the artana cassettes of tests whose name matches `regexp`")
}

// recordPattern returns the recording regexp: the flag's value if set,
// else the environment variable's, else nil. source names where it came
// from, for error messages.
func recordPattern(flagValue, envValue string) (re *regexp.Regexp, source string, err error) {
	pat, source := flagValue, "-"+FlagName
	if pat == "" {
		pat, source = envValue, EnvVar
	}
	if pat == "" {
		return nil, "", nil
	}
	re, err = regexp.Compile(pat)
	if err != nil {
		return nil, source, fmt.Errorf("recorder: %s=%q is not a valid regexp: %v", source, pat, err)
	}
	return re, source, nil
}

// Recording reports whether the test (or subtest) named name records:
// whether its name matches the regexp of -artana.record or, without the
// flag, of $ARTANA_RECORD. Call it before building the live model, so
// that a test that replays never builds one:
//
//	var live llm.Model
//	if rec, err := recorder.Recording(t.Name()); err != nil {
//		t.Fatal(err)
//	} else if rec {
//		live, err = openai.New()
//		...
//	}
//	model := recorder.New(t, live)
//
// The error says that the regexp is not valid, and where it came from.
// artanatest.AssertGoldenEvents asks the same question: one switch
// re-records a test's cassette and rewrites its golden event log.
func Recording(name string) (bool, error) {
	var flagValue string
	if recordFlag != nil {
		flagValue = *recordFlag
	}
	re, _, err := recordPattern(flagValue, os.Getenv(EnvVar))
	if err != nil || re == nil {
		return false, err
	}
	return re.MatchString(name), nil
}

// cassetteName returns the file name, relative to the cassette directory,
// of the cassette of the test named name (as testing.TB.Name returns it):
// "TestX.cassette", and "TestX/sub_case.cassette" for a subtest. Each
// element keeps ASCII letters, digits, '.', '_' and '-'; any other
// character becomes '_' and the element then ends in a short hash of its
// original form, so that distinct names never share a file.
func cassetteName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		safe := []byte(p)
		changed := p == ""
		for j := range len(safe) {
			c := safe[j]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
				safe[j], changed = '_', true
			}
		}
		if len(safe) > 0 && safe[0] == '.' {
			safe[0], changed = '_', true
		}
		if changed {
			sum := sha256.Sum256([]byte(p))
			safe = append(safe, "-"+hex.EncodeToString(sum[:4])...)
		}
		parts[i] = string(safe)
	}
	return filepath.Join(parts...) + ".cassette"
}

// rerecordCommand returns the command that re-records the cassette of the
// test named name in the package in directory pkgDir (relative to the
// module root, "." for the root):
//
//	go test ./pkg -run '^TestX$/^sub$' -artana.record='^TestX/sub$'
func rerecordCommand(name, pkgDir string) string {
	rec := "^" + regexp.QuoteMeta(name) + "$"
	return fmt.Sprintf("go test %s -run %s -%s=%s", pkgDir, gotestcmd.Quote(gotestcmd.RunPattern(name)), FlagName, gotestcmd.Quote(rec))
}

// New returns a Recorder for the test t, wrapping live, with the cassette
// testdata/cassettes/<cassetteName(t.Name())> (see WithDir).
//
// The mode is Replay, or Record if the test's name matches the regexp of
// -artana.record (or, without the flag, of $ARTANA_RECORD); WithMode
// overrides both. A cassette missing in Replay mode fails the test with the
// command that records it.
//
// When the test ends: in Record and RecordMissing mode the cassette is
// written only if the test passed, so a failed test leaves the previous
// cassette byte-identical; in Replay mode the test fails if recorded
// interactions went unused (unless AllowUnused) or if a request had no
// recorded interaction, even if the code under test swallowed the error.
func New(t testing.TB, live llm.Model, opts ...Option) *Recorder {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	return newForTest(t, live, cfg)
}

// newForTest is New, for a Recorder or a Transport.
func newForTest(t testing.TB, live llm.Model, cfg config) *Recorder {
	t.Helper()
	name := t.Name()
	if cfg.dir == "" {
		cfg.dir = filepath.Join("testdata", "cassettes")
	}
	path := filepath.Join(cfg.dir, cassetteName(name))
	cfg.rerecord = rerecordCommand(name, gotestcmd.PackageDir())
	if !cfg.modeSet {
		rec, err := Recording(name)
		if err != nil {
			t.Fatalf("%v", err)
			return nil
		}
		cfg.mode = Replay
		if rec {
			cfg.mode = Record
		}
	}
	r, err := open(path, live, cfg)
	if err != nil {
		t.Fatalf("%v", err)
		return nil
	}
	if r.mode == Record || r.mode == RecordMissing {
		t.Logf("recorder: %s mode: %s will be written if the test passes (not if it fails or is skipped)", r.mode, path)
	}
	t.Cleanup(func() {
		if (r.mode == Record || r.mode == RecordMissing) && (t.Failed() || t.Skipped()) {
			r.discard()
			why := "failed"
			if !t.Failed() {
				why = "was skipped"
			}
			t.Logf("recorder: the test %s; %s was left unchanged", why, path)
			return
		}
		r.mu.Lock()
		misses, first := r.misses, r.firstErr
		r.mu.Unlock()
		if misses > 0 && !t.Failed() {
			t.Errorf("recorder: %d request(s) had no recorded interaction; the first:\n%v", misses, first)
		}
		if r.mode == RecordMissing {
			r.mu.Lock()
			unused := r.unusedError()
			r.mu.Unlock()
			if unused != nil {
				t.Logf("%v", unused)
			}
		}
		if err := r.Close(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return r
}
