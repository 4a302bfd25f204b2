package recorder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/recorder"
	"github.com/stretchr/testify/require"
)

func TestRecording(t *testing.T) {
	for _, tc := range []struct {
		name, flag, env string
		want            bool
		wantErr         string
	}{
		{"neither", "", "", false, ""},
		{"flag", "^TestX$", "", true, ""},
		{"flag, other test", "^TestY$", "", false, ""},
		{"env", "", "TestX", true, ""},
		{"flag wins over env", "^TestY$", "TestX", false, ""},
		{"bad flag", "(", "", false, `-artana.record="(" is not a valid regexp`},
		{"bad env", "", "[", false, `ARTANA_RECORD="[" is not a valid regexp`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setRecordFlag(t, tc.flag)
			t.Setenv(recorder.EnvVar, tc.env)
			got, err := recorder.Recording("TestX")
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// unconfigured is a live model that says what it lacks, as *openai.Model
// does without a key, and fails the test if it is called.
type unconfigured struct{ t *testing.T }

func (u unconfigured) CheckConfig() error {
	return errors.New("openai: OPENAI_API_KEY is not set")
}

func (u unconfigured) Complete(context.Context, llm.Request) (llm.Response, error) {
	u.t.Errorf("the live model was called")
	return llm.Response{}, errors.New("called")
}

// TestRecordChecksConfig: record mode asks the live model what it lacks
// before any call, and says it; nothing is called or written.
func TestRecordChecksConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.cassette")
	_, err := recorder.Open(path, unconfigured{t}, recorder.WithMode(recorder.Record))
	require.ErrorContains(t, err, "OPENAI_API_KEY is not set")
	require.ErrorContains(t, err, "nothing was called")
	_, statErr := os.Stat(path)
	require.ErrorIs(t, statErr, os.ErrNotExist)

	// With New and the record switch, the test fails with that message.
	setRecordFlag(t, "^TestNew$")
	tb := newFakeTB(t, "TestNew")
	require.Nil(t, recorder.New(tb, unconfigured{t}, recorder.WithDir(dir)))
	require.Contains(t, tb.errors(), "OPENAI_API_KEY is not set")

	// RecordMissing replays what matches and checks before the first
	// live call; nothing is recorded.
	recordAt(t, path, "a")
	rec, err := recorder.Open(path, unconfigured{t}, recorder.WithMode(recorder.RecordMissing))
	require.NoError(t, err)
	_, err = rec.Complete(context.Background(), request("a"))
	require.NoError(t, err)
	_, err = rec.Complete(context.Background(), request("b"))
	require.ErrorContains(t, err, "OPENAI_API_KEY is not set")
	require.ErrorContains(t, err, "nothing was called or recorded")
	before, _ := os.ReadFile(path)
	require.NoError(t, rec.Close())
	after, _ := os.ReadFile(path)
	require.Equal(t, string(before), string(after))
}

// TestMissSaysScrubbed: a miss on a request the scrubbers changed says
// so, with the count of changed fields.
func TestMissSaysScrubbed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.cassette")
	recordAt(t, path, "a")
	rec, err := recorder.Open(path, nil, recorder.AllowUnused())
	require.NoError(t, err)
	defer rec.Close()
	req := request("my key is sk-abcdefghijklmnopqrstuvwxyz1234")
	_, err = rec.Complete(context.Background(), req)
	var miss *recorder.MissError
	require.ErrorAs(t, err, &miss)
	require.Equal(t, 2, miss.Scrubbed) // the prompt and the user message
	require.Contains(t, err.Error(), "the recorder's scrubbers changed 2 text fields of the request before matching")

	_, err = rec.Complete(context.Background(), request("nothing secret"))
	require.ErrorAs(t, err, &miss)
	require.Zero(t, miss.Scrubbed)
	require.NotContains(t, err.Error(), "scrubbers changed")
}
