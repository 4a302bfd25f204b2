package recorder_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/recorder"
)

const leakedKey = "sk-proj-LeakedByTheModel0123456789abcdef"

// A live model's error or tool call id that holds a credential: the
// recorder's caller gets the error as recorded (scrubbed), and the cassette
// holds neither.
func TestRecorderScrubsWhatLeaves(t *testing.T) {
	n := 0
	live := &fakeModel{CompleteFn: func(context.Context, artana.ModelRequest) (artana.ModelResponse, error) {
		n++
		if n == 1 {
			return artana.ModelResponse{}, &artana.ModelError{Class: artana.ClassPermanent, StatusCode: 400,
				Message: "Invalid header value: Bearer " + leakedKey}
		}
		return artana.ModelResponse{OutputJSON: `{}`, ToolCalls: []artana.ToolCall{{ID: leakedKey, ToolName: "t", ArgumentsJSON: `{}`}}}, nil
	}}
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rec.Complete(context.Background(), request("one"))
	var me *artana.ModelError
	if err == nil || strings.Contains(err.Error(), leakedKey) || !errors.As(err, &me) || me.StatusCode != 400 {
		t.Errorf("recorded call: err = %v, want the ModelError without the key", err)
	}
	if _, err := rec.Complete(context.Background(), request("two")); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), leakedKey) {
		t.Errorf("the cassette holds the key:\n%s", data)
	}
}
