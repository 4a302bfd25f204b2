package openai

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// An Option configures a Model built by New.
type Option func(*config)

type config struct {
	client     *oai.Client
	clientOpts []option.RequestOption
	apiKey     string // only to scrub it from messages; the client sends it
	baseURL    string // as WithBaseURL gave it, for CheckConfig; the client uses it
	opaque     bool   // WithClient or WithRequestOptions: CheckConfig cannot tell what they set

	maxRetries     int
	initialBackoff time.Duration
	maxBackoff     time.Duration
	attemptTimeout time.Duration
	maxRetryAfter  time.Duration
	sleep          func(ctx context.Context, d time.Duration) error
	jitter         func(backoff time.Duration) time.Duration

	prices            map[string]Price
	failOnUnknownCost bool

	strictOutput    bool
	strictTools     *bool
	legacyMaxTokens bool

	logger *slog.Logger

	scrubOutputs bool
}

// Defaults of the retry policy. The first three match the Python original's
// LiteLLMAdapter.
const (
	// DefaultMaxRetries is how many times a transient failure is retried.
	DefaultMaxRetries = 2
	// DefaultInitialBackoff is the wait before the first retry, doubled for
	// each retry after it.
	DefaultInitialBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps the doubled backoff.
	DefaultMaxBackoff = 2 * time.Second
	// DefaultAttemptTimeout bounds one attempt; a timed-out attempt is retried.
	DefaultAttemptTimeout = 30 * time.Second
	// DefaultMaxRetryAfter is the longest Retry-After the Model waits for;
	// a longer one returns the transient error at once, its RetryAfter set.
	DefaultMaxRetryAfter = time.Minute
)

func defaultConfig() config {
	return config{
		maxRetries:     DefaultMaxRetries,
		initialBackoff: DefaultInitialBackoff,
		maxBackoff:     DefaultMaxBackoff,
		attemptTimeout: DefaultAttemptTimeout,
		maxRetryAfter:  DefaultMaxRetryAfter,
		sleep:          sleepContext,
		jitter:         equalJitter,
		strictOutput:   true,
	}
}

// WithClient makes the Model send its requests through the given,
// already configured openai-go client instead of building one. Options
// that configure a built client (WithBaseURL, WithAPIKey, WithHTTPClient,
// WithRequestOptions) then apply per request, on top of the client's own.
// The client's own retries are turned off per request: the Model's retry
// policy is the only one.
func WithClient(c oai.Client) Option {
	return func(cfg *config) { cfg.client, cfg.opaque = &c, true }
}

// WithBaseURL sets the endpoint's base URL, e.g. "http://localhost:11434/v1/"
// for Ollama or "http://localhost:8000/v1/" for vLLM. Without it the
// client uses OPENAI_BASE_URL, or OpenAI's API.
func WithBaseURL(url string) Option {
	return func(cfg *config) {
		cfg.baseURL = url
		cfg.clientOpts = append(cfg.clientOpts, option.WithBaseURL(url))
	}
}

// WithAPIKey sets the API key. Without it the client uses OPENAI_API_KEY.
// The key is sent as a bearer token and never appears in an error or log
// line of this package.
func WithAPIKey(key string) Option {
	return func(cfg *config) {
		cfg.apiKey = key
		cfg.clientOpts = append(cfg.clientOpts, option.WithAPIKey(key))
	}
}

// WithHTTPClient sets the HTTP client the requests go through.
func WithHTTPClient(c *http.Client) Option {
	return func(cfg *config) { cfg.clientOpts = append(cfg.clientOpts, option.WithHTTPClient(c)) }
}

// WithRequestOptions adds openai-go request options, e.g. headers an
// OpenRouter or LiteLLM proxy wants. They apply after the Model's own.
func WithRequestOptions(opts ...option.RequestOption) Option {
	return func(cfg *config) {
		cfg.opaque = true
		cfg.clientOpts = append(cfg.clientOpts, opts...)
	}
}

