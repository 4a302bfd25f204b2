package recorder_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/recorder"
	"github.com/stretchr/testify/require"
)

func TestCassetteName(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"TestTriage", "TestTriage.cassette"},
		{"TestTriage/refund_case", filepath.Join("TestTriage", "refund_case.cassette")},
		{"TestX/a/b#01", filepath.Join("TestX", "a", "b_01-fb516cf6.cassette")},
	} {
		require.Equal(t, tc.want, recorder.CassetteName(tc.name), tc.name)
	}
	// Unsafe characters never escape the directory and never collide.
	for _, name := range []string{"TestX/..", "TestX/../../etc", `TestX/a\b`, "TestX/a:b", "TestX/.hidden", "TestX/"} {
		got := recorder.CassetteName(name)
		require.True(t, filepath.IsLocal(got), "%q -> %q", name, got)
		require.Regexp(t, `^TestX(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+\.cassette$`, filepath.ToSlash(got), name)
	}
	require.NotEqual(t, recorder.CassetteName("TestX/a:b"), recorder.CassetteName("TestX/a*b"))
	require.NotEqual(t, recorder.CassetteName("TestX/a:b"), recorder.CassetteName("TestX/a_b"))
}

func TestRerecordCommand(t *testing.T) {
	require.Equal(t, `go test ./triage -run '^TestTriage$' -artana.record='^TestTriage$'`,
		recorder.RerecordCommand("TestTriage", "./triage"))
	require.Equal(t, `go test . -run '^TestTriage$/^case\.1$' -artana.record='^TestTriage/case\.1$'`,
		recorder.RerecordCommand("TestTriage/case.1", "."))
	require.Equal(t, `go test ./q -run '^TestQ$/^it'\''s$' -artana.record='^TestQ/it'\''s$'`,
		recorder.RerecordCommand("TestQ/it's", "./q"))
}

// setRecordFlag sets -artana.record for the rest of the test.
func setRecordFlag(t *testing.T, value string) {
	f := flag.Lookup(recorder.FlagName)
	require.NotNil(t, f, "the flag exists in test binaries")
	old := f.Value.String()
	require.NoError(t, flag.Set(recorder.FlagName, value))
	t.Cleanup(func() { flag.Set(recorder.FlagName, old) })
}

func TestFlagAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	recordAt(t, filepath.Join(dir, "TestFlagged.cassette"), "a")
	mode := func(t *testing.T, flagValue, envValue string, opts ...recorder.Option) recorder.Mode {
		t.Helper()
		setRecordFlag(t, flagValue)
		t.Setenv(recorder.EnvVar, envValue)
		tb := newFakeTB(t, "TestFlagged")
		rec := recorder.New(tb, echoModel(), append([]recorder.Option{recorder.WithDir(dir), recorder.AllowUnused()}, opts...)...)
		require.NotNil(t, rec, tb.errors())
		m := rec.Mode()
		tb.Fail() // write nothing
		tb.end()
		return m
	}
	for _, tc := range []struct {
		name, flag, env string
		opts            []recorder.Option
		want            recorder.Mode
	}{
		{"neither", "", "", nil, recorder.Replay},
		{"flag", "^TestFlagged$", "", nil, recorder.Record},
		{"flag substring", "Flag", "", nil, recorder.Record},
		{"env", "", "^TestFlagged$", nil, recorder.Record},
		{"flag wins over env", "^TestOther$", "^TestFlagged$", nil, recorder.Replay},
		{"flag wins over env, matching", "^TestFlagged$", "^TestOther$", nil, recorder.Record},
		{"no match", "^TestOther$", "", nil, recorder.Replay},
		{"explicit mode wins", "^TestFlagged$", "", []recorder.Option{recorder.WithMode(recorder.Passthrough)}, recorder.Passthrough},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, mode(t, tc.flag, tc.env, tc.opts...))
		})
	}
}

func TestBadRecordPattern(t *testing.T) {
	for _, tc := range []struct{ flag, env, want string }{
		{"(", "", `recorder: -artana.record="(" is not a valid regexp`},
		{"", "[", `recorder: ARTANA_RECORD="[" is not a valid regexp`},
	} {
		setRecordFlag(t, tc.flag)
		t.Setenv(recorder.EnvVar, tc.env)
		tb := newFakeTB(t, "TestBad")
		require.Nil(t, recorder.New(tb, echoModel(), recorder.WithDir(t.TempDir())))
		require.Contains(t, tb.errors(), tc.want)
	}
}

// TestRerecordCommandRuns runs the printed command (with -list, so that it
// only lists the test): go test must accept it, flags and all.
func TestRerecordCommandRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	cmd := exec.Command("sh", "-c", recorder.RerecordCommand("TestRerecordCommand", "./recorder")+" -list .")
	cmd.Dir = ".." // the module root
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	if !strings.Contains(string(out), "TestRerecordCommand\n") {
		t.Errorf("the command did not select the test:\n%s", out)
	}
}
