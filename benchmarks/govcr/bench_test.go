package govcr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/artana-go/go-artana/artana/ledger"
	"github.com/artana-go/go-artana/artana/llm"

	"github.com/artana-go/go-artana/artana"
	"github.com/artana-go/go-artana/openai"
	"github.com/artana-go/go-artana/recorder"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	vcr "gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// The recorded test: 50 structured chat completions, each a system
// message and a distinct 300-byte user message, strict json_schema output,
// temperature 0.
const (
	calls   = 50
	model   = "gpt-4o-2024-08-06"
	baseURL = "https://api.openai.com/v1/"
	system  = "You are a student taking a math exam."
)

// Answer is the structured output.
type Answer struct {
	FinalAnswer string `json:"final_answer"`
}

// answerSchema is Answer's strict schema, as artana sends it.
var answerSchema = map[string]any{
	"type":                 "object",
	"properties":           map[string]any{"final_answer": map[string]any{"type": "string"}},
	"required":             []string{"final_answer"},
	"additionalProperties": false,
}

var ctx = context.Background()

// userMessage returns the i-th user message, 300 bytes.
func userMessage(i int) string {
	s := fmt.Sprintf("Problem %03d. Solve 2 + 2 and answer with the number only. ", i)
	return (s + strings.Repeat("Show no working; the examiner reads the final answer alone. ", 6))[:300]
}

// fixture answers every request with the recorded response body, without
// a network.
type fixture struct{ body []byte }

func (f fixture) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(f.body)),
		ContentLength: int64(len(f.body)),
		Request:       r,
	}, nil
}

func loadFixture(tb testing.TB) fixture {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "openai-chat-json-schema.json"))
	if err != nil {
		tb.Fatal(err)
	}
	return fixture{body}
}

// artanaTest is the agent test as written with artana: 50 model steps
// through a kernel on an in-memory store.
func artanaTest(m llm.Model) error {
	k := artana.New(ledger.NewMemStore(), m)
	run, err := k.StartRun(ctx, artana.Tenant{ID: "acme"}, "run-1")
	if err != nil {
		return err
	}
	zero := 0.0
	for i := range calls {
		res, err := artana.StepModel[Answer](ctx, k, run, artana.ModelStep{
			Model:    model,
			Messages: []ledger.ChatMessage{{Role: "system", Content: system}, {Role: "user", Content: userMessage(i)}},
			Options:  llm.Options{Temperature: &zero},
		})
		if err != nil {
			return err
		}
		if res.Output.FinalAnswer != "4" {
			return fmt.Errorf("call %d: answer %q", i, res.Output.FinalAnswer)
		}
	}
	return nil
}

// liveModel is artana's OpenAI model on the fixture.
func liveModel(tb testing.TB, rt http.RoundTripper) *openai.Model {
	tb.Helper()
	m, err := openai.New(openai.WithBaseURL(baseURL), openai.WithAPIKey("sk-bench"),
		openai.WithHTTPClient(&http.Client{Transport: rt}), openai.WithRetries(0, time.Millisecond, time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// recordArtana records the test into an artana cassette and returns its path.
func recordArtana(tb testing.TB, f fixture) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "agent.cassette")
	rec, err := recorder.Open(path, liveModel(tb, f), recorder.WithMode(recorder.Record))
	if err != nil {
		tb.Fatal(err)
	}
	if err := artanaTest(rec); err != nil {
		tb.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// replayArtana is one replay of the recorded test: open the cassette,
// run the test, close (the strict check that every interaction was used).
func replayArtana(path string) error {
	rec, err := recorder.Open(path, nil)
	if err != nil {
		return err
	}
	if err := artanaTest(rec); err != nil {
		return err
	}
	return rec.Close()
}

// vcrTest is the same test as written with openai-go directly, as a
// go-vcr user writes it.
func vcrTest(client oai.Client) error {
	for i := range calls {
		cc, err := client.Chat.Completions.New(ctx, oai.ChatCompletionNewParams{
			Model: model,
			Messages: []oai.ChatCompletionMessageParamUnion{
				oai.SystemMessage(system), oai.UserMessage(userMessage(i)),
			},
			ResponseFormat: oai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
				JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "Answer", Schema: answerSchema, Strict: oai.Bool(true)},
			}},
			Temperature: oai.Float(0),
		})
		if err != nil {
			return err
		}
		var a Answer
		if err := json.Unmarshal([]byte(cc.Choices[0].Message.Content), &a); err != nil {
			return err
		}
		if a.FinalAnswer != "4" {
			return fmt.Errorf("call %d: answer %q", i, a.FinalAnswer)
		}
	}
	return nil
}

// vcrOptions are go-vcr's options for both recording and replay: the
// request latency is not replayed (it would only add sleeps), and the
// authorization header is neither matched nor saved.
func vcrOptions(mode vcr.Mode, rt http.RoundTripper) []vcr.Option {
	return []vcr.Option{
		vcr.WithMode(mode),
		vcr.WithRealTransport(rt),
		vcr.WithSkipRequestLatency(true),
		vcr.WithMatcher(cassette.NewDefaultMatcher(cassette.WithIgnoreAuthorization())),
		vcr.WithHook(func(i *cassette.Interaction) error {
			delete(i.Request.Headers, "Authorization")
			return nil
		}, vcr.BeforeSaveHook),
	}
}

