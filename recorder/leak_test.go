package recorder_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/recorder"
)

const leakedKey = "sk-proj-LeakedByTheModel0123456789abcdef"

// A live model's error or tool call id that holds a credential: the
// recorder's caller gets the error as recorded (scrubbed), and the cassette
// holds neither.
func TestRecorderScrubsWhatLeaves(t *testing.T) {
	n := 0
	live := &fakeModel{CompleteFn: func(context.Context, llm.Request) (llm.Response, error) {
		n++
		if n == 1 {
			return llm.Response{}, &llm.Error{Class: llm.ClassPermanent, StatusCode: 400,
				Message: "Invalid header value: Bearer " + leakedKey}
		}
		return llm.Response{OutputJSON: `{}`, ToolCalls: []ledger.ToolCall{{ID: leakedKey, ToolName: "t", ArgumentsJSON: `{}`}}}, nil
	}}
	path := filepath.Join(t.TempDir(), "c.cassette")
	rec, err := recorder.Open(path, live, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rec.Complete(context.Background(), request("one"))
	var me *llm.Error
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

// A Transport records no value of the request's secret headers, even when
// the endpoint echoes them in its answer, streamed or not; the client
// reads the answer scrubbed too.
func TestTransportScrubsEchoedHeaders(t *testing.T) {
	const token, extra = "tok-NotKeyShaped-0123456789", "org-extra-header-value-42"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo := r.Header.Get("Authorization") + " | " + r.Header.Get("X-Org-Token")
		if strings.Contains(r.URL.Path, "stream") {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {\"echo\":%q}\n\ndata: [DONE]\n\n", echo)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"echo":%q,"token":%q}`, echo, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "t.cassette")
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, p := range []string{"/v1/plain", "/v1/stream"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+p, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Org-Token", extra)
		resp, err := tr.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		read = append(read, string(b))
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{token, extra} {
		if strings.Contains(string(data), s) {
			t.Errorf("the cassette holds %s:\n%s", s, data)
		}
		for _, r := range read {
			if strings.Contains(r, s) {
				t.Errorf("the client read %s: %s", s, r)
			}
		}
	}
	if !strings.Contains(string(data), "[REDACTED]") {
		t.Errorf("the cassette holds no [REDACTED]: the echo did not reach it:\n%s", data)
	}
}
