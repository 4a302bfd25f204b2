package recorder_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/artana-go/go-artana/recorder"
)

// An agent's own HTTP client records its calls once, then replays them
// with the endpoint gone. In a test, recorder.NewTransport(t, nil) does
// the same, with the mode chosen by -artana.record.
func ExampleOpenTransport() {
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"Hello!"}}]}`)
	}))
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "agent.cassette")
	call := func(client *http.Client) {
		req, _ := http.NewRequest("POST", endpoint.URL+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}`))
		req.Header.Set("Authorization", "Bearer sk-never-written-0123456789")
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, string(body))
	}

	tr, _ := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	call(tr.Client())
	tr.Close()
	endpoint.Close()

	tr, _ = recorder.OpenTransport(path, nil) // Replay
	call(tr.Client())
	fmt.Println(tr.Close())
	// Output:
	// 200 {"choices":[{"message":{"role":"assistant","content":"Hello!"}}]}
	// 200 {"choices":[{"message":{"role":"assistant","content":"Hello!"}}]}
	// <nil>
}