func vcrClient(r *vcr.Recorder) oai.Client {
	return oai.NewClient(option.WithBaseURL(baseURL), option.WithAPIKey("sk-bench"),
		option.WithHTTPClient(r.GetDefaultClient()), option.WithMaxRetries(0))
}

// recordVCR records the openai-go test with go-vcr and returns the
// cassette's name.
func recordVCR(tb testing.TB, f fixture) string {
	tb.Helper()
	name := filepath.Join(tb.TempDir(), "agent")
	r, err := vcr.New(name, vcrOptions(vcr.ModeRecordOnly, f)...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := vcrTest(vcrClient(r)); err != nil {
		tb.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		tb.Fatal(err)
	}
	return name
}

// replayVCR is one go-vcr replay of the openai-go test.
func replayVCR(name string) error {
	r, err := vcr.New(name, vcrOptions(vcr.ModeReplayOnly, failing{})...)
	if err != nil {
		return err
	}
	if err := vcrTest(vcrClient(r)); err != nil {
		return err
	}
	return r.Stop()
}

// recordVCRKernel records the artana test over go-vcr: the kernel and
// artana's OpenAI model, with HTTP replayed by go-vcr instead of the
// recorder.
func recordVCRKernel(tb testing.TB, f fixture) string {
	tb.Helper()
	name := filepath.Join(tb.TempDir(), "kernel")
	r, err := vcr.New(name, vcrOptions(vcr.ModeRecordOnly, f)...)
	if err != nil {
		tb.Fatal(err)
	}
	if err := artanaTest(liveModel(tb, r)); err != nil {
		tb.Fatal(err)
	}
	if err := r.Stop(); err != nil {
		tb.Fatal(err)
	}
	return name
}

func replayVCRKernel(tb testing.TB, name string) error {
	r, err := vcr.New(name, vcrOptions(vcr.ModeReplayOnly, failing{})...)
	if err != nil {
		return err
	}
	if err := artanaTest(liveModel(tb, r)); err != nil {
		return err
	}
	return r.Stop()
}

// failing is the transport in replay: nothing reaches it.
type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("replay reached the network")
}

// TestReplays records the test both ways and replays each recording, so
// that the benchmarks measure replays that work.
func TestReplays(t *testing.T) {
	f := loadFixture(t)
	if err := replayArtana(recordArtana(t, f)); err != nil {
		t.Errorf("artana replay: %v", err)
	}
	if err := replayVCR(recordVCR(t, f)); err != nil {
		t.Errorf("go-vcr replay: %v", err)
	}
	if err := replayVCRKernel(t, recordVCRKernel(t, f)); err != nil {
		t.Errorf("go-vcr replay through the kernel: %v", err)
	}
}

// BenchmarkReplay50 replays the 50-call test through artana (recorder
// and kernel on an in-memory store) and through go-vcr (openai-go on
// go-vcr's HTTP client), alternating the two in every iteration so that
// both see the same machine load. It reports the median time of one test
// each way and their ratio, govcr-x: how many times faster artana's
// replay is.
func BenchmarkReplay50(b *testing.B) {
	f := loadFixture(b)
	artanaPath, vcrName := recordArtana(b, f), recordVCR(b, f)
	var ta, tv []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := replayArtana(artanaPath); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := replayVCR(vcrName); err != nil {
			b.Fatal(err)
		}
		ta, tv = append(ta, mid.Sub(start)), append(tv, time.Since(mid))
	}
	ma, mv := median(ta), median(tv)
	b.ReportMetric(float64(ma)/1e6, "artana-ms")
	b.ReportMetric(float64(mv)/1e6, "govcr-ms")
	b.ReportMetric(float64(mv)/float64(ma), "govcr-x")
}

// BenchmarkReplay50Kernel is the same comparison with the same agent code
// on both sides: the kernel and artana's OpenAI model, replayed by the
// recorder or by go-vcr under the model's HTTP client.
func BenchmarkReplay50Kernel(b *testing.B) {
	f := loadFixture(b)
	artanaPath, vcrName := recordArtana(b, f), recordVCRKernel(b, f)
	var ta, tv []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := replayArtana(artanaPath); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := replayVCRKernel(b, vcrName); err != nil {
			b.Fatal(err)
		}
		ta, tv = append(ta, mid.Sub(start)), append(tv, time.Since(mid))
	}
	ma, mv := median(ta), median(tv)
	b.ReportMetric(float64(ma)/1e6, "artana-ms")
	b.ReportMetric(float64(mv)/1e6, "govcr-ms")
	b.ReportMetric(float64(mv)/float64(ma), "govcr-x")
}

// BenchmarkArtanaReplay50 and BenchmarkGoVCRReplay50 are the two sides
// alone, for profiles.
func BenchmarkArtanaReplay50(b *testing.B) {
	path := recordArtana(b, loadFixture(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := replayArtana(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGoVCRReplay50(b *testing.B) {
	name := recordVCR(b, loadFixture(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := replayVCR(name); err != nil {
			b.Fatal(err)
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
