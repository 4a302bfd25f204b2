package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/artana-go/go-artana/cassettes"
	"github.com/artana-go/go-artana/recorder"
)

// fakeKey is the API key every client sends; no cassette may hold it.
const fakeKey = "sk-proj-FAKEfakeFAKEfake0123456789abcdefghij"

// wireDir holds the real wire bodies the server serves.
var wireDir = filepath.Join("..", "openai", "testdata", "wire")

// A scenario is one exchange of a client with the model: the bodies the
// server answers with, in order, and the client code, which returns what
// the client parsed. prompt is the user's text: changing one word of it
// must give a typed miss in replay.
type scenario struct {
	name      string
	responses []string
	prompt    string
	run       func(ctx context.Context, client *http.Client, baseURL, prompt string) (any, error)
	// hidesErrors says the client replaces a transport's error by a text
	// of its own (langchaingo: "network error: failed to reach API
	// server"), so that the miss report is seen only in the Transport's
	// Close (and in the test's failure, with NewTransport).
	hidesErrors bool
}

// serve answers the requests with the bodies of the files, in order.
func serve(t *testing.T, files []string) (*httptest.Server, *[][]byte) {
	t.Helper()
	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(got)
		got = append(got, body)
		mu.Unlock()
		if n >= len(files) {
			http.Error(w, fmt.Sprintf("unexpected request %d: %s", n+1, body), http.StatusTeapot)
			return
		}
		b, err := os.ReadFile(wirePath(files[n]))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if strings.HasSuffix(files[n], ".sse") {
			w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("X-Request-Id", "req_"+strings.TrimSuffix(files[n], filepath.Ext(files[n])))
		w.Header().Set("Request-Id", "req_"+strings.TrimSuffix(files[n], filepath.Ext(files[n])))
		w.Header().Set("Set-Cookie", "session="+fakeKey)
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

// conform records sc against the server, replays it with the server
// stopped, and checks that the client parsed the same thing both times,
// that the cassette holds no key, and that one changed word of the prompt
// is a typed miss.
func conform(t *testing.T, sc scenario) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cassette")
	srv, sent := serve(t, sc.responses)
	baseURL := srv.URL + "/v1"
	live := recordLive(t, sc, path, baseURL)
	srv.Close()
	if len(*sent) != len(sc.responses) {
		t.Fatalf("the client made %d calls, want %d", len(*sent), len(sc.responses))
	}
	for i, body := range *sent {
		if !bytes.Contains(body, []byte(sc.prompt)) && i == 0 {
			t.Errorf("the first request does not hold the prompt %q: %s", sc.prompt, body)
		}
	}
	checkCassette(t, path)
	checkReplay(t, sc, path, baseURL, live)
	checkMiss(t, sc, path, baseURL)
}

// recordLive runs sc against the server at baseURL through a Transport
// recording to path, and returns what the client parsed.
func recordLive(t *testing.T, sc scenario, path, baseURL string) any {
	t.Helper()
	tr, err := recorder.OpenTransport(path, nil, recorder.WithMode(recorder.Record))
	if err != nil {
		t.Fatal(err)
	}
	live, err := sc.run(context.Background(), tr.Client(), baseURL, sc.prompt)
	if err != nil {
		t.Fatalf("live: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return live
}

// checkCassette checks that the cassette at path holds no API key and that
// every call was understood: recorded as a typed request.
func checkCassette(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(fakeKey)) || bytes.Contains(raw, []byte("FAKEfake")) {
		t.Errorf("the cassette holds the API key")
	}
	_, recs, err := cassettes.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		e, err := recorder.DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		if in := e.Interaction; in.HTTP == nil || in.HTTP.API == "" || in.Request.Model == "" {
			t.Errorf("line %d was recorded as plain HTTP, not understood: %+v", rec.Line, in.HTTP)
		}
	}
}

// checkReplay replays sc from the cassette at path, with the server
// stopped, and checks that the client parsed what it parsed live.
func checkReplay(t *testing.T, sc scenario, path, baseURL string, live any) {
	t.Helper()
	tr, err := recorder.OpenTransport(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	replayed, err := sc.run(context.Background(), tr.Client(), baseURL, sc.prompt)
	if err != nil {
		t.Fatalf("replay with the server stopped: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("replay: %v", err)
	}
	if !reflect.DeepEqual(live, replayed) {
		l, _ := json.MarshalIndent(live, "", " ")
		r, _ := json.MarshalIndent(replayed, "", " ")
		t.Errorf("the client parsed another answer in replay:\nlive:     %s\nreplayed: %s", l, r)
	}
}

// checkMiss replays sc from the cassette at path with one word of the
// prompt changed: the miss names the message and its two texts, in the
// Transport's report and, for a client that passes a transport's error on,
// in the client's error.
func checkMiss(t *testing.T, sc scenario, path, baseURL string) {
	t.Helper()
	words := strings.Fields(sc.prompt)
	changed := strings.Replace(sc.prompt, words[len(words)-1], "changed", 1)
	tr, err := recorder.OpenTransport(path, nil, recorder.AllowUnused())
	if err != nil {
		t.Fatal(err)
	}
	_, clientErr := sc.run(context.Background(), tr.Client(), baseURL, changed)
	if clientErr == nil {
		t.Fatal("a changed prompt replayed without error")
	}
	closeErr := tr.Close()
	var miss *recorder.MissError
	if !errors.As(closeErr, &miss) {
		t.Fatalf("Close = %v, want the *MissError", closeErr)
	}
	report := []string{"no recorded interaction matches the request", ".Content:", fmt.Sprintf("-%q", sc.prompt), fmt.Sprintf("+%q", changed), "re-record with:"}
	for _, want := range report {
		if !strings.Contains(miss.Error(), want) {
			t.Errorf("the miss report lacks %q:\n%v", want, miss)
		}
	}
	if sc.hidesErrors {
		t.Logf("the client's own error: %v", clientErr)
		return
	}
	for _, want := range report {
		if !strings.Contains(clientErr.Error(), want) {
			t.Errorf("the client's error lacks %q:\n%v", want, clientErr)
		}
	}
}

// wirePath returns where a wire fixture is: the OpenAI ones in the openai
// package's testdata, the Anthropic ones in the recorder's.
func wirePath(name string) string {
	if strings.HasPrefix(name, "anthropic-") {
		return filepath.Join("..", "recorder", "testdata", "wire", name)
	}
	return filepath.Join(wireDir, name)
}
