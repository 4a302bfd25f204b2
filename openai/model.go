package openai

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/artana-go/go-artana/artana/llm"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Model is an llm.Model that calls an OpenAI-compatible Chat
// Completions endpoint. It is safe for concurrent use.
type Model struct {
	client  oai.Client
	reqOpts []option.RequestOption
	cfg     config
	prices  map[string]Price
	scrub   scrubber
	now     func() time.Time
}

var _ llm.Model = (*Model)(nil)

// New returns a Model configured by opts. Without WithClient it builds an
// openai-go client that reads OPENAI_API_KEY and OPENAI_BASE_URL from the
// environment, then applies WithBaseURL, WithAPIKey, WithHTTPClient and
// WithRequestOptions. New fails only on invalid options.
func New(opts ...Option) (*Model, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	switch {
	case cfg.maxRetries < 0:
		return nil, fmt.Errorf("openai.New: retries must be >= 0, got %d", cfg.maxRetries)
	case cfg.initialBackoff <= 0 || cfg.maxBackoff <= 0:
		return nil, fmt.Errorf("openai.New: backoff durations must be > 0, got initial %v, max %v", cfg.initialBackoff, cfg.maxBackoff)
	case cfg.attemptTimeout < 0:
		return nil, fmt.Errorf("openai.New: attempt timeout must be >= 0, got %v", cfg.attemptTimeout)
	case cfg.sleep == nil || cfg.jitter == nil:
		return nil, errors.New("openai.New: WithSleep and WithJitter need a non-nil function")
	}

	m := &Model{cfg: cfg, prices: DefaultPrices(), now: time.Now}
	for k, v := range cfg.prices {
		m.prices[k] = v
	}
	m.scrub = scrubber{secrets: []string{cfg.apiKey, os.Getenv("OPENAI_API_KEY"), os.Getenv("OPENAI_ADMIN_KEY")}}

	// One retry policy: the SDK's own retries are off on every request.
	noRetry := option.WithMaxRetries(0)
	if cfg.client != nil {
		m.client = *cfg.client
		m.reqOpts = append(append(m.reqOpts, cfg.clientOpts...), noRetry)
	} else {
		m.client = oai.NewClient(append(cfg.clientOpts, noRetry)...)
		m.reqOpts = []option.RequestOption{noRetry}
	}
	return m, nil
}

// CheckConfig reports, without any network call, what the Model lacks to
// call its endpoint: an API key when the endpoint is OpenAI's (no
// WithBaseURL and no OPENAI_BASE_URL), or a base URL that is not an
// http(s) URL. Endpoints of one's own (Ollama, vLLM, a proxy) may need no
// key, so a base URL without a key passes. With WithClient or
// WithRequestOptions, which may set either, it checks nothing. Complete
// calls it first, and package recorder calls it before recording, so that
// a missing key is named as such rather than surfacing as a DNS or
// authentication failure.
func (m *Model) CheckConfig() error {
	if m.cfg.opaque {
		return nil
	}
	base, baseFrom := m.cfg.baseURL, "openai.WithBaseURL"
	if base == "" {
		base, baseFrom = os.Getenv("OPENAI_BASE_URL"), "OPENAI_BASE_URL"
	}
	if base != "" {
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("openai: %s=%q is not an http(s) URL; give the endpoint's base URL, e.g. http://localhost:11434/v1/ for Ollama", baseFrom, base)
		}
	}
	if m.cfg.apiKey == "" && os.Getenv("OPENAI_API_KEY") == "" && base == "" {
		return errors.New("openai: OPENAI_API_KEY is not set: the live model calls OpenAI's API (https://api.openai.com/v1/), which needs a key; set OPENAI_API_KEY (or use openai.WithAPIKey), or set OPENAI_BASE_URL for an OpenAI-compatible endpoint that needs none")
	}
	return nil
}

