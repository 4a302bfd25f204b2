package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
)

// An interaction the recorder would refuse to replay is an error naming
// the file and line, not a row of zeros.
func TestShowRefusesBadInteraction(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bad.cassette")
	h := cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"recorder": "1"}}
	recs := []cassettes.Record{{Type: "interaction", Body: []byte(`{"request":{"model":"m","prompt":"p","messages":[]},"latency":"soon"}`)}}
	if err := cassettes.WriteFile(ctx, path, h, recs); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"show", "stats"} {
		var stdout, stderr bytes.Buffer
		err := run(ctx, []string{cmd, path}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), path+": line 2: bad interaction latency") {
			t.Errorf("%s of a bad interaction: err %v, want one naming %s: line 2", cmd, err, path)
		}
	}
}
