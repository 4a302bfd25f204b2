package cassettes_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/artana-go/go-artana/cassettes"
)

// A recorder-style user writes records of its own type and reads them back.
func Example() {
	dir, _ := os.MkdirTemp("", "cassette")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "triage.jsonl")
	ctx := context.Background()

	a, err := cassettes.OpenAppender(ctx, path, cassettes.Header{Kind: cassettes.KindInteractions, Meta: map[string]string{"model": "gpt-x"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	a.Append(cassettes.Record{Type: "interaction", Body: []byte(`{"request": {"prompt": "hi"}, "response": {"output": "hello"}, "latency_ms": 42}`)})
	a.Close()

	r, err := cassettes.OpenReader(path, cassettes.RecordTypes("interaction"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("line %d: %s %s\n", rec.Line, rec.Type, rec.Body)
	}
	data, _ := os.ReadFile(path)
	fmt.Print(string(data))
	// Output:
	// line 2: interaction {"latency_ms":42,"request":{"prompt":"hi"},"response":{"output":"hello"}}
	// {"format":"artana-cassette","version":1,"kind":"interactions","meta":{"model":"gpt-x"}}
	// {"type":"interaction","prev":"","hash":"8256bfb596597820abbb2d10ead4ac59e34d8879bbdc7d3e3d9a966083470fdc","body":{"latency_ms":42,"request":{"prompt":"hi"},"response":{"output":"hello"}}}
	// {"type":"end","prev":"8256bfb596597820abbb2d10ead4ac59e34d8879bbdc7d3e3d9a966083470fdc","hash":"26ecdca69aa6a5a294aa79a65dbcde92ff0325e0fcb94b79cb9db505031f1d3e","body":{"header":"213b83b67519d394ff629eacac4a8d75a8fdd2b925279b6e3373c8a7e882ab25","records":1}}
}
