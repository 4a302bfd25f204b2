package cassettes_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/google/go-cmp/cmp"
)

func interactions() []cassettes.Record {
	return []cassettes.Record{
		{Type: "interaction", Body: json.RawMessage(`{"request": {"model": "m", "prompt": "héllo"}, "latency_ms": 12}`)},
		{Type: "interaction", Body: json.RawMessage(`{"error": {"class": "rate_limit"}}`)},
	}
}

func TestWriteFileReadAllRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.jsonl")
	h := cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"model": "m"}}
	if err := cassettes.WriteFile(ctx, path, h, interactions()); err != nil {
		t.Fatal(err)
	}
	got, recs, err := cassettes.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	wantH := cassettes.Header{Version: cassettes.Version, Kind: cassettes.KindInteractions, Meta: map[string]string{"model": "m"}}
	if d := cmp.Diff(wantH, got); d != "" {
		t.Errorf("header (-want +got):\n%s", d)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	if want := `{"latency_ms":12,"request":{"model":"m","prompt":"h\u00e9llo"}}`; string(recs[0].Body) != want {
		t.Errorf("body = %s, want %s", recs[0].Body, want)
	}
	type link struct {
		Line int
		Prev string
	}
	wantChain := []link{{2, ""}, {3, recs[0].Hash}}
	if d := cmp.Diff(wantChain, []link{{recs[0].Line, recs[0].Prev}, {recs[1].Line, recs[1].Prev}}); d != "" {
		t.Errorf("chain (-want +got):\n%s", d)
	}

	a, err := cassettes.OpenAppender(ctx, path, h)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 2 {
		t.Errorf("Len = %d, want 2", a.Len())
	}
	if err := a.Append(cassettes.Record{Type: "interaction", Body: json.RawMessage(`{"n":3}`)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Append(cassettes.Record{Type: "end", Body: json.RawMessage(`{}`)}); !errors.Is(err, cassettes.ErrUnknownType) {
		t.Errorf("Append of a reserved type: %v, want ErrUnknownType", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cassettes.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("read %d records after append, want 3", n)
	}
}
