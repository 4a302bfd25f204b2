package recorder

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"
	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/internal/secrets"
)

// TestPaceStreams: with PaceStreams, replay waits the recorded gap before
// each delta; without, it does not wait.
func TestPaceStreams(t *testing.T) {
	req := llm.Request{Model: "m", Prompt: "p", Messages: []ledger.ChatMessage{{Role: "user", Content: "p"}}}
	in := Interaction{Request: req, Response: llm.Response{OutputJSON: `"abc"`}, Latency: 90 * time.Millisecond, Streamed: true,
		Deltas: []RecordedDelta{{At: 30 * time.Millisecond, Delta: llm.Delta{Text: "a"}}, {At: 30 * time.Millisecond, Delta: llm.Delta{Text: "b"}},
			{At: 80 * time.Millisecond, Delta: llm.Delta{Text: "c"}}}}
	body, err := encodeInteraction(&in)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "paced.cassette")
	if err := cassettes.WriteFile(context.Background(), path, header(), []cassettes.Record{{Type: recordType, Body: body}}); err != nil {
		t.Fatal(err)
	}
	for _, paced := range []bool{false, true} {
		var waits []time.Duration
		opts := []Option{func(c *config) {
			c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
		}}
		if paced {
			opts = append(opts, PaceStreams())
		}
		r, err := Open(path, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		var text string
		if _, err := r.Stream(context.Background(), req, func(d llm.Delta) error { text += d.Text; return nil }); err != nil || text != "abc" {
			t.Fatalf("paced=%v: %q, %v", paced, text, err)
		}
		r.Close()
		var want []time.Duration
		if paced {
			want = []time.Duration{30 * time.Millisecond, 50 * time.Millisecond}
		}
		if !slices.Equal(waits, want) {
			t.Errorf("paced=%v: waits %v, want %v", paced, waits, want)
		}
	}
}

// TestScrubJoined: however a text with secrets is split, the pieces join
// to the scrubbed text and keep their number.
func TestScrubJoined(t *testing.T) {
	texts := []string{
		"my key is sk-proj-Ab3Ab3Ab3Ab3Ab3Ab3Ab3Ab3 and more",
		`{"password": "mellon"}`,
		"sk-proj-Ab3Ab3Ab3Ab3Ab3Ab3Ab3Ab3",
		"no secret here",
		"a Bearer abcdefghijklmnop b api_key=xyz12345",
	}
	for _, text := range texts {
		for cut1 := 0; cut1 <= len(text); cut1 += 3 {
			for cut2 := cut1; cut2 <= len(text); cut2 += 5 {
				a, b, c := text[:cut1], text[cut1:cut2], text[cut2:]
				pieces := []*string{&a, &b, &c}
				scrubJoined(pieces)
				if got, want := a+b+c, secrets.Redact(text); got != want {
					t.Fatalf("%q cut at %d,%d: joined %q, want %q", text, cut1, cut2, got, want)
				}
			}
		}
	}
}