// Complete sends req and returns the model's answer. Transient failures
// (HTTP 408, 409, 429, 5xx, a reset connection) and timed-out attempts are
// retried with exponential backoff and jitter, waiting what Retry-After
// asks when the endpoint says; other failures return at once. Every error
// is a *llm.Error: a refusal has class ClassRefusal, output cut
// off by the token limit ClassTruncated, the caller's deadline
// ClassTimeout.
func (m *Model) Complete(ctx context.Context, req llm.Request) (llm.Response, error) {
	if err := m.CheckConfig(); err != nil {
		return llm.Response{}, &llm.Error{Class: llm.ClassPermanent, Message: "not configured (nothing was sent)", Err: err}
	}
	params, err := m.buildParams(req)
	if err != nil {
		return llm.Response{}, err
	}
	for attempt := 1; ; attempt++ {
		cc, res, err := m.attempt(ctx, params)
		if err == nil {
			return m.response(req, cc)
		}
		if err := m.retryAfterFailure(ctx, req, attempt, m.classify(ctx, err, res)); err != nil {
			return llm.Response{}, err
		}
	}
}

// retryAfterFailure decides, after the failed attempt n (1-based), whether
// to retry: it waits the backoff and returns nil, or returns me, saying
// why it gave up when it is retryable.
func (m *Model) retryAfterFailure(ctx context.Context, req llm.Request, attempt int, me *llm.Error) error {
	attempts := m.cfg.maxRetries + 1
	retryable := me.Class == llm.ClassTransient || me.Class == llm.ClassTimeout
	if ctx.Err() != nil || !retryable {
		return me
	}
	if attempt >= attempts {
		if attempts > 1 {
			me.Message += fmt.Sprintf(" (gave up after %d attempts)", attempts)
		}
		return me
	}
	if me.RetryAfter > m.cfg.maxRetryAfter {
		me.Message += fmt.Sprintf(" (not retried: the endpoint asked to wait %v, more than the %v that openai.WithMaxRetryAfter allows)",
			me.RetryAfter, m.cfg.maxRetryAfter)
		return me
	}
	delay := m.delay(attempt, me.RetryAfter)
	if deadline, ok := ctx.Deadline(); ok && m.now().Add(delay).After(deadline) {
		me.Message += fmt.Sprintf(" (not retried: the next attempt would start after the context deadline, in %v)", delay)
		return me
	}
	if m.cfg.logger != nil {
		m.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "openai: model call failed, retrying",
			slog.String("model", req.Model),
			slog.String("run_id", req.RunID),
			slog.Int("attempt", attempt),
			slog.Int("max_attempts", attempts),
			slog.String("class", string(me.Class)),
			slog.Int("status", me.StatusCode),
			slog.Duration("delay", delay),
			slog.String("error", me.Error()),
		)
	}
	if err := m.cfg.sleep(ctx, delay); err != nil {
		return m.classify(ctx, err, nil)
	}
	return nil
}

// delay is the wait before the attempt after attempt n (1-based): the
// endpoint's Retry-After if it gave one, else initial·2ⁿ⁻¹ capped at max,
// with jitter.
func (m *Model) delay(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	backoff := m.cfg.initialBackoff
	for i := 1; i < n && backoff < m.cfg.maxBackoff; i++ {
		backoff *= 2
	}
	backoff = min(backoff, m.cfg.maxBackoff)
	return max(m.cfg.jitter(backoff), 0)
}

// attempt makes one HTTP call; res is the last response seen, if any.
func (m *Model) attempt(ctx context.Context, params oai.ChatCompletionNewParams) (*oai.ChatCompletion, *http.Response, error) {
	if m.cfg.attemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.attemptTimeout)
		defer cancel()
	}
	var res *http.Response
	opts := append(m.reqOpts[:len(m.reqOpts):len(m.reqOpts)], option.WithResponseInto(&res), m.scrubBody())
	cc, err := m.client.Chat.Completions.New(ctx, params, opts...)
	return cc, res, err
}