// WithRetries sets how many times a transient or timed-out call is retried
// (0 turns retries off) and the exponential backoff between attempts: the
// n-th retry waits about initial·2ⁿ⁻¹, at most max, with jitter, unless
// the endpoint's Retry-After says otherwise. Invalid values (negative
// count, non-positive durations) make New fail.
func WithRetries(maxRetries int, initial, max time.Duration) Option {
	return func(cfg *config) {
		cfg.maxRetries, cfg.initialBackoff, cfg.maxBackoff = maxRetries, initial, max
	}
}

// WithAttemptTimeout bounds each attempt; a timed-out attempt is retried
// like a transient failure. 0 leaves attempts bounded only by the caller's
// context. The default is DefaultAttemptTimeout.
func WithAttemptTimeout(d time.Duration) Option {
	return func(cfg *config) { cfg.attemptTimeout = d }
}

// WithMaxRetryAfter sets the longest Retry-After the Model waits for
// before retrying (DefaultMaxRetryAfter by default). When an endpoint asks
// for a longer wait, Complete returns the transient *llm.Error at
// once, with RetryAfter set, so that the caller decides.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *config) { c.maxRetryAfter = d }
}

// WithSleep replaces the function that waits between attempts. It must
// return ctx.Err() if ctx ends first. Tests use it to run retries without
// waiting.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(cfg *config) { cfg.sleep = sleep }
}

// WithJitter replaces the function that turns a backoff into the actual
// wait. The default waits a random duration in [backoff/2, backoff].
func WithJitter(jitter func(backoff time.Duration) time.Duration) Option {
	return func(cfg *config) { cfg.jitter = jitter }
}

// WithPrices adds prices to the built-in table or overrides its entries,
// keyed by model name. A model priced at zero (Price{}) counts as known,
// which is how local models are declared free.
func WithPrices(prices map[string]Price) Option {
	return func(cfg *config) {
		if cfg.prices == nil {
			cfg.prices = make(map[string]Price, len(prices))
		}
		for k, v := range prices {
			cfg.prices[k] = v
		}
	}
}

// WithFailOnUnknownCost makes a call whose model has no price fail with a
// permanent ModelError instead of reporting a cost of zero, as the Python original's
// fail_on_unknown_cost does.
func WithFailOnUnknownCost(fail bool) Option {
	return func(cfg *config) { cfg.failOnUnknownCost = fail }
}

// WithStrictOutput sets whether structured output is requested in strict
// mode (the default). In strict mode the output schema is adapted to what
// OpenAI requires (see StrictSchema). Servers that reject strict schemas
// may need it off.
func WithStrictOutput(strict bool) Option {
	return func(cfg *config) { cfg.strictOutput = strict }
}

// WithStrictTools sends "strict": strict in every function definition;
// strict tool schemas are adapted like the output schema. Without this
// option the field is left out and the provider's default (not strict)
// applies.
func WithStrictTools(strict bool) Option {
	return func(cfg *config) { cfg.strictTools = &strict }
}

// WithLegacyMaxTokens sends ModelOptions.MaxTokens as "max_tokens" instead
// of "max_completion_tokens", for servers that only know the older field.
// OpenAI's reasoning models reject "max_tokens".
func WithLegacyMaxTokens() Option {
	return func(cfg *config) { cfg.legacyMaxTokens = true }
}

// WithOutputScrubbing makes the Model scrub whatever looks like a
// credential (an sk-... key, a bearer token, an "api_key": value, a JWT,
// ...) from its successful answers too, before the kernel logs them or a
// recorder writes them: the output, tool call arguments, every field of
// the body. Without it, a successful answer is scrubbed only of the
// secrets the request carried (the configured key and the values of the
// Authorization, api-key, x-api-key and extra headers), which the Model
// always removes, and error answers of everything that looks like one.
//
// It changes what the model said: a key-shaped string the model was asked
// to produce (a sample key, a test fixture) reaches the log as
// [REDACTED], and a test replaying the run sees the same.
func WithOutputScrubbing() Option {
	return func(cfg *config) { cfg.scrubOutputs = true }
}

// WithLogger makes the Model log each retry at level Warn. Log lines carry
// the class, status and scrubbed message, never credentials.
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) { cfg.logger = l }
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func equalJitter(backoff time.Duration) time.Duration {
	if backoff <= 1 {
		return backoff
	}
	half := backoff / 2
	return half + rand.N(backoff-half+1)
}
